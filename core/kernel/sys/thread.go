package sys

// Thread system calls: clone (threads only), exit, exit_group, sched_yield, gettid,
// set_tid_address.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/crash"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const (
	cloneVM            = 0x100
	cloneThread        = 0x10000
	cloneSetTLS        = 0x80000
	cloneParentSetTID  = 0x100000
	cloneChildClearTID = 0x200000
	cloneChildSetTID   = 0x1000000
)

//go:nosplit
func clone(c task.Call) task.Result {
	flags, stack, ptid, ctid, tls := c.Arg(0), c.Ptr(1), c.Ptr(2), c.Ptr(3), c.Arg(4)
	if flags&(cloneVM|cloneThread) != cloneVM|cloneThread {
		return task.Err(abi.EINVAL) // only threads: there is no fork
	}
	if stack >= mm.UserTop || (flags&cloneSetTLS != 0 && tls >= mm.UserTop) {
		return task.Err(abi.EINVAL) // IRETQ or the FS base would fault in the kernel
	}
	t, parent := c.Task(), c.Thread()
	i, ok := sched.New(t.Slot(), parent.Space().ID(), parent.Ring(), threadShare(t)) // its share caps a thread bomb
	if !ok {
		return task.Err(abi.EAGAIN)
	}
	child := sched.T(i)
	ctf := sched.Frame(i)
	*ctf = *c.Frame
	ctf.RAX = 0
	if stack != 0 {
		ctf.RSP = uint64(stack)
	}
	child.FSBase = parent.FSBase
	if flags&cloneSetTLS != 0 {
		child.FSBase = tls
	}
	child.Sig.Mask = parent.Sig.Mask
	as := c.Space()
	if flags&cloneParentSetTID != 0 && !as.Write32(ptid, uint32(child.TID())) {
		sched.End(i, threadShare(t))
		return task.Err(abi.EFAULT)
	}
	if flags&cloneChildSetTID != 0 {
		as.Write32(ctid, uint32(child.TID()))
	}
	if flags&cloneChildClearTID != 0 {
		child.ClearTID = ctid
	}
	sched.Start(i)
	return task.Ret(int64(child.TID()))
}

// threadShare is t's share of the thread table: nil for the core, whose threads come out of
// everything not promised to a task.
//
//go:nosplit
func threadShare(t *task.Task) *mm.Share {
	if t.IsCore() {
		return nil
	}
	return &t.Threads
}

//go:nosplit
func exit(c task.Call) task.Result { return exitThread(c, c.Int(0)) }

//go:nosplit
func exitGroup(c task.Call) task.Result { return exitTask(c, c.Int(0)) }

// exitThread ends the calling thread; the last thread of a task ends the task.
//
//go:nosplit
func exitThread(c task.Call, status int) task.Result {
	t := c.Thread()
	if t.ClearTID != 0 {
		c.Space().Write32(t.ClearTID, 0)
		FutexWake(t, t.ClearTID, 1)
	}
	if sched.LiveOf(c.Task().Slot()) <= 1 {
		return exitTask(c, status) // the task ends on the way out of this trap
	}
	c.Task().ExitedCPU += t.CPU()
	sched.End(c.Slot, threadShare(c.Task()))
	return task.Result{Next: task.Gone}
}

// exitTask ends the calling task; the core's own runtime exiting stops the machine.
//
//go:nosplit
func exitTask(c task.Call, status int) task.Result {
	if c.Task().IsCore() {
		crash.CoreExit(status)
	}
	c.Task().Exit(status)
	return task.Ret(0)
}

//go:nosplit
func schedYield(c task.Call) task.Result { return task.Result{Next: task.Yield} }

//go:nosplit
func gettid(c task.Call) task.Result { return task.Ret(int64(c.Thread().TID())) }

//go:nosplit
func setTidAddress(c task.Call) task.Result {
	c.Thread().ClearTID = c.Ptr(0)
	return task.Ret(int64(c.Thread().TID()))
}
