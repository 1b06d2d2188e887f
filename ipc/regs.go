package ipc

import (
	"syscall"
	"unsafe"

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
)

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
