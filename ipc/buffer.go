package ipc

import (
	"runtime"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

// IPC buffers (docs/ipc.md): a page of a thread's own memory that the core keeps pinned, so a
// call or a reply carries up to a page of bytes with one copy in the core — no page lent and
// taken back per call, as a grant is. The buffer belongs to the OS thread that registered it:
// the goroutine using it must stay on that thread (runtime.LockOSThread; ServeBuffer locks).

// BufferSize is the most bytes a call or a reply carries in IPC buffers.
const BufferSize = abi.IPCBufferSize

const sysIPCBuffer = abi.SysIPCBuffer

// Buffer is the calling thread's IPC buffer.
type Buffer struct {
	page []byte
}

// NewBuffer maps a page and makes it the calling OS thread's IPC buffer (replacing any it
// had). The goroutine must be locked to its thread (runtime.LockOSThread) while it uses it.
func NewBuffer() (*Buffer, error) {
	page, err := syscall.Mmap(-1, 0, BufferSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, err
	}
	if _, _, errno := syscall.RawSyscall(sysIPCBuffer, uintptr(unsafe.Pointer(&page[0])), 0, 0); errno != 0 {
		syscall.Munmap(page)
		return nil, errnoErr(errno)
	}
	return &Buffer{page: page}, nil
}

// Bytes is the whole buffer: a call's bytes go in first, a reply's come back there.
func (b *Buffer) Bytes() []byte { return b.page }

// CallBuffer is Call (no timeout) with the first n bytes of the calling thread's IPC buffer
// (NewBuffer) going with m; it returns the reply and how many bytes of the reply are in the
// buffer. The goroutine must be on the thread that registered the buffer.
func (e *Endpoint) CallBuffer(m Msg, n int) (Msg, int, error) {
	if n < 0 || n > BufferSize {
		return m, 0, syscall.EINVAL
	}
	m.GrantAddr, m.GrantPages = uint64(n), abi.GrantBuffer
	r, err := e.Call(m, 0)
	return r, r.Buffered(), err
}

// Buffered is how many bytes of the receiving thread's IPC buffer came with m (0 if none did).
func (m *Msg) Buffered() int {
	if m.GrantPages != abi.GrantBuffer {
		return 0
	}
	return int(m.GrantAddr)
}

// ServeBuffer serves calls that carry IPC-buffer bytes: handler gets each call, the serving
// thread's whole buffer and how many bytes came with the call, and returns its reply and how
// many of the buffer's bytes go with it. It locks the goroutine to its thread and registers
// that thread's buffer first.
func (e *Endpoint) ServeBuffer(handler func(req Msg, buf []byte, n int) (Msg, int)) error {
	runtime.LockOSThread()
	b, err := NewBuffer()
	if err != nil {
		return err
	}
	return e.Serve(func(req Msg) Msg {
		reply, n := handler(req, b.page, req.Buffered())
		if n > 0 {
			reply.GrantAddr, reply.GrantPages = uint64(min(n, BufferSize)), abi.GrantBuffer
		}
		return reply
	})
}
