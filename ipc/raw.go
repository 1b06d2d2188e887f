package ipc

import (
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

// ReplyRecvFS is the server loop's system call for the file-system server: the core writes
// each call to endpoint abi.FSEndpoint as a whole abi.FSRequest (the message, then its
// paths), more than a Msg holds, so the server receives into one. It sends req.Msg as the
// reply to the call this thread received last (none on the first call: the core then only
// receives) and waits for the next call into req. The calling goroutine must stay on its OS
// thread (runtime.LockOSThread): the core sends a reply back through the thread that received
// the call. An error means req holds no new call. A caller that gave up before the reply
// is no error: the core drops the reply and receives the next call.
func (e *Endpoint) ReplyRecvFS(req *abi.FSRequest) error {
	_, _, errno := syscall.Syscall(sysReplyRecv, e.handle, uintptr(unsafe.Pointer(req)), 0)
	return errnoErr(errno)
}

// GrantOf returns the pages lent with a received call (nil if none), writable only if
// m.GrantPages carries abi.GrantWrite. Like Msg.Grant it is valid until the reply.
func GrantOf(m *abi.Message) []byte {
	return (*Msg)(m).Grant()
}
