package ipc

// Calls the core makes on a task's behalf: the VFS (package vfs) turns a task's file system
// call into a call to the file-system server, made on the task's own thread, so the thread
// waits for the server the way it would wait for a pipe, and the server's work is charged to
// the call that asked for it. The message is built by the kernel, not read from the task; the
// badge says "the core" (0); the pages lent are the task's own buffer; extra bytes from kernel
// memory (the call's resolved paths) follow the message in the server's receive buffer. The
// wait ignores signals (a file operation finishes, as Linux's do) but not the server's death,
// and the reply lands in the kernel (KernelReply), where the system call, run again, reads
// it.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// Request is a call the core makes: to the endpoint served under Name, message Msg (its
// grant, if any, is the calling thread's own task's pages), followed in the server's buffer
// by N bytes at kernel address Extra.
type Request struct {
	Name     abi.Name
	Msg      abi.Message
	Extra, N uintptr
}

// KernelCall makes the calling thread send request q. The call runs again when the wait ends
// (c.Again), and KernelReply returns how. ok=false, and no wait, if nobody serves the name.
//
//go:nosplit
func KernelCall(c task.Call, q *Request) (task.Result, bool) {
	i := byName(&q.Name)
	if i < 0 {
		return task.Result{}, false
	}
	e := ep(i)
	if e.owner == c.Task().Slot() {
		return task.Err(abi.EDEADLK), true // the server's own file calls would wait on itself
	}
	cs := calls.Of(c.Slot)
	cs.msg = q.Msg
	cs.msg.Badge = 0
	if checkGrant(&cs.msg) != 0 {
		cs.msg.GrantAddr, cs.msg.GrantPages = 0, 0
	}
	cs.kernel, cs.extra, cs.extraLen = true, q.Extra, q.N
	cs.buf, cs.regs, cs.ep, cs.server = 0, false, int32(i), 0
	cs.keep, cs.kept, cs.replied = false, false, false
	stats.calls++
	s := e.receivers.First()
	if s == 0 {
		sched.BlockQuiet(&e.senders, sched.ResumeAlways)
		return task.Result{Next: task.Wait}, true
	}
	if !takeCall(e, s, c.Slot) {
		cs.kernel = false
		return task.Err(abi.EIO), true
	}
	sched.BlockQuiet(&e.replies, sched.ResumeAlways)
	if fastPath {
		stats.fastCalls++
		return task.DonateTo(s), true
	}
	sched.WakeWith(s, 0)
	return task.Waiting(true), true
}

// KernelReply is the reply to the thread's KernelCall, once the call runs again: r is 0 and
// the reply is m, or r is -errno (ECONNRESET: the server died; EFAULT: its reply could not
// be read).
//
//go:nosplit
func KernelReply(c task.Call) (m *abi.Message, r int64) {
	cs := calls.Of(c.Slot)
	r = sched.WokenWith()
	if r != 0 {
		abandon(c.Slot)
	}
	cs.kernel = false
	return &cs.msg, r
}

// deliverKernel puts a reply to a kernel-made call where KernelReply finds it.
//
//go:nosplit
func deliverKernel(ccs *call, m *abi.Message) { ccs.msg = *m }

// copyExtra writes a kernel-made call's extra bytes after the message in server s's buffer.
//
//go:nosplit
func copyExtra(s int, ccs *call) bool {
	if ccs.extraLen == 0 {
		return true
	}
	return sched.T(s).Space().CopyOut(calls.Of(s).buf+abi.MessageSize, ccs.extra, ccs.extraLen)
}

// Current returns the handle of the endpoint served under name now, 0 if none: it changes
// when the server restarts.
//
//go:nosplit
func Current(name *abi.Name) int64 {
	if i := byName(name); i >= 0 {
		return handleOf(i)
	}
	return 0
}
