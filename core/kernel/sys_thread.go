package kernel

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// Thread system calls: clone (threads only), exit, exit_group, sched_yield, gettid,
// set_tid_address.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const (
	cloneVM            = 0x100
	cloneThread        = 0x10000
	cloneSetTLS        = 0x80000
	cloneParentSetTID  = 0x100000
	cloneChildClearTID = 0x200000
	cloneChildSetTID   = 0x1000000
)

//go:nosplit
func sysClone(tf *arch.TrapFrame) int64 {
	flags, stack, ptid, ctid, tls := tf.RDI, uintptr(tf.RSI), uintptr(tf.RDX), uintptr(tf.R10), tf.R8
	if flags&(cloneVM|cloneThread) != cloneVM|cloneThread {
		return -abi.EINVAL // only threads: there is no fork
	}
	if stack >= mm.UserTop || (flags&cloneSetTLS != 0 && tls >= mm.UserTop) {
		return -abi.EINVAL // IRETQ or the FS base would fault in the kernel
	}
	parent := cur()
	i, ok := newThread(int(parent.proc)) // its mm.Share of the thread mm.Pool caps a thread bomb
	if !ok {
		return -abi.EAGAIN
	}
	child := thread(i)
	ctf := frameOf(i)
	*ctf = *tf
	ctf.RAX = 0
	if stack != 0 {
		ctf.RSP = uint64(stack)
	}
	child.fsBase = parent.fsBase
	if flags&cloneSetTLS != 0 {
		child.fsBase = tls
	}
	child.sigMask = parent.sigMask
	as := curSpace()
	if flags&cloneParentSetTID != 0 && !as.Write32(ptid, uint32(child.tid)) {
		endThread(i)
		return -abi.EFAULT
	}
	if flags&cloneChildSetTID != 0 {
		as.Write32(ctid, uint32(child.tid))
	}
	if flags&cloneChildClearTID != 0 {
		child.clearTID = ctid
	}
	child.state = threadRunnable
	return int64(child.tid)
}

//go:nosplit
func sysExit(tf *arch.TrapFrame) int64 {
	exitThread(int(int32(tf.RDI)))
	return 0 // not reached
}

//go:nosplit
func sysExitGroup(tf *arch.TrapFrame) int64 {
	exitProcess(int(int32(tf.RDI)))
	return 0
}

// exitThread ends the current thread; the last thread of a process ends the process.
//
//go:nosplit
func exitThread(status int) {
	t := cur()
	if t.clearTID != 0 {
		curSpace().Write32(t.clearTID, 0)
		futexWake(t.clearTID, 1)
	}
	live := 0
	for i := 1; i < maxThreads; i++ {
		if threads[i].proc == t.proc && (threads[i].state == threadRunnable || threads[i].state == threadBlocked) {
			live++
		}
	}
	if live <= 1 {
		exitProcess(status) // the task ends on the way out of this trap
		return
	}
	procs[t.proc&(maxProcs-1)].cpuNs += t.cpuNs
	endThread(current)
	schedule()
}

// exitProcess ends the current process. The core's own runtime exiting ends the machine.
//
//go:nosplit
func exitProcess(status int) {
	if cur().proc == coreProc {
		coreExit(status)
	}
	exitTask(status)
}

//go:nosplit
func sysSchedYield(tf *arch.TrapFrame) int64 {
	yield()
	return 0
}

//go:nosplit
func sysGettid(tf *arch.TrapFrame) int64 { return int64(cur().tid) }

//go:nosplit
func sysSetTidAddress(tf *arch.TrapFrame) int64 {
	cur().clearTID = uintptr(tf.RDI)
	return int64(cur().tid)
}
