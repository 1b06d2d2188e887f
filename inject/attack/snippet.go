package attack

import "encoding/binary"

// Registers in the x86 encoding order, as Regs.GPR indexes them.
const (
	RAX = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// Regs is the register state a snippet loads before its attack instructions. Only the
// registers in Set are loaded; RSP is loaded last, after RFLAGS, so that the snippet's own
// set-up never touches a hostile stack.
type Regs struct {
	GPR      [16]uint64
	Set      uint16 // bit i: load GPR[i]
	Flags    uint64 // RFLAGS, popped just before RSP is loaded (when SetFlags)
	SetFlags bool
}

// With returns r with register reg set to v.
func (r Regs) With(reg int, v uint64) Regs {
	r.GPR[reg] = v
	r.Set |= 1 << reg
	return r
}

// WithFlags returns r with RFLAGS set to f before the attack.
func (r Regs) WithFlags(f uint64) Regs {
	r.Flags, r.SetFlags = f, true
	return r
}

// RFLAGS bits.
const (
	FlagTF = 1 << 8
	FlagIF = 1 << 9
	FlagDF = 1 << 10
	FlagNT = 1 << 14
	FlagAC = 1 << 18
	IOPL3  = 3 << 12
)

// ud2 ends every snippet: the trap that brings it back to the harness.
var ud2 = []byte{0x0f, 0x0b}

// Snippet returns machine code that loads r and then executes insn, ending with UD2. The
// attack instructions start at offset Start(r).
func Snippet(r Regs, insn ...byte) []byte {
	b := prologue(r)
	b = append(b, insn...)
	return append(b, ud2...)
}

// Start returns the offset of the attack instructions in a snippet built with r.
func Start(r Regs) int { return len(prologue(r)) }

func prologue(r Regs) []byte {
	var b []byte
	if r.SetFlags {
		b = append(b, 0x68) // PUSH imm32 (sign-extended)
		b = binary.LittleEndian.AppendUint32(b, uint32(r.Flags))
	}
	for reg := 0; reg < 16; reg++ {
		if reg != RSP && r.Set&(1<<reg) != 0 {
			b = movImm(b, reg, r.GPR[reg])
		}
	}
	if r.SetFlags {
		b = append(b, 0x9d) // POPFQ
	}
	if r.Set&(1<<RSP) != 0 {
		b = movImm(b, RSP, r.GPR[RSP])
	}
	return b
}

// movImm appends MOVABS reg, imm64.
func movImm(b []byte, reg int, v uint64) []byte {
	rex := byte(0x48)
	if reg >= 8 {
		rex |= 1
	}
	b = append(b, rex, 0xb8+byte(reg&7))
	return binary.LittleEndian.AppendUint64(b, v)
}

// Instruction encodings the catalogue uses.
var (
	insnUD2     = []byte{0x0f, 0x0b}
	insnINT3    = []byte{0xcc}
	insnICEBP   = []byte{0xf1}
	insnHLT     = []byte{0xf4}
	insnNOP     = []byte{0x90}
	insnSyscall = []byte{0x0f, 0x05}
	insnPushRAX = []byte{0x50}
	insnLoad0   = []byte{0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0} // MOV RAX, [0]
	insnDivZero = []byte{0x31, 0xc9, 0xf7, 0xf1}             // XOR ECX, ECX; DIV ECX
)

// intN is INT n.
func intN(n byte) []byte { return []byte{0xcd, n} }

// movEAX is MOV EAX, imm32 (zero-extends into RAX).
func movEAX(v uint32) []byte { return binary.LittleEndian.AppendUint32([]byte{0xb8}, v) }

// spin loops until the TSC has advanced by cycles: long enough for timer interrupts (every
// millisecond) to arrive mid-loop however fast the machine runs the loop. It clobbers RAX, RCX
// and RDX, and touches no memory.
func spin(cycles uint32) []byte {
	return cat(
		[]byte{0x0f, 0x31},             // RDTSC
		[]byte{0x48, 0xc1, 0xe2, 0x20}, // SHL RDX, 32
		[]byte{0x48, 0x09, 0xc2},       // OR RDX, RAX: the start
		binary.LittleEndian.AppendUint32([]byte{0x48, 0x81, 0xc2}, cycles), // ADD RDX, cycles
		[]byte{0x48, 0x89, 0xd1},       // MOV RCX, RDX: the deadline
		[]byte{0x0f, 0x31},             // loop: RDTSC
		[]byte{0x48, 0xc1, 0xe2, 0x20}, // SHL RDX, 32
		[]byte{0x48, 0x09, 0xd0},       // OR RAX, RDX: now
		[]byte{0x48, 0x39, 0xc8},       // CMP RAX, RCX
		[]byte{0x72, 0xf2},             // JB loop (-14)
	)
}

// jmpAbs is MOVABS RAX, addr; JMP RAX.
func jmpAbs(addr uint64) []byte { return append(movImm(nil, RAX, addr), 0xff, 0xe0) }

// loadAbs is MOVABS RAX, addr; MOV RAX, [RAX].
func loadAbs(addr uint64) []byte { return append(movImm(nil, RAX, addr), 0x48, 0x8b, 0x00) }

// storeAbs is MOVABS RAX, addr; MOV [RAX], RAX.
func storeAbs(addr uint64) []byte { return append(movImm(nil, RAX, addr), 0x48, 0x89, 0x00) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}
