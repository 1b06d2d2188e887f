// Runs in trap context: nosplit, no allocation, no heap pointer writes.

package bpfvm

import "unsafe"

// Limits of one installed program.
const (
	// MaxInsns is the largest program, in raw 8-byte instruction slots
	// (the same limit as policy/bpf).
	MaxInsns = 4096
	// MaxMaps is the most array maps one program may use.
	MaxMaps = 4
	// MaxMapBytes is the total value storage of a program's maps.
	MaxMapBytes = 4096
	// MaxCtxSize is the largest context.
	MaxCtxSize = 1 << 20
	// StackSize is the eBPF stack R10 points to the top of.
	StackSize = 512
	// TraceLen is how many trace helper values a program keeps.
	TraceLen = 16
)

// Helper numbers this VM implements (policy/bpf's default helpers).
const (
	HelperMapLookupElem = 1
	HelperKtimeGetNs    = 5
	HelperGetPrandomU32 = 7
	HelperTrace         = 0x1000
)

// MapInfo is the layout of one array map (4-byte keys), in the order the
// program references maps (ld_imm64 src=1 immediate; policy/bpf's
// Program.Maps order).
type MapInfo struct {
	ValueSize  uint32
	MaxEntries uint32
}

// mapDesc is a map's descriptor. A map reference (ld_imm64 src=1) loads the
// kernel address of the map's descriptor; map_lookup_elem checks that R1 is
// exactly one of them.
type mapDesc struct {
	valueSize uint32
	entries   uint32
	off       uint32 // offset of entry 0 in store
	size      uint32 // valueSize * entries
}

const mapDescSize = 16 // unsafe.Sizeof(mapDesc{}); checked in the tests

// Program is an installed program: fixed size, no pointers, meant to live in
// a static kernel table. The zero Program is empty and Run rejects it.
type Program struct {
	insns     [MaxInsns]uint64 // raw little-endian instruction slots
	n         int              // slots in use; 0 = nothing installed
	maps      [MaxMaps]mapDesc
	nmaps     int
	storeUsed int // bytes of store used by the maps
	ctxSize   int
	traceN    int // trace values produced since the last ResetTrace
	traceBuf  [TraceLen]uint64
	store     [MaxMapBytes]byte
}

// Scratch is the per-CPU working memory of Run: the register file, the eBPF
// stack and the get_prandom_u32 state (which persists across runs).
type Scratch struct {
	regs  [16]uint64 // R0..R10; 16 so that a 4-bit register index needs no check
	stack [StackSize]byte
	rng   uint64
}

// Seed sets the state of get_prandom_u32's generator (like bpf.Program.Seed).
//
//go:nosplit
func (s *Scratch) Seed(seed uint64) { s.rng = seed }

// Len is the installed program's length in raw instruction slots.
//
//go:nosplit
func (p *Program) Len() int { return p.n }

// CtxSize is the context size the program was installed for.
//
//go:nosplit
func (p *Program) CtxSize() int { return p.ctxSize }

// Maps is the number of maps the program uses.
//
//go:nosplit
func (p *Program) Maps() int { return p.nmaps }

// MapValue returns the live value of map m under key (writes through the
// slice are seen by the program), or nil if m or key is out of range. The
// slice aliases the Program; do not use it while the program runs.
//
//go:nosplit
func (p *Program) MapValue(m int, key uint32) []byte {
	if m < 0 || m >= p.nmaps || m >= MaxMaps {
		return nil
	}
	d := &p.maps[m]
	if key >= d.entries {
		return nil
	}
	lo := uint64(d.off) + uint64(key)*uint64(d.valueSize)
	hi := lo + uint64(d.valueSize)
	if hi > MaxMapBytes || hi > uint64(p.storeUsed) {
		return nil
	}
	return p.store[lo:hi:hi]
}

// Trace returns the trace values kept since the last ResetTrace (at most
// TraceLen; see TraceDropped). The slice aliases the Program.
//
//go:nosplit
func (p *Program) Trace() []uint64 {
	n := p.traceN
	if n > TraceLen {
		n = TraceLen
	}
	if n < 0 {
		n = 0
	}
	return p.traceBuf[:n]
}

// TraceDropped is how many trace values did not fit since the last ResetTrace.
//
//go:nosplit
func (p *Program) TraceDropped() int {
	if p.traceN <= TraceLen {
		return 0
	}
	return p.traceN - TraceLen
}

// ResetTrace empties the trace.
//
//go:nosplit
func (p *Program) ResetTrace() { p.traceN = 0 }

// le64 reads 8 little-endian bytes at b[i:]; the caller checked that
// 0 <= i <= len(b)-8.
//
//go:nosplit
func le64(b []byte, i int) uint64 {
	q := (*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
	return uint64(q[0]) | uint64(q[1])<<8 | uint64(q[2])<<16 | uint64(q[3])<<24 |
		uint64(q[4])<<32 | uint64(q[5])<<40 | uint64(q[6])<<48 | uint64(q[7])<<56
}

// Instruction fields of a raw slot.
//
//go:nosplit
func insOp(ins uint64) uint8 { return uint8(ins) }

//go:nosplit
func insDst(ins uint64) uint { return uint(ins>>8) & 15 }

//go:nosplit
func insSrc(ins uint64) uint { return uint(ins>>12) & 15 }

//go:nosplit
func insOff(ins uint64) int16 { return int16(ins >> 16) }

//go:nosplit
func insImm(ins uint64) int32 { return int32(ins >> 32) }

// Install copies a program that policy/bpf has verified into p: raw is its
// raw instruction stream (bpf.Program.Raw), maps the layout of its maps in
// reference order (bpf.Program.Maps) and ctxSize its hook's context size.
// The maps start zeroed and the trace empty. It reports false, leaving p
// empty, if the program uses something this VM does not implement (more
// than MaxMaps maps or MaxMapBytes of values, a call to a helper other than
// 1, 5, 7 and 0x1000 — even in dead code, which the verifier does not
// look at) or is structurally malformed (bad opcode or register, write to
// backward or out-of-range jump, malformed ld_imm64). Map references are
// checked when they execute, and writes to R10 are not rejected (the
// verifier rejects both only on reachable paths; R10 is just an address
// that every access checks, so a write to it cannot break memory safety).
//
// Install runs in ordinary context, but it does not allocate and may be
// called with interrupts off. It must not race with Run on the same p.
//
//go:nosplit
func Install(p *Program, raw []byte, maps []MapInfo, ctxSize int) bool {
	p.n = 0
	p.nmaps = 0
	p.storeUsed = 0
	p.ctxSize = 0
	p.traceN = 0
	if len(raw)%8 != 0 || len(raw) == 0 || len(raw) > 8*MaxInsns {
		return false
	}
	if ctxSize <= 0 || ctxSize > MaxCtxSize || len(maps) > MaxMaps {
		return false
	}
	used := uint64(0)
	for i := 0; i < len(maps) && i < MaxMaps; i++ {
		vs, ne := maps[i].ValueSize, maps[i].MaxEntries
		if vs == 0 || ne == 0 || vs > MaxMapBytes || ne > MaxMapBytes {
			return false
		}
		sz := uint64(vs) * uint64(ne)
		if used+sz > MaxMapBytes {
			return false
		}
		p.maps[i] = mapDesc{valueSize: vs, entries: ne, off: uint32(used), size: uint32(sz)}
		used += sz
	}
	n := len(raw) / 8
	for pc := 0; pc < n && pc < MaxInsns; pc++ {
		ins := le64(raw, 8*pc)
		width := 1
		if insOp(ins) == opLdImm64 {
			width = 2
			if pc+1 >= n {
				return false
			}
			half := le64(raw, 8*(pc+1))
			if uint32(half) != 0 { // op, regs, off of the second half
				return false
			}
		}
		end, ok := checkInsn(ins, pc, n)
		if !ok {
			return false
		}
		if t, jumps := jumpTarget(ins, pc); jumps {
			// checkInsn bounded t to (pc, n). No real instruction has
			// opcode 0, so this also rejects jumps into a ld_imm64.
			if t <= pc || t >= n || insOp(le64(raw, 8*t)) == 0 {
				return false
			}
		}
		if !end && pc+width >= n {
			return false // falls off the end
		}
		pc += width - 1
	}
	for i := 0; i < n && i < MaxInsns; i++ {
		p.insns[i] = le64(raw, 8*i)
	}
	for i := range p.store {
		p.store[i] = 0
	}
	p.storeUsed = int(used)
	p.nmaps = len(maps)
	p.ctxSize = ctxSize
	p.n = n
	return true
}

// jumpTarget is the target slot of a jump instruction (not call or exit).
//
//go:nosplit
func jumpTarget(ins uint64, pc int) (int, bool) {
	op := insOp(ins)
	cls := op & 7
	if cls != classJMP && cls != classJMP32 {
		return 0, false
	}
	if c := op & 0xf0; c == jmpCall || c == jmpExit {
		return 0, false
	}
	return pc + 1 + int(insOff(ins)), true
}

// checkInsn checks one instruction the way policy/bpf's verifier checks
// opcodes (plus the helper numbers this VM implements). end is
// true for instructions after which control does not fall through.
//
//go:nosplit
func checkInsn(ins uint64, pc, n int) (end, ok bool) {
	op := insOp(ins)
	dst, src := insDst(ins), insSrc(ins)
	off, imm := insOff(ins), insImm(ins)
	if dst > 10 || src > 10 {
		return false, false
	}
	x := op&srcX != 0
	switch cls := op & 7; cls {
	case classALU, classALU64:
		c := op & 0xf0
		if c > aluEnd || off != 0 || (!x && src != 0) {
			return false, false
		}
		switch c {
		case aluEnd:
			if cls == classALU64 && x {
				return false, false
			}
			if imm != 16 && imm != 32 && imm != 64 {
				return false, false
			}
		case aluNeg:
			if x {
				return false, false
			}
		case aluDiv, aluMod:
			if !x && imm == 0 {
				return false, false
			}
		case aluLsh, aluRsh, aluArsh:
			if !x {
				bits := int32(64)
				if cls == classALU {
					bits = 32
				}
				if imm < 0 || imm >= bits {
					return false, false
				}
			}
		}
	case classJMP, classJMP32:
		c := op & 0xf0
		if c > jmpJSLE {
			return false, false
		}
		switch c {
		case jmpJA, jmpCall, jmpExit:
			if cls == classJMP32 || x {
				return false, false
			}
			if c == jmpCall {
				if src != 0 {
					return false, false
				}
				switch imm {
				case HelperMapLookupElem, HelperKtimeGetNs, HelperGetPrandomU32, HelperTrace:
				default:
					return false, false
				}
				return false, true
			}
			if c == jmpExit {
				return true, true
			}
			end = true // ja
		default:
			if !x && src != 0 {
				return false, false
			}
		}
		t := pc + 1 + int(off)
		if t <= pc || t >= n {
			return false, false
		}
		return end, true
	case classLD:
		if op != opLdImm64 || off != 0 {
			return false, false
		}
		switch src {
		case 0:
		case pseudoMapFD:
			// The map index is checked when the instruction runs: the
			// verifier checks it only on reachable paths.
		default:
			return false, false
		}
	case classLDX:
		if op&0xe0 != modeMem {
			return false, false
		}
	case classST, classSTX:
		if op&0xe0 != modeMem {
			return false, false
		}
	}
	return false, true
}

// Raw eBPF encoding.
const (
	classLD    = 0x00
	classLDX   = 0x01
	classST    = 0x02
	classSTX   = 0x03
	classALU   = 0x04
	classJMP   = 0x05
	classJMP32 = 0x06
	classALU64 = 0x07

	srcX = 0x08

	aluDiv  = 0x30
	aluLsh  = 0x60
	aluRsh  = 0x70
	aluNeg  = 0x80
	aluMod  = 0x90
	aluArsh = 0xc0
	aluEnd  = 0xd0

	jmpJA   = 0x00
	jmpCall = 0x80
	jmpExit = 0x90
	jmpJSLE = 0xd0

	modeMem   = 0x60
	opLdImm64 = 0x18

	pseudoMapFD = 1
)

// addrOf is the kernel address of b[0] (b is inside a Program or Scratch).
//
//go:nosplit
func addrOf(b *byte) uint64 { return uint64(uintptr(unsafe.Pointer(b))) }
