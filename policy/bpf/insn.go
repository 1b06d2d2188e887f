package bpf

import (
	"encoding/binary"
	"fmt"
)

// Raw eBPF encoding (see the Linux instruction-set document).
const (
	classLD    = 0x00
	classLDX   = 0x01
	classST    = 0x02
	classSTX   = 0x03
	classALU   = 0x04
	classJMP   = 0x05
	classJMP32 = 0x06
	classALU64 = 0x07

	srcX = 0x08 // source operand is a register (BPF_X), else the immediate (BPF_K)

	aluAdd  = 0x00
	aluSub  = 0x10
	aluMul  = 0x20
	aluDiv  = 0x30
	aluOr   = 0x40
	aluAnd  = 0x50
	aluLsh  = 0x60
	aluRsh  = 0x70
	aluNeg  = 0x80
	aluMod  = 0x90
	aluXor  = 0xa0
	aluMov  = 0xb0
	aluArsh = 0xc0
	aluEnd  = 0xd0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40
	jmpJNE  = 0x50
	jmpJSGT = 0x60
	jmpJSGE = 0x70
	jmpCall = 0x80
	jmpExit = 0x90
	jmpJLT  = 0xa0
	jmpJLE  = 0xb0
	jmpJSLT = 0xc0
	jmpJSLE = 0xd0

	modeMem = 0x60
	modeImm = 0x00

	sizeW  = 0x00
	sizeH  = 0x08
	sizeB  = 0x10
	sizeDW = 0x18

	opLdImm64 = classLD | modeImm | sizeDW // 0x18

	pseudoMapFD = 1 // ld_imm64 src: imm is a map (index into the program's maps)
)

// Limits.
const (
	// MaxInsns is the largest program accepted, in raw 8-byte instruction slots.
	MaxInsns = 4096
	// MaxExplored bounds the verifier's work: instructions explored over all paths.
	MaxExplored = 100000
	// StackSize is the size of the stack R10 points to the top of.
	StackSize = 512
	// MaxMaps is the most maps one program may reference.
	MaxMaps = 64
	// MaxMapEntries and MaxValueSize bound one array map.
	MaxMapEntries = 65536
	MaxValueSize  = 65536
)

// insn is one raw 8-byte instruction slot. For ld_imm64 the first slot carries
// the full 64-bit immediate in imm64 and the second slot is marked half.
type insn struct {
	op    uint8
	dst   uint8
	src   uint8
	off   int16
	imm   int32
	imm64 uint64 // ld_imm64 only
	half  bool   // second slot of a ld_imm64
}

// decodeRaw splits little-endian raw instructions into slots. It does not
// validate anything beyond the length; that is the verifier's job.
func decodeRaw(b []byte) ([]insn, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("raw program is %d bytes, not a multiple of 8", len(b))
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("empty program")
	}
	if len(b)/8 > MaxInsns {
		// Still decode: the verifier reports the limit with an instruction index.
		// Cap the work though: one slot past the limit is enough.
		b = b[:(MaxInsns+1)*8]
	}
	out := make([]insn, len(b)/8)
	for i := range out {
		s := b[i*8 : i*8+8]
		out[i] = insn{
			op:  s[0],
			dst: s[1] & 0x0f,
			src: s[1] >> 4,
			off: int16(binary.LittleEndian.Uint16(s[2:4])),
			imm: int32(binary.LittleEndian.Uint32(s[4:8])),
		}
	}
	for i := 0; i < len(out); i++ {
		if out[i].op == opLdImm64 && i+1 < len(out) {
			out[i].imm64 = uint64(uint32(out[i].imm)) | uint64(uint32(out[i+1].imm))<<32
			out[i+1].half = true
			i++
		}
	}
	return out, nil
}

func (in insn) class() uint8 { return in.op & 0x07 }

// memSize is the access width in bytes of a load/store opcode.
func memSize(op uint8) int {
	switch op & 0x18 {
	case sizeB:
		return 1
	case sizeH:
		return 2
	case sizeW:
		return 4
	default:
		return 8
	}
}

// alu computes a non-END ALU operation exactly as the interpreter does. It is
// shared with the verifier so constant folding can never disagree with Run.
// Division by zero yields 0 and modulo by zero leaves dst unchanged (Linux
// semantics), although verified programs never divide by zero.
func alu(op uint8, is64 bool, dst, src uint64) uint64 {
	if !is64 {
		d, s := uint32(dst), uint32(src)
		var r uint32
		switch op {
		case aluAdd:
			r = d + s
		case aluSub:
			r = d - s
		case aluMul:
			r = d * s
		case aluDiv:
			if s != 0 {
				r = d / s
			}
		case aluMod:
			r = d
			if s != 0 {
				r = d % s
			}
		case aluOr:
			r = d | s
		case aluAnd:
			r = d & s
		case aluLsh:
			r = d << (s & 31)
		case aluRsh:
			r = d >> (s & 31)
		case aluArsh:
			r = uint32(int32(d) >> (s & 31))
		case aluNeg:
			r = -d
		case aluXor:
			r = d ^ s
		case aluMov:
			r = s
		}
		return uint64(r)
	}
	switch op {
	case aluAdd:
		return dst + src
	case aluSub:
		return dst - src
	case aluMul:
		return dst * src
	case aluDiv:
		if src == 0 {
			return 0
		}
		return dst / src
	case aluMod:
		if src == 0 {
			return dst
		}
		return dst % src
	case aluOr:
		return dst | src
	case aluAnd:
		return dst & src
	case aluLsh:
		return dst << (src & 63)
	case aluRsh:
		return dst >> (src & 63)
	case aluArsh:
		return uint64(int64(dst) >> (src & 63))
	case aluNeg:
		return -dst
	case aluXor:
		return dst ^ src
	case aluMov:
		return src
	}
	return 0
}

// endian computes an END instruction: class ALU with BPF_TO_LE (src bit 0)
// truncates to the width (the interpreter is little-endian), with BPF_TO_BE
// byte-swaps within the width; class ALU64 always byte-swaps (bswap).
func endian(class uint8, toBE bool, width int32, v uint64) uint64 {
	swap := class == classALU64 || toBE
	switch width {
	case 16:
		x := uint16(v)
		if swap {
			x = x>>8 | x<<8
		}
		return uint64(x)
	case 32:
		x := uint32(v)
		if swap {
			x = x>>24 | (x>>8)&0xff00 | (x<<8)&0xff0000 | x<<24
		}
		return uint64(x)
	default:
		if swap {
			var r uint64
			for i := 0; i < 8; i++ {
				r = r<<8 | (v>>(8*i))&0xff
			}
			return r
		}
		return v
	}
}

// cond evaluates a conditional jump on concrete operands.
func cond(op uint8, is32 bool, a, b uint64) bool {
	if is32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
	}
	sa, sb := int64(a), int64(b)
	if is32 {
		sa, sb = int64(int32(uint32(a))), int64(int32(uint32(b)))
	}
	switch op {
	case jmpJEQ:
		return a == b
	case jmpJNE:
		return a != b
	case jmpJGT:
		return a > b
	case jmpJGE:
		return a >= b
	case jmpJLT:
		return a < b
	case jmpJLE:
		return a <= b
	case jmpJSET:
		return a&b != 0
	case jmpJSGT:
		return sa > sb
	case jmpJSGE:
		return sa >= sb
	case jmpJSLT:
		return sa < sb
	case jmpJSLE:
		return sa <= sb
	}
	return false
}

// immOperand is the value of the immediate as the second operand of an ALU
// or jump instruction: sign-extended for 64-bit operations, zero-extended
// 32-bit for 32-bit ones.
func immOperand(imm int32, is64 bool) uint64 {
	if is64 {
		return uint64(int64(imm))
	}
	return uint64(uint32(imm))
}
