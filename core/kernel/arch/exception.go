package arch

// Exception vectors and their names, and stopping the machine.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import "github.com/simpleos/simpleos/core/x86"

// Exception vectors.
const (
	ExcDivide       = 0
	ExcDebug        = 1
	ExcNMI          = 2
	ExcBreakpoint   = 3
	ExcInvalidOp    = 6
	ExcNoFPU        = 7
	ExcDoubleFault  = 8
	ExcStackFault   = 12
	ExcGeneralProt  = 13
	ExcPageFault    = 14
	ExcFPU          = 16
	ExcAlignment    = 17
	ExcMachineCheck = 18
	ExcSIMD         = 19
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
	if v == VectorSyscall {
		return "system call"
	}
	return "interrupt"
}

// StatusCrash is the exit status of a crashed core.
const StatusCrash = 100

// Panic reports a broken kernel invariant and stops the machine: nothing the kernel holds can
// be trusted any more, not even the buffered console output.
//
//go:nosplit
func Panic(msg string, v uint64) {
	CrashScreen()
	Puts("CORE CRASH: kernel invariant: ")
	Puts(msg)
	Puts(" ")
	PutHex(v)
	Putc('\n')
	Halt(StatusCrash)
}

// Halt stops the machine: QEMU's isa-debug-exit device turns status into its exit code. A
// crash resets the machine instead when the core asked for it (SetResetOnCrash). With a
// display, the screen is painted first, and a crash's screen stays up a moment (screen.go).
//
//go:nosplit
func Halt(status int) {
	if hosted {
		hostHalt(status)
	}
	x86.Cli()
	// The lines are printed by loops sharing one index rather than by Puts, whose inlined
	// copies would each take a stack slot: Halt ends the crash path's deepest nosplit chains.
	var i int
	if screen.base != 0 && screenFinal(status) {
		const line = "kernel: crash screen on the display\n" // the launcher's cue for a screendump
		for i = 0; i < len(line); i++ {
			Putc(line[i])
		}
		screenHold()
	}
	if status == StatusCrash && resetOnCrash {
		const line = "kernel: resetting the machine (crash=reboot)\n"
		for i = 0; i < len(line); i++ {
			Putc(line[i])
		}
		Reset()
	}
	x86.Outl(0xf4, uint32(status))
	const line = "kernel: halted (no isa-debug-exit device)\n"
	for i = 0; i < len(line); i++ {
		Putc(line[i])
	}
	for {
		x86.Hlt()
	}
}
