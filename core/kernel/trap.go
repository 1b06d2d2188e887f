package kernel

// Trap dispatch: exceptions, the timer, and registered interrupt handlers. An exception taken
// by the Go runtime becomes a signal for it (signal.go); an exception taken by kernel code is a
// kernel bug and produces a crash report (crash.go).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import "github.com/simpleos/simpleos/core/x86"

// Exception vectors.
const (
	excDivide       = 0
	excDebug        = 1
	excNMI          = 2
	excBreakpoint   = 3
	excInvalidOp    = 6
	excNoFPU        = 7
	excDoubleFault  = 8
	excStackFault   = 12
	excGeneralProt  = 13
	excPageFault    = 14
	excFPU          = 16
	excAlignment    = 17
	excMachineCheck = 18
	excSIMD         = 19
)

var exceptionNames = [32]string{
	"divide error (#DE)", "debug (#DB)", "non-maskable interrupt (NMI)", "breakpoint (#BP)",
	"overflow (#OF)", "bound range exceeded (#BR)", "invalid opcode (#UD)", "device not available (#NM)",
	"double fault (#DF)", "coprocessor segment overrun", "invalid TSS (#TS)", "segment not present (#NP)",
	"stack-segment fault (#SS)", "general protection fault (#GP)", "page fault (#PF)", "reserved exception 15",
	"x87 floating-point exception (#MF)", "alignment check (#AC)", "machine check (#MC)", "SIMD floating-point exception (#XM)",
	"virtualization exception (#VE)", "control protection exception (#CP)", "reserved exception 22", "reserved exception 23",
	"reserved exception 24", "reserved exception 25", "reserved exception 26", "reserved exception 27",
	"hypervisor injection exception (#HV)", "VMM communication exception (#VC)", "security exception (#SX)", "reserved exception 31",
}

// ExceptionName returns the name of an exception vector.
//
//go:nosplit
func ExceptionName(v uint64) string {
	if v < 32 {
		return exceptionNames[v]
	}
	if v == vectorSyscall {
		return "system call"
	}
	return "interrupt"
}

//go:nosplit
func handleTrap(tf *TrapFrame) {
	v := tf.Vector
	switch {
	case v == vectorSyscall:
		handleSyscall(tf)
	case v < 32:
		exception(tf)
	case v == VectorTimer:
		timerTick()
	case v == VectorSpurious:
	default:
		if !deviceInterrupt(v) {
			if h := handlers[v&255]; h != nil {
				h(tf)
			}
		}
		lapicEOI()
	}
	if !tf.fromKernel() && !curProc().ending {
		deliverSignals(tf)
		if tf.fromTask() && !(canonical(tf.RIP) && canonical(tf.RSP)) {
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
			panicKernel("a torn-down task was scheduled again", uint64(cur().proc))
		}
	}
	prepareReturn()
}

// canonical reports whether va is a canonical x86-64 address (bits 63-47 all equal).
//
//go:nosplit
func canonical(va uint64) bool { return va < userTop || va >= directMapBase }

// returnFS and returnCR3 are what trapReturn loads when it goes back to a task.
var returnFS, returnCR3 uint64

//go:nosplit
func prepareReturn() {
	returnFS = cur().fsBase
	returnCR3 = uint64(curSpace().root)
}

//go:nosplit
func exception(tf *TrapFrame) {
	v := tf.Vector
	if tf.fromKernel() {
		crashFrame(ExceptionName(v), tf)
	}
	switch v {
	case excPageFault:
		addr := x86.CR2()
		write, exec := tf.ErrorCode&2 != 0, tf.ErrorCode&16 != 0
		r := faultMapErr
		if addr < userTop {
			r = curSpace().fault(uintptr(addr), write, exec)
		}
		switch r {
		case faultHandled:
			return
		case faultNoMem, faultQuota:
			recordFault(tf, addr)
			if cur().proc != coreProc {
				why := int32(whyMemory)
				if r == faultNoMem {
					why = whyNoMemory
				}
				endTask(int(cur().proc), endKilled, 0, noVector, tf.RIP, addr, why)
				return
			}
			killProcess(tf, SIGSEGV, "out of memory")
			return
		}
		raiseFault(tf, SIGSEGV, int32(r), addr)
	case excDivide:
		raiseFault(tf, SIGFPE, 1, tf.RIP) // FPE_INTDIV
	case excFPU, excSIMD:
		raiseFault(tf, SIGFPE, 0, tf.RIP)
	case excInvalidOp:
		raiseFault(tf, SIGILL, 2, tf.RIP) // ILL_ILLOPN
	case excGeneralProt, excStackFault:
		raiseFault(tf, SIGSEGV, siKernel, 0)
	case excAlignment:
		raiseFault(tf, SIGBUS, 1, tf.RIP) // BUS_ADRALN
	case excDebug, excBreakpoint:
		raiseFault(tf, SIGTRAP, 1, tf.RIP)
	case excNMI, excDoubleFault, excMachineCheck:
		crashFrame(ExceptionName(v), tf) // the hardware's, not the task's
	default:
		// Anything else a task raises (a reserved or unused vector) is its own fault.
		raiseFault(tf, SIGSEGV, siKernel, 0)
	}
}
