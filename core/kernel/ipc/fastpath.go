package ipc

// The fastpath: ipc_call_regs and ipc_replyrecv_regs between task threads, when the thread on
// the other side already waits and the message is registers alone, are answered here, before
// the general dispatcher (package sys calls Fast first), as seL4's fastpath answers them:
// the message goes from the caller's TrapFrame into the other thread's, the caller waits on
// the endpoint's queue, and the CPU goes straight to the other thread (sched.Handoff), whose
// kernel stack the handoff does not have to unwind: the switch leaves the running thread's
// stack behind, and returns the other thread to its code from its frame. Everything else —
// the first call of a server that has not waited yet, a page grant (a loan to make), an eBPF
// filter to run, a caller the policy has not been checked for yet, a call queued for the
// server, a signal pending, a task ending, the VFS's calls — goes the general way (SysCall,
// SysReplyRecv), which checks and does the same things in full; Fast changes nothing before
// it has decided. The checks are the general path's own: the fastpath is only shorter for a
// call the general path would have answered the same way, with the fast path of fast.go.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// Fast answers the ipc_call_regs or ipc_replyrecv_regs in tf, made by the running thread, if
// it can. It returns false, having changed nothing, when the call must go the general way. On
// the machine it does not return otherwise; on a host it returns true once the thread runs
// again, its call to be finished as after any wait (sys.Resume).
//
//go:nosplit
func Fast(tf *arch.TrapFrame) bool {
	cur := sched.Current()
	th := sched.Cur()
	if !fastPath || th.Ring() == 0 || tf != sched.Frame(cur) || task.EndsPending() || sched.SignalPending() {
		return false
	}
	t := task.Of(th)
	if tf.RAX == abi.SysIPCCallRegs {
		return fastCall(tf, cur, t)
	}
	return fastReplyRecv(tf, cur, t)
}

// fastCall is ipc_call_regs from thread cur of task t to a server thread waiting in registers.
//
//go:nosplit
func fastCall(tf *arch.TrapFrame, cur int, t *task.Task) bool {
	i := endpointOf(tf.RDI)
	if i < 0 || tf.R13 != 0 && tf.R13 != abi.GrantBuffer {
		return false // a page grant: a loan to make (takeCall)
	}
	e := ep(i)
	slot := uint(t.Slot()) % task.Max
	if e.callers[slot/64]&(1<<(slot%64)) == 0 || e.filter != 0 || e.owner == t.Slot() {
		return false // the policy's first check, a filter, a call to itself: SysCall
	}
	s := e.receivers.First()
	cs, srv := calls.Of(cur), calls.Of(s)
	if s == 0 || !srv.regs || sched.T(s).Ring() == 0 || cs.kept {
		return false
	}
	if tf.R13 == abi.GrantBuffer && copyBuffer(cur, s, tf.R12) != bufCopied {
		return false // no buffer on either side, or too many bytes: SysCall says which
	}
	// The message goes from frame to frame (the badge is the core's).
	stf := sched.Frame(s)
	stf.RSI = tf.RSI
	stf.RDX, stf.R10, stf.R8, stf.R9 = tf.RDX, tf.R10, tf.R8, tf.R9
	stf.RDI = uint64(t.PID())
	stf.R12, stf.R13 = 0, 0
	if tf.R13 == abi.GrantBuffer {
		stf.R12, stf.R13 = tf.R12, tf.R13
	}
	cs.buf, cs.regs, cs.ep, cs.keep = 0, true, int32(i), tf.RBX&abi.IPCKeep != 0
	cs.server, cs.serverT = int32(s), sched.T(s).TID()
	srv.replyTo, srv.callerT = int32(cur), sched.Cur().TID()
	stats.calls++
	stats.fastCalls++
	stats.handoffs++
	now := arch.Nanotime()
	sched.Park(&e.replies, task.DeadlineAt(now, tf.RBX&^abi.IPCKeep), -abi.ETIMEDOUT, sched.ResumeAlways)
	sched.Handoff(s, now)
	return true
}

// fastReplyRecv is ipc_replyrecv_regs from server thread cur of task t, whose caller waits
// in registers, when no other call is queued.
//
//go:nosplit
func fastReplyRecv(tf *arch.TrapFrame, cur int, t *task.Task) bool {
	i := servedBy(tf.RDI, t.Slot())
	cs := calls.Of(cur)
	cl := int(cs.replyTo)
	if i < 0 || cl <= 0 || cs.loan != 0 {
		return false
	}
	e, ccs, c := ep(i), calls.Of(cl), sched.T(cl)
	if !ccs.regs || ccs.kernel || ccs.server != int32(cur) || c.TID() != cs.callerT || c.Ring() == 0 ||
		!sched.Waiting(cl, &ep(int(ccs.ep)).replies) || !e.senders.Empty() {
		return false
	}
	if tf.R13 == abi.GrantBuffer && copyBuffer(cur, cl, tf.R12) != bufCopied {
		return false // prepareReply says what failed
	}
	ctf := sched.Frame(cl)
	ctf.RSI = tf.RSI
	ctf.RDX, ctf.R10, ctf.R8, ctf.R9 = tf.RDX, tf.R10, tf.R8, tf.R9
	ctf.RDI = uint64(t.PID())
	ctf.R12, ctf.R13 = tf.R12, tf.R13
	cs.replyTo, ccs.server = -1, 0
	cs.buf, cs.regs, cs.ep = 0, true, int32(i)
	stats.fastReplies++
	stats.handoffs++
	now := arch.Nanotime()
	sched.Park(&e.receivers, task.DeadlineAt(now, tf.RBX), -abi.ETIMEDOUT, sched.ResumeResult)
	sched.Handoff(cl, now)
	return true
}
