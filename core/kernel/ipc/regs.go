package ipc

// The register path: a message travels in registers both ways, as seL4's does, so that a call
// and its reply copy nothing through user memory and walk no page tables. The calls are
// ipc_call_regs, ipc_recv_regs and ipc_replyrecv_regs (abi.SysIPC*Regs; the first and the last
// are served by SysCall and SysReplyRecv, which tell the paths apart by the call's number); the
// registers are those of abi.Message's fields (abi/syscall.go: RSI label, RDX R10 R8 R9 the words,
// R12 GrantAddr, R13 GrantPages; RDI the handle on the way in and the badge on the way out;
// RBX the timeout). A thread waiting on this path has the message written into the registers
// its system call returns with (its TrapFrame); one waiting on the memory path gets it in its
// buffer, so either side may use either path. A call the core makes for the VFS carries
// bytes after the message: a server must receive those into memory (ipc.ReplyRecvFS).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// SysRecvRegs is ipc_recv_regs: ipc_recv with the call in registers.
//
//go:nosplit
func SysRecvRegs(c task.Call) task.Result {
	i := servedBy(c.Frame.RDI, c.Task().Slot())
	if i < 0 {
		return task.Err(abi.EBADF)
	}
	cs := calls.Of(c.Slot)
	cs.buf, cs.regs = 0, true
	return recvOn(c, i, c.Deadline(c.Frame.RBX))
}

// loadRegs reads a message from a thread's registers (its badge is the core's to write).
//
//go:nosplit
func loadRegs(m *abi.Message, tf *arch.TrapFrame) {
	m.Label = tf.RSI
	m.Words[0], m.Words[1], m.Words[2], m.Words[3] = tf.RDX, tf.R10, tf.R8, tf.R9
	m.Badge = 0
	m.GrantAddr, m.GrantPages = tf.R12, tf.R13
}

// storeRegs writes a message into the registers a waiting thread's system call returns with.
//
//go:nosplit
func storeRegs(tf *arch.TrapFrame, m *abi.Message) {
	tf.RSI = m.Label
	tf.RDX, tf.R10, tf.R8, tf.R9 = m.Words[0], m.Words[1], m.Words[2], m.Words[3]
	tf.RDI = m.Badge
	tf.R12, tf.R13 = m.GrantAddr, m.GrantPages
}
