// Package x86 wraps the privileged x86-64 instructions the core needs: port I/O, model-specific
// registers, control registers, descriptor-table loads, TLB maintenance and the time-stamp
// counter. Each function is a few instructions of assembly in x86_amd64.s.
//
// Runs in trap context: every function is nosplit, allocates nothing and writes no heap pointers.
package x86

// Model-specific registers used by the core.
const (
	MSR_EFER           = 0xC0000080
	MSR_STAR           = 0xC0000081
	MSR_LSTAR          = 0xC0000082
	MSR_FMASK          = 0xC0000084
	MSR_FS_BASE        = 0xC0000100
	MSR_GS_BASE        = 0xC0000101
	MSR_KERNEL_GS_BASE = 0xC0000102
	MSR_APIC_BASE      = 0x1B
)

// RFLAGS bits.
const (
	FlagCF   = 1 << 0
	FlagTF   = 1 << 8
	FlagIF   = 1 << 9
	FlagDF   = 1 << 10
	FlagIOPL = 3 << 12
	FlagNT   = 1 << 14
	FlagAC   = 1 << 18
)

func Inb(port uint16) uint8
func Outb(port uint16, v uint8)
func Inw(port uint16) uint16
func Outw(port uint16, v uint16)
func Inl(port uint16) uint32
func Outl(port uint16, v uint32)

func ReadMSR(msr uint32) uint64
func WriteMSR(msr uint32, v uint64)

func CR0() uint64
func CR2() uint64
func CR3() uint64
func CR4() uint64
func SetCR0(v uint64)
func SetCR3(v uint64)
func SetCR4(v uint64)

// Invlpg drops the TLB entry for the page containing va.
func Invlpg(va uintptr)

// Lgdt, Lidt load the descriptor-table registers from a 10-byte pseudo-descriptor at p.
func Lgdt(p uintptr)
func Lidt(p uintptr)

// Ltr loads the task register with a TSS selector.
func Ltr(sel uint16)

// ReloadSegments loads CS with code and DS/ES/SS with data, FS/GS with null selectors
// without touching the FS/GS base MSRs.
func ReloadSegments(code, data uint16)

func Cpuid(leaf, sub uint32) (a, b, c, d uint32)
func Rdtsc() uint64

// Hlt halts until the next interrupt. EnableAndHalt executes STI;HLT so that an interrupt
// pending at STI is taken only after HLT begins (no lost wakeup).
func Hlt()
func EnableAndHalt()
func Cli()
func Sti()
func Flags() uint64

// Pause is the spin-loop hint.
func Pause()

// RdRand and RdSeed execute RDRAND and RDSEED (the hardware's random-number generator and its
// entropy source); ok is the carry flag: false when no value was ready. Check CPUID first.
func RdRand() (v uint64, ok bool)
func RdSeed() (v uint64, ok bool)
