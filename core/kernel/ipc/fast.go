package ipc

// The IPC fast path: a call to an endpoint whose server thread is already waiting is copied
// straight into the server's buffer and the CPU goes straight to the server (SysCall returns
// task.DonateTo); a reply whose caller is waiting goes straight back to it while the server
// waits for the next call. No run queue is consulted and nothing is allocated: one message
// copy per direction and one thread switch. The thread switched to inherits the rest of the
// time slice (sched.Donate), so a pair of tasks calling each other is preempted on schedule
// like any other.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// replyRecvFast: the reply to caller cl is in place; the server waits on endpoint i for the
// next call (which goes where cs.buf and cs.regs say) and the CPU goes straight back to the
// caller. ok=false when another call is already queued: the caller has been woken, and the
// server takes that call the ordinary way (recvOn, which its caller calls: one frame less
// under the loan chain the linker's nosplit check counts).
//
//go:nosplit
func replyRecvFast(c task.Call, cl, i int, deadline int64) (task.Result, bool) {
	e := ep(i)
	cs := calls.Of(c.Slot)
	cs.ep, cs.replyTo = int32(i), -1
	if !e.senders.Empty() {
		sched.WakeWith(cl, 0)
		return task.Result{}, false
	}
	stats.fastReplies++
	if !sched.Block(&e.receivers, deadline, -abi.ETIMEDOUT, sched.ResumeResult) {
		sched.WakeWith(cl, 0)
		return task.Err(abi.EINTR), true
	}
	return task.DonateTo(cl), true
}
