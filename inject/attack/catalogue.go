package attack

import (
	"fmt"
	"syscall"
)

// Want is what a kernel that contains its tasks does with an attack.
type Want int

const (
	// MustEnd: the instructions are a task's right (CPUID, RDTSC, a system call); the snippet
	// must run to its end with its registers intact.
	MustEnd Want = iota + 1
	// MustTrap: the instructions must not complete: a privileged or I/O instruction, an access
	// to the kernel. Running to the end is a breach.
	MustTrap
	// Either: architecture-defined either way (segment loads, descriptor-table reads); the
	// kernel must only survive it and hand the task back a sane context.
	Either
)

// Attack is one snippet and what must happen to it.
type Attack struct {
	Name   string
	Code   []byte
	Want   Want
	Signal syscall.Signal // with MustTrap: the signal expected (0: any)
	Vector int            // with MustTrap: the exception vector expected (-1: any)
	// Check, if set, looks at a snippet that ran to its end (registers preserved, results).
	Check func(Trap) error
	// Inspect, if set, looks at the context the task got back, however the snippet ended.
	Inspect func(Trap) error
}

// Verdict is the judgement of one run.
type Verdict int

const (
	Passed   Verdict = iota + 1
	Breach           // a MustTrap attack ran to its end, or a Check found the kernel's fault
	Mismatch         // trapped differently than expected (a wrong signal or vector)
)

func (v Verdict) String() string {
	return [...]string{"?", "passed", "breach", "mismatch"}[v]
}

// Judge compares a run with what the attack wants.
func (a *Attack) Judge(t Trap) (Verdict, string) {
	switch a.Want {
	case MustEnd:
		if !t.Ended {
			return Mismatch, "trapped: " + t.String()
		}
	case MustTrap:
		if t.Ended {
			return Breach, "ran to its end"
		}
		if a.Signal != 0 && syscall.Signal(t.Signal) != a.Signal || a.Vector >= 0 && int(t.Trapno()) != a.Vector {
			return Mismatch, fmt.Sprintf("want %v vector %d, got %s", a.Signal, a.Vector, t)
		}
	}
	if t.Ended && a.Check != nil {
		if err := a.Check(t); err != nil {
			return Breach, err.Error()
		}
	}
	if a.Inspect != nil {
		if err := a.Inspect(t); err != nil {
			return Breach, err.Error()
		}
	}
	return Passed, ""
}

// Exception vectors.
const (
	vecDE = 0
	vecDB = 1
	vecBP = 3
	vecUD = 6
	vecGP = 13
	vecPF = 14
)

// The kernel's side of a task's address space (core/kernel/layout.go, entry.go).
const (
	directMap     = 0xffff_8000_0000_0000
	kernelStacks  = 0xffff_c000_0000_0000
	entryBase     = 0xffff_ff80_0000_0000
	entryCode     = entryBase + 0x1000
	entrySyscall  = entryCode + 0x400
	entryExit     = entryCode + 0x800
	entryGDT      = entryBase + 0x2000
	entryIDT      = entryBase + 0x3000
	entryROData   = entryBase + 0x4000
	entryTSS      = entryBase + 0x5000
	entryStack    = entryBase + 0x8000
	entryStackTop = entryBase + 0xa000
	entryNMITop   = entryBase + 0xb000
	coreImage     = 0x200000
	nonCanonical  = 0x8000_0000_0000_0000
	userTop       = 0x0000_8000_0000_0000
)

// HostileStacks are stack pointers a task can load before it traps: the kernel must never
// take one for its own.
var HostileStacks = []uint64{
	0, 8, 0xfff, coreImage, directMap + 0x40_0000, directMap, kernelStacks + 0x1_0000,
	entryBase, entryStackTop, entryStackTop - 8, entryNMITop, entryStack + 0x123,
	nonCanonical, userTop, 0xffff_7fff_ffff_fff0, ^uint64(0), 0x7fff_ffff_fff8, 0x7fff_ffff_0003,
}

// traps are instructions that enter the kernel, with what each must raise.
var traps = []struct {
	name   string
	insn   []byte
	sig    syscall.Signal
	vector int
}{
	{"ud2", insnUD2, syscall.SIGILL, vecUD},
	{"int3", insnINT3, syscall.SIGTRAP, vecBP},
	{"icebp", insnICEBP, 0, -1}, // #DB on hardware; #UD under QEMU's TCG, which leaves ICEBP out
	{"int80", intN(0x80), syscall.SIGSEGV, vecGP},
	{"hlt", insnHLT, syscall.SIGSEGV, vecGP},
	{"load0", insnLoad0, syscall.SIGSEGV, vecPF},
	{"div0", insnDivZero, syscall.SIGFPE, vecDE},
	{"push", insnPushRAX, 0, -1}, // #PF, #SS or #GP by the stack pointer
}

// Catalogue returns every instruction-level attack for a task in ring (1, 2 or 3).
func Catalogue(ring int) []Attack {
	var as []Attack
	as = append(as, hostileStackAttacks()...)
	as = append(as, softwareInterrupts()...)
	as = append(as, flagAttacks()...)
	as = append(as, privileged()...)
	as = append(as, kernelAccess(ring)...)
	as = append(as, segmentAttacks()...)
	as = append(as, randomSyscalls(64, 0x5eed_0000+uint64(ring))...)
	as = append(as, forgedSigreturns()...)
	return as
}

// hostileStackAttacks: every trap, a system call and a timer interrupt (a spin loop) with
// every hostile stack pointer. Decide privilege from RSP, and the kernel writes its trap frame
// wherever the task says.
func hostileStackAttacks() []Attack {
	var as []Attack
	for _, sp := range HostileStacks {
		as = append(as, hostileStack(sp)...)
	}
	return as
}

// hostileStack: the attacks of hostileStackAttacks for one stack pointer. A canonical one is
// the task's business: its traps are delivered as usual and a system call or an interrupt
// returns to it. The kernel never returns to a non-canonical one (IRETQ may fault in ring 0
// on some CPUs): the task gets SIGSEGV instead, on its signal stack.
func hostileStack(sp uint64) []Attack {
	r := Regs{}.With(RSP, sp).With(RBP, sp)
	var as []Attack
	for _, tr := range traps {
		a := Attack{Name: fmt.Sprintf("rsp=%#x %s", sp, tr.name), Code: Snippet(r, tr.insn...), Want: MustTrap, Signal: tr.sig, Vector: tr.vector}
		if tr.name == "push" {
			a.Want = Either // some of these stacks are the task's own
		}
		as = append(as, a)
	}
	sys := syscallPreserves(fmt.Sprintf("rsp=%#x syscall getpid", sp), r, syscall.SYS_GETPID)
	// 60 M TSC cycles: 20 ms at 3 GHz, twenty timer ticks. With 12 M (4 ms) a loaded CI host
	// once let a whole loop pass under TCG without an interrupt, and "ran to its end" read as
	// a breach.
	loop := Attack{Name: fmt.Sprintf("rsp=%#x spin (timer interrupts)", sp), Code: Snippet(r, spin(60_000_000)...), Want: MustEnd}
	if !canonical(sp) {
		sys.Want, sys.Signal, sys.Vector = MustTrap, syscall.SIGSEGV, -1
		loop.Want, loop.Signal, loop.Vector = MustTrap, syscall.SIGSEGV, -1
	}
	return append(as, sys, loop)
}

func canonical(va uint64) bool { return va < userTop || va >= 0xffff_8000_0000_0000 }

// syscallPreserves: SYSCALL nr with the registers of r and marker values in the others; every
// register but RAX, RCX and R11 must come back as it went in, RCX with the return address and
// R11 with RFLAGS, as on Linux.
func syscallPreserves(name string, r Regs, nr uint32) Attack {
	for reg := 0; reg < 16; reg++ {
		if r.Set&(1<<reg) == 0 && reg != RAX && reg != RSP {
			r = r.With(reg, 0x5afe_0000_0000_0000|uint64(reg)<<32|uint64(reg))
		}
	}
	code := Snippet(r, append(movEAX(nr), insnSyscall...)...)
	return Attack{Name: name, Code: code, Want: MustEnd, Check: func(t Trap) error {
		for reg, ctx := range ctxIndex {
			if reg == RAX || reg == RCX || reg == R11 || r.Set&(1<<reg) == 0 {
				continue
			}
			if got := t.Regs[ctx]; got != r.GPR[reg] {
				return fmt.Errorf("register %s came back %#x, went in %#x", regNames[reg], got, r.GPR[reg])
			}
		}
		return nil
	}}
}

// ctxIndex maps an encoding-order register to its slot in the signal context.
var ctxIndex = [16]int{RegRAX, RegRCX, RegRDX, RegRBX, RegRSP, RegRBP, RegRSI, RegRDI, RegR8, RegR9, RegR10, RegR11, RegR12, RegR13, RegR14, RegR15}

var regNames = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// softwareInterrupts: INT n for every vector. Only the breakpoint gate is open to tasks; every
// other one must be a #GP, never a pretend exception or interrupt.
func softwareInterrupts() []Attack {
	var as []Attack
	for v := 0; v < 256; v++ {
		a := Attack{Name: fmt.Sprintf("int %#x", v), Code: Snippet(Regs{}, intN(byte(v))...), Want: MustTrap, Signal: syscall.SIGSEGV, Vector: vecGP}
		if v == 3 {
			a.Signal, a.Vector = syscall.SIGTRAP, vecBP
		}
		as = append(as, a)
	}
	return as
}

// flagAttacks: RFLAGS bits a task may set (TF, AC, NT, DF, IOPL, which CPL > 0 cannot
// change) around traps and system calls.
func flagAttacks() []Attack {
	base := uint64(0x202)
	tf := Regs{}.WithFlags(base | FlagTF)
	as := []Attack{
		{Name: "tf nop", Code: Snippet(tf, insnNOP...), Want: MustTrap, Signal: syscall.SIGTRAP, Vector: vecDB},
		{Name: "tf syscall", Code: Snippet(tf, append(movEAX(syscall.SYS_GETPID), insnSyscall...)...), Want: MustTrap, Signal: syscall.SIGTRAP, Vector: vecDB},
		{Name: "tf int3", Code: Snippet(tf, insnINT3...), Want: MustTrap, Signal: syscall.SIGTRAP, Vector: -1},
		{Name: "tf ud2", Code: Snippet(tf, insnUD2...), Want: MustTrap, Signal: 0, Vector: -1},
		{Name: "tf int80", Code: Snippet(tf, intN(0x80)...), Want: MustTrap, Vector: -1},
	}
	for _, f := range []struct {
		name string
		bits uint64
	}{{"ac", FlagAC}, {"nt", FlagNT}, {"df", FlagDF}, {"iopl3", IOPL3}, {"ac+nt+df", FlagAC | FlagNT | FlagDF}} {
		r := Regs{}.WithFlags(base | f.bits)
		as = append(as,
			syscallPreserves(f.name+" syscall getpid", r, syscall.SYS_GETPID),
			clockGettimeWorks(f.name+" clock_gettime copies forwards", r),
			Attack{Name: f.name + " ud2", Code: Snippet(r, insnUD2...), Want: MustTrap, Signal: syscall.SIGILL, Vector: vecUD},
			Attack{Name: f.name + " int3", Code: Snippet(r, insnINT3...), Want: MustTrap, Signal: syscall.SIGTRAP, Vector: vecBP},
			Attack{Name: f.name + " cli", Code: Snippet(r, 0xfa), Want: MustTrap, Signal: syscall.SIGSEGV, Vector: vecGP},
			Attack{Name: f.name + " out 0xf4", Code: Snippet(r, 0xb0, 0x00, 0xe6, 0xf4), Want: MustTrap, Signal: syscall.SIGSEGV, Vector: vecGP},
			Attack{Name: f.name + " misaligned load", Code: Snippet(r, 0x48, 0x8b, 0x44, 0x24, 0x01), Want: Either},
		)
	}
	return as
}

// clockGettimeWorks: clock_gettime into the red zone below RSP must write forwards (the
// kernel clears DF) and return 0.
func clockGettimeWorks(name string, r Regs) Attack {
	// LEA RSI, [RSP-64]; MOV EDI, 1 (CLOCK_MONOTONIC); MOV EAX, 228; SYSCALL;
	// MOV RBX, [RSP-64] (seconds); MOV RDX, [RSP-56] (ns)
	code := cat([]byte{0x48, 0x8d, 0x74, 0x24, 0xc0, 0xbf, 1, 0, 0, 0}, movEAX(syscall.SYS_CLOCK_GETTIME), insnSyscall,
		[]byte{0x48, 0x8b, 0x5c, 0x24, 0xc0, 0x48, 0x8b, 0x54, 0x24, 0xc8})
	return Attack{Name: name, Code: Snippet(r, code...), Want: MustEnd, Check: func(t Trap) error {
		if rax := int64(t.Regs[RegRAX]); rax != 0 {
			return fmt.Errorf("clock_gettime returned %d", rax)
		}
		if ns := t.Regs[RegRDX]; ns >= 1e9 {
			return fmt.Errorf("clock_gettime wrote %d ns: not a timespec", ns)
		}
		return nil
	}}
}

// privileged: instructions only ring 0 may execute, and I/O to ports no task is granted.
func privileged() []Attack {
	insns := []struct {
		name string
		code []byte
	}{
		{"hlt", insnHLT}, {"cli", []byte{0xfa}}, {"sti", []byte{0xfb}},
		{"lgdt", []byte{0x0f, 0x01, 0x14, 0x24}}, {"lidt", []byte{0x0f, 0x01, 0x1c, 0x24}},
		{"lldt", []byte{0x0f, 0x00, 0xd0}}, {"ltr", []byte{0x0f, 0x00, 0xd8}},
		{"mov cr0 read", []byte{0x0f, 0x20, 0xc0}}, {"mov cr2 read", []byte{0x0f, 0x20, 0xd0}},
		{"mov cr3 read", []byte{0x0f, 0x20, 0xd8}}, {"mov cr4 read", []byte{0x0f, 0x20, 0xe0}},
		{"mov cr8 read", []byte{0x44, 0x0f, 0x20, 0xc0}},
		{"mov cr0 write", []byte{0x0f, 0x22, 0xc0}}, {"mov cr3 write", []byte{0x0f, 0x22, 0xd8}},
		{"mov cr4 write", []byte{0x0f, 0x22, 0xe0}}, {"mov cr8 write", []byte{0x44, 0x0f, 0x22, 0xc0}},
		{"mov dr7 read", []byte{0x0f, 0x21, 0xf8}}, {"mov dr0 write", []byte{0x0f, 0x23, 0xc0}},
		{"mov dr7 write", []byte{0x0f, 0x23, 0xf8}},
		{"rdmsr efer", cat([]byte{0xb9}, le32(0xc000_0080), []byte{0x0f, 0x32})},
		{"rdmsr lstar", cat([]byte{0xb9}, le32(0xc000_0082), []byte{0x0f, 0x32})},
		{"wrmsr lstar", cat([]byte{0xb9}, le32(0xc000_0082), []byte{0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x30})},
		{"wrmsr fs_base", cat([]byte{0xb9}, le32(0xc000_0100), []byte{0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x30})},
		{"invlpg", []byte{0x0f, 0x01, 0x38}}, {"invd", []byte{0x0f, 0x08}}, {"wbinvd", []byte{0x0f, 0x09}},
		{"clts", []byte{0x0f, 0x06}}, {"lmsw", []byte{0x0f, 0x01, 0xf0}},
		{"swapgs", []byte{0x0f, 0x01, 0xf8}}, {"sysret", []byte{0x48, 0x0f, 0x07}}, {"sysexit", []byte{0x48, 0x0f, 0x35}},
		{"rdpmc", []byte{0x31, 0xc9, 0x0f, 0x33}}, {"xsetbv", []byte{0x31, 0xc9, 0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x01, 0xd1}},
		{"wrfsbase", []byte{0xf3, 0x48, 0x0f, 0xae, 0xd0}}, {"wrgsbase", []byte{0xf3, 0x48, 0x0f, 0xae, 0xd8}},

		{"monitor", []byte{0x0f, 0x01, 0xc8}}, {"mwait", []byte{0x0f, 0x01, 0xc9}},
		{"vmcall", []byte{0x0f, 0x01, 0xc1}}, {"invpcid", []byte{0x66, 0x0f, 0x38, 0x82, 0x04, 0x24}},
	}
	var as []Attack
	for _, in := range insns {
		as = append(as, Attack{Name: in.name, Code: Snippet(Regs{}, in.code...), Want: MustTrap, Vector: -1})
	}
	// I/O: the PICs, PIT, keyboard, CMOS, POST, isa-debug-exit (power-off), PCI configuration,
	// both serial ports, the debug console, with every width and the string forms.
	for _, port := range []uint16{0x20, 0x21, 0x40, 0x43, 0x60, 0x61, 0x70, 0x71, 0x80, 0xa0, 0xe9, 0xf4, 0x2f8, 0x3f8, 0x3fd, 0xcf8, 0xcfc} {
		dx := cat([]byte{0x66, 0xba}, le16(port)) // MOV DX, port
		for _, io := range []struct {
			name string
			code []byte
		}{
			{"in al", []byte{0xec}}, {"in ax", []byte{0x66, 0xed}}, {"in eax", []byte{0xed}},
			{"out al", []byte{0xee}}, {"out eax", []byte{0xef}},
			{"insb", cat(movImm(nil, RDI, 0), []byte{0x6c})}, {"outsb", cat(movImm(nil, RSI, 0), []byte{0x6e})},
		} {
			as = append(as, Attack{Name: fmt.Sprintf("%s %#x", io.name, port), Code: Snippet(Regs{}, cat(dx, io.code)...), Want: MustTrap, Signal: syscall.SIGSEGV, Vector: vecGP})
		}
		if port < 0x100 {
			as = append(as, Attack{Name: fmt.Sprintf("out imm8 %#x", port), Code: Snippet(Regs{}, 0xe6, byte(port)), Want: MustTrap, Signal: syscall.SIGSEGV, Vector: vecGP})
		}
	}
	// A task's own rights: these must work.
	for _, in := range []struct {
		name string
		code []byte
	}{{"cpuid", []byte{0x31, 0xc0, 0x0f, 0xa2}}, {"rdtsc", []byte{0x0f, 0x31}}, {"rdtscp", []byte{0x0f, 0x01, 0xf9}}, {"pause", []byte{0xf3, 0x90}}} {
		as = append(as, Attack{Name: in.name, Code: Snippet(Regs{}, in.code...), Want: MustEnd})
	}
	// Descriptor-table reads, allowed unless the kernel turns UMIP on, and reading the FS base
	// (a #UD unless the kernel turns FSGSBASE on; harmless either way).
	for _, in := range []struct {
		name string
		code []byte
	}{{"sgdt", []byte{0x0f, 0x01, 0x44, 0x24, 0xf0}}, {"sidt", []byte{0x0f, 0x01, 0x4c, 0x24, 0xf0}}, {"str", []byte{0x0f, 0x00, 0xc8}}, {"sldt", []byte{0x0f, 0x00, 0xc0}}, {"smsw", []byte{0x0f, 0x01, 0xe0}}, {"rdfsbase", []byte{0xf3, 0x48, 0x0f, 0xae, 0xc0}}} {
		as = append(as, Attack{Name: in.name, Code: Snippet(Regs{}, in.code...), Want: Either})
	}
	return as
}

// kernelAccess: loads, stores and jumps into every part of the kernel's half. Rings 1 and 2
// can read supervisor pages, so the entry area's shared pages are readable there (and must
// not be writable); ring 3 reaches none of it.
func kernelAccess(ring int) []Attack {
	areas := []struct {
		name     string
		addr     uint64
		readable bool // from rings 1 and 2
		writable bool // from rings 1 and 2: the task's own entry stacks
	}{
		{"entry stubs", entryBase, true, false}, {"trampoline", entryCode, true, false},
		{"trampoline syscall", entrySyscall, true, false}, {"trampoline exit", entryExit, true, false},
		{"gdt", entryGDT, true, false}, {"idt", entryIDT, true, false}, {"entry data", entryROData, true, false},
		{"tss", entryTSS, true, false}, {"tss+2", entryTSS + 0x2800, true, false},
		{"entry stack", entryStack, true, true}, {"nmi stack", entryNMITop - 8, true, true},
		{"entry area end", entryBase + 0xb000, false, false},
		{"direct map", directMap, false, false}, {"direct map 4m", directMap + 0x40_0000, false, false},
		{"kernel stacks", kernelStacks + 0x1_0000, false, false},
		{"core image", coreImage, false, false}, {"page 0", 0, false, false},
	}
	var as []Attack
	for _, a := range areas {
		read, write := MustTrap, MustTrap
		if ring != 3 && a.readable {
			read = MustEnd
		}
		if ring != 3 && a.writable {
			write = MustEnd
		}
		as = append(as,
			Attack{Name: "load " + a.name, Code: Snippet(Regs{}, loadAbs(a.addr)...), Want: read, Signal: syscall.SIGSEGV, Vector: vecPF},
			Attack{Name: "store " + a.name, Code: Snippet(Regs{}, storeAbs(a.addr)...), Want: write, Signal: syscall.SIGSEGV, Vector: vecPF},
		)
		// Executing kernel code from a task's ring ends at its first privileged instruction
		// (rings 1, 2) or at the fetch (ring 3): a fault either way, never a way in.
		if a.addr != entryStack && a.addr != entryNMITop-8 {
			as = append(as, Attack{Name: "jump " + a.name, Code: Snippet(Regs{}, jmpAbs(a.addr)...), Want: MustTrap, Vector: -1})
		}
	}
	for _, addr := range []uint64{nonCanonical, userTop, 0xffff_7fff_ffff_f000} {
		as = append(as,
			Attack{Name: fmt.Sprintf("load %#x", addr), Code: Snippet(Regs{}, loadAbs(addr)...), Want: MustTrap, Signal: syscall.SIGSEGV, Vector: vecGP},
			Attack{Name: fmt.Sprintf("jump %#x", addr), Code: Snippet(Regs{}, jmpAbs(addr)...), Want: MustTrap, Signal: syscall.SIGSEGV, Vector: -1},
		)
	}
	return as
}

// segmentAttacks: loading every GDT selector, with every RPL, into the data segment
// registers, and far returns to every code selector (rings 1 and 2 may return outwards, to
// ring 2 or 3, in their own address space; nothing may return inwards).
func segmentAttacks() []Attack {
	var as []Attack
	for sel := uint16(0); sel < 0x60; sel += 8 {
		for rpl := uint16(0); rpl < 4; rpl++ {
			s := sel | rpl
			ax := cat([]byte{0x66, 0xb8}, le16(s)) // MOV AX, s
			for _, seg := range []struct {
				name string
				op   byte // MOV Sreg, AX: 8E /r with reg = sreg
			}{{"ds", 0xd8}, {"es", 0xc0}, {"ss", 0xd0}} {
				as = append(as, Attack{Name: fmt.Sprintf("mov %s, %#x", seg.name, s), Code: Snippet(Regs{}, cat(ax, []byte{0x8e, seg.op})...), Want: Either})
			}
		}
	}
	// Far returns and IRETQ to every code selector with every stack selector, with a whole
	// frame (a return to an outer ring pops the stack too). Rings 1 and 2 may return outwards
	// into their own address space, where ring 3 reaches none of their pages; nothing may
	// return inwards.
	for _, code := range []uint16{0x08, 0x19, 0x2a, 0x3b, 0x4b, 0x10, 0x00} {
		for _, stack := range []uint16{0x10, 0x21, 0x32, 0x43, 0x00} {
			as = append(as,
				Attack{Name: fmt.Sprintf("lret %#x:%#x", code, stack), Code: Snippet(Regs{}, farReturn(code, stack, false)...), Want: Either},
				Attack{Name: fmt.Sprintf("iretq %#x:%#x", code, stack), Code: Snippet(Regs{}, farReturn(code, stack, true)...), Want: Either},
			)
		}
	}
	return as
}

// farReturn builds a far-return frame (SS, RSP, [RFLAGS,] CS, RIP) to the snippet's end and
// executes REX.W RETF or IRETQ through it.
func farReturn(cs, ss uint16, iret bool) []byte {
	b := []byte{0x48, 0x89, 0xe0} // MOV RAX, RSP
	b = append(append(b, 0x68), le32(uint32(ss))...)
	b = append(b, 0x50) // PUSH RAX (the stack to return to)
	if iret {
		b = append(b, 0x9c) // PUSHFQ
	}
	b = append(append(b, 0x68), le32(uint32(cs))...)
	b = append(b, 0x48, 0x8d, 0x05, 0x03, 0, 0, 0, 0x50) // LEA RAX, [RIP+3]; PUSH RAX
	if iret {
		return append(b, 0x48, 0xcf)
	}
	return append(b, 0x48, 0xcb)
}

func le16(v uint16) []byte { return []byte{byte(v), byte(v >> 8)} }
func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// HostileStack is one attack: UD2 (or, with spin, a loop long enough for timer interrupts)
// with RSP and RBP set to sp.
func HostileStack(sp uint64, spinning bool) Attack {
	as := hostileStack(sp)
	if spinning {
		return as[len(as)-1]
	}
	return as[0]
}
