package kernel

// Trap dispatch: every trap, interrupt and system call reaches handleTrap (arch's trapEntry
// calls it): system calls go to package sys, exceptions become signals for the Go runtime that
// took them (package signal) or, taken by kernel code, a crash report (package crash), the
// timer drives the scheduler, device interrupts notify the task that owns the line. On the way
// back to a task, pending signals are delivered, and the tasks that ended are torn down.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/crash"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/notify"
	"github.com/simpleos/simpleos/core/kernel/pcidev"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/signal"
	"github.com/simpleos/simpleos/core/kernel/sys"
	"github.com/simpleos/simpleos/core/kernel/task"
	"github.com/simpleos/simpleos/core/x86"
)

//go:nosplit
func handleTrap(tf *arch.TrapFrame) {
	v := tf.Vector
	switch {
	case v == arch.VectorSyscall:
		sys.Dispatch(tf)
	case v < 32:
		exception(tf)
	case v == arch.VectorTimer:
		arch.EOI()
		arch.ScreenTick()
		sched.Tick()
	case v == arch.VectorSpurious:
	case v == arch.VectorIOMMU:
		pcidev.DMAFaults()
		arch.EOI()
	default:
		if !notify.Interrupt(v) {
			if h := handlers[v&255]; h != nil {
				h(tf)
			}
		}
		arch.EOI()
	}
	trapTail(tf)
}

// handleSyscall is handleTrap for a task's system call, which arch's syscallEntry hands it
// at once: nothing else arrives there, so the vector is not looked at.
//
//go:nosplit
func handleSyscall(tf *arch.TrapFrame) {
	sys.Dispatch(tf)
	trapTail(tf)
}

// resumeTrap runs when a thread the IPC fastpath left waiting runs again (arch's trapResume,
// SetResumeHandler): its system call is finished as the dispatcher finishes one after a wait,
// and the trap's way back is handleTrap's.
//
//go:nosplit
func resumeTrap(tf *arch.TrapFrame) {
	sys.Resume(tf)
	trapTail(tf)
}

// trapTail is every trap's way back to the thread that runs next.
//
//go:nosplit
func trapTail(tf *arch.TrapFrame) {
	sched.PreemptForCore()
	th := sched.Cur()
	if t := task.Of(th); !tf.FromKernel() && !t.Ending() {
		if sg := &th.Sig; sg.Fault.Sig != 0 || sg.Pending&^sg.Mask != 0 {
			signal.Deliver(t, tf)
		}
		if tf.FromTask() && !(arch.Canonical(tf.RIP) && arch.Canonical(tf.RSP)) {
			// IRETQ to a non-canonical address can fault in ring 0 on some CPUs: the task
			// gets SIGSEGV instead (its handler runs on its signal stack, if it has one).
			signal.RaiseFault(t, tf, signal.SIGSEGV, signal.SIKernel, 0)
			signal.Deliver(t, tf)
		}
	}
	if task.EndsPending() {
		finishEnded()
		if !task.Cur().Live() {
			sched.Schedule() // the thread's task is gone: it never returns to it
			arch.Panic("a torn-down task was scheduled again", uint64(task.Cur().Slot()))
		}
		th = sched.Cur()
	}
	// The page table and entry stack to return with are the thread's since it was switched to
	// (switchTo, Handoff); its FS base may have changed since (arch_prctl).
	arch.SetReturnFS(th.FSBase)
}

// exception handles a CPU exception: a page fault is resolved (demand paging) or becomes
// SIGSEGV; the others become their signal; the hardware's own (NMI, double fault, machine
// check) and any taken by kernel code are a crash.
//
//go:nosplit
func exception(tf *arch.TrapFrame) {
	v := tf.Vector
	if tf.FromKernel() {
		crash.Frame(arch.ExceptionName(v), tf)
	}
	t := task.Cur()
	switch v {
	case arch.ExcPageFault:
		addr := x86.CR2()
		write, exec := tf.ErrorCode&2 != 0, tf.ErrorCode&16 != 0
		r := mm.FaultMapErr
		if addr < mm.UserTop {
			r = sched.Cur().Space().Fault(uintptr(addr), write, exec)
		}
		switch r {
		case mm.FaultHandled:
			return
		case mm.FaultNoMem, mm.FaultQuota:
			crash.RecordFault(t, tf, addr)
			if !t.IsCore() {
				cause := task.MemoryQuota
				if r == mm.FaultNoMem {
					cause = task.NoMemory
				}
				t.MarkEnding(task.Killed, cause, 0, task.NoVector, tf.RIP, addr)
				return
			}
			crash.CoreSignal(tf, signal.SIGSEGV, "out of memory")
			return
		}
		signal.RaiseFault(t, tf, signal.SIGSEGV, int32(r), addr)
	case arch.ExcDivide:
		signal.RaiseFault(t, tf, signal.SIGFPE, 1, tf.RIP) // FPE_INTDIV
	case arch.ExcFPU, arch.ExcSIMD:
		signal.RaiseFault(t, tf, signal.SIGFPE, 0, tf.RIP)
	case arch.ExcInvalidOp:
		signal.RaiseFault(t, tf, signal.SIGILL, 2, tf.RIP) // ILL_ILLOPN
	case arch.ExcGeneralProt, arch.ExcStackFault:
		signal.RaiseFault(t, tf, signal.SIGSEGV, signal.SIKernel, 0)
	case arch.ExcAlignment:
		signal.RaiseFault(t, tf, signal.SIGBUS, 1, tf.RIP) // BUS_ADRALN
	case arch.ExcDebug, arch.ExcBreakpoint:
		signal.RaiseFault(t, tf, signal.SIGTRAP, 1, tf.RIP)
	case arch.ExcNMI, arch.ExcDoubleFault, arch.ExcMachineCheck:
		crash.Frame(arch.ExceptionName(v), tf) // the hardware's, not the task's
	default:
		// Anything else a task raises (a reserved or unused vector) is its own fault.
		signal.RaiseFault(t, tf, signal.SIGSEGV, signal.SIKernel, 0)
	}
}
