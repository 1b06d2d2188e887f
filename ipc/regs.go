package ipc

import (
	"runtime"
	"syscall"
	"time"
	"unsafe" // and go:linkname

	"github.com/simpleos/simpleos/abi"
)

// The register path (docs/ipc.md): Call and Serve pass the message in registers both ways
// (ipc_call_regs, ipc_replyrecv_regs), so the core copies nothing through memory. A server
// that needs more than a message per call receives into memory (ReplyRecvFS).

// syscallRegs makes system call nr with the message *m in registers and, when it succeeds,
// puts the message it returns into *m (regs_amd64.s). It does not tell the Go scheduler:
// callers do (entersyscall, exitsyscall) for calls that may block.
//
//go:noescape
func syscallRegs(nr, handle uintptr, m *Msg, timeout uintptr) (errno uintptr)

// The layout syscallRegs assumes.
var _ = [1]struct{}{}[unsafe.Offsetof(Msg{}.Badge)-40]
var _ = [1]struct{}{}[unsafe.Offsetof(Msg{}.GrantPages)-56]

const (
	sysCallRegs      = abi.SysIPCCallRegs
	sysRecvRegs      = abi.SysIPCRecvRegs
	sysReplyRecvRegs = abi.SysIPCReplyRecvRegs
	sysAwaitRegs     = abi.SysIPCAwaitRegs
	keepCall         = uintptr(abi.IPCKeep)
)

// The runtime's system-call bookkeeping, as package syscall uses it around a call that may
// block (the runtime exports both for that purpose).
//
//go:linkname entersyscall runtime.entersyscall
func entersyscall()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

// blockingRegs is syscallRegs for a call that may wait: the Go scheduler is told, as
// syscall.Syscall tells it, so the thread's P serves other goroutines meanwhile. Nothing
// between entersyscall and exitsyscall may grow the stack.
//
//go:nosplit
func blockingRegs(nr, handle uintptr, m *Msg, timeout uintptr) error {
	entersyscall()
	errno := syscallRegs(nr, handle, m, timeout)
	exitsyscall()
	return errnoErr(syscall.Errno(errno))
}

// lockedWait is how long a ServeLocked thread waits for the next call while keeping its P.
const lockedWait = time.Millisecond

// ServeLocked is Serve without the runtime's system-call bookkeeping while calls keep coming:
// the server thread makes its ipc_replyrecv_regs directly (syscallRegs), so a round trip
// costs its side two fewer runtime calls (entersyscall, exitsyscall). It is for a goroutine
// that owns its OS thread. The thread keeps its P while it waits, but not for long: the raw
// wait has a deadline of lockedWait (1 ms), after which the thread waits as Serve does,
// without its P, until the next call. A signal ends a raw wait too (the runtime asks for the
// P that way: a collection's stop-the-world, sysmon's preemption) with EINTR — always after
// this thread's reply went out, so nothing is sent twice — and the loop gives the P up
// (runtime.Gosched) before it waits again. The task's other goroutines therefore wait at most
// about a millisecond for the P once calls stop coming.
func (e *Endpoint) ServeLocked(handler func(req Msg) Msg) error {
	runtimeLockOSThread()
	var m Msg
	err := blockingRegs(sysRecvRegs, e.handle, &m, 0)
	for {
		switch {
		case err == ErrTimeout: // no call within lockedWait: wait without the P
			err = blockingRegs(sysRecvRegs, e.handle, &m, 0)
			continue
		case err == syscall.EINTR: // the runtime asked for the P
			runtime.Gosched()
			err = blockingRegs(sysRecvRegs, e.handle, &m, 0)
			continue
		case err != nil && err != ErrNoCaller:
			return err
		}
		m = handler(m)
		err = errnoErr(syscall.Errno(syscallRegs(sysReplyRecvRegs, e.handle, &m, uintptr(lockedWait))))
	}
}

// CallLocked is Call without the runtime's system-call bookkeeping while the reply comes
// quickly, and with no timeout: the client side of ServeLocked. The goroutine stays on its OS
// thread for the call (the kernel answers the thread that called), so it is cheapest for one
// that owns its thread already (runtime.LockOSThread). The thread
// makes its ipc_call_regs directly and keeps its P while it waits — for at most lockedWait
// (1 ms): the call carries that deadline with abi.IPCKeep, so a wait that ends, by the
// deadline or by a signal (the runtime asking for the P: a collection, sysmon's preemption),
// does not end the call if a server has it. The kernel then answers EINPROGRESS, the thread
// gives the P up (runtime.Gosched) and waits for the reply as Call does, without it
// (ipc_await_regs inside the runtime's bookkeeping); a call no server took is withdrawn
// and made again that way. Nothing is sent twice and no reply is lost.
func (e *Endpoint) CallLocked(m Msg) (Msg, error) {
	runtime.LockOSThread()
	errno := syscall.Errno(syscallRegs(sysCallRegs, e.handle, &m, uintptr(lockedWait)|keepCall))
	var err error
	switch errno {
	case syscall.EINPROGRESS: // a server has the call: collect its reply without the P
		runtime.Gosched()
		err = blockingRegs(sysAwaitRegs, 0, &m, 0)
	case syscall.ETIMEDOUT, syscall.EINTR: // withdrawn, no server took it: call without the P
		runtime.Gosched()
		m, err = e.Call(m, 0) // m is the request still: syscallRegs writes it only on success
	default:
		err = errnoErr(errno)
	}
	runtime.UnlockOSThread()
	return m, err
}
