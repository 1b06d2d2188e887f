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
	Puts("CORE CRASH: kernel invariant: ")
	Puts(msg)
	Puts(" ")
	PutHex(v)
	Putc('\n')
	Halt(StatusCrash)
}

// Halt stops the machine at once: QEMU's isa-debug-exit device turns status into its exit
// code. A crash resets the machine instead when the core asked for it (SetResetOnCrash).
//
//go:nosplit
func Halt(status int) {
	if hosted {
		hostHalt(status)
	}
	x86.Cli()
	if status == StatusCrash && resetOnCrash {
		Puts("kernel: resetting the machine (crash=reboot)\n")
		Reset()
	}
	x86.Outl(0xf4, uint32(status))
	Puts("kernel: halted (no isa-debug-exit device)\n")
	for {
		x86.Hlt()
	}
}
