package kernel

// Trap dispatch: exceptions, the timer, and registered interrupt handlers. An exception taken
// by the Go runtime becomes a signal for it (signal.go); an exception taken by kernel code is a
// kernel bug and produces a crash report (crash.go).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/x86"
)

//go:nosplit
func handleTrap(tf *arch.TrapFrame) {
	v := tf.Vector
	switch {
	case v == arch.VectorSyscall:
		handleSyscall(tf)
	case v < 32:
		exception(tf)
	case v == arch.VectorTimer:
		timerTick()
	case v == arch.VectorSpurious:
	default:
		if !deviceInterrupt(v) {
			if h := handlers[v&255]; h != nil {
				h(tf)
			}
		}
		arch.EOI()
	}
	if !tf.FromKernel() && !curProc().ending {
		deliverSignals(tf)
		if tf.FromTask() && !(canonical(tf.RIP) && canonical(tf.RSP)) {
			// IRETQ to a non-canonical address can fault in ring 0 on some CPUs: the task
			// gets SIGSEGV instead (its handler runs on its signal stack, if it has one).
			raiseFault(tf, SIGSEGV, siKernel, 0)
			deliverSignals(tf)
		}
	}
	if endsPending > 0 {
		finishEndedTasks()
		if !curProc().live {
			schedule() // the thread's task is gone: it never returns to it
			arch.Panic("a torn-down task was scheduled again", uint64(cur().proc))
		}
	}
	prepareReturn()
}

// canonical reports whether va is a canonical x86-64 address (bits 63-47 all equal).
//
//go:nosplit
func canonical(va uint64) bool { return va < mm.UserTop || va >= mm.DirectMapBase }

//go:nosplit
func prepareReturn() {
	arch.SetReturn(cur().fsBase, uint64(curSpace().Root()))
}

//go:nosplit
func exception(tf *arch.TrapFrame) {
	v := tf.Vector
	if tf.FromKernel() {
		crashFrame(arch.ExceptionName(v), tf)
	}
	switch v {
	case arch.ExcPageFault:
		addr := x86.CR2()
		write, exec := tf.ErrorCode&2 != 0, tf.ErrorCode&16 != 0
		r := mm.FaultMapErr
		if addr < mm.UserTop {
			r = curSpace().Fault(uintptr(addr), write, exec)
		}
		switch r {
		case mm.FaultHandled:
			return
		case mm.FaultNoMem, mm.FaultQuota:
			recordFault(tf, addr)
			if cur().proc != coreProc {
				why := int32(whyMemory)
				if r == mm.FaultNoMem {
					why = whyNoMemory
				}
				endTask(int(cur().proc), endKilled, 0, noVector, tf.RIP, addr, why)
				return
			}
			killProcess(tf, SIGSEGV, "out of memory")
			return
		}
		raiseFault(tf, SIGSEGV, int32(r), addr)
	case arch.ExcDivide:
		raiseFault(tf, SIGFPE, 1, tf.RIP) // FPE_INTDIV
	case arch.ExcFPU, arch.ExcSIMD:
		raiseFault(tf, SIGFPE, 0, tf.RIP)
	case arch.ExcInvalidOp:
		raiseFault(tf, SIGILL, 2, tf.RIP) // ILL_ILLOPN
	case arch.ExcGeneralProt, arch.ExcStackFault:
		raiseFault(tf, SIGSEGV, siKernel, 0)
	case arch.ExcAlignment:
		raiseFault(tf, SIGBUS, 1, tf.RIP) // BUS_ADRALN
	case arch.ExcDebug, arch.ExcBreakpoint:
		raiseFault(tf, SIGTRAP, 1, tf.RIP)
	case arch.ExcNMI, arch.ExcDoubleFault, arch.ExcMachineCheck:
		crashFrame(arch.ExceptionName(v), tf) // the hardware's, not the task's
	default:
		// Anything else a task raises (a reserved or unused vector) is its own fault.
		raiseFault(tf, SIGSEGV, siKernel, 0)
	}
}
