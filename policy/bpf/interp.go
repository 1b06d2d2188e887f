package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Program is a verified policy program, ready to run. A Program is not safe
// for concurrent use: its maps, trace and random state are shared by runs.
type Program struct {
	name      string
	hook      Hook
	insns     []insn
	maps      []*Map
	mapRegion []int // memory region of each map's entry 0

	trace []uint64
	clock func() uint64
	tick  uint64
	rng   uint64
}

// Name is the program's name (the ELF symbol, or what the spec said).
func (p *Program) Name() string { return p.name }

// Hook is the hook the program was verified for.
func (p *Program) Hook() Hook { return p.hook }

// Len is the program's length in raw 8-byte instruction slots.
func (p *Program) Len() int { return len(p.insns) }

// Maps are the maps the program references, by map index (ld_imm64 fd).
func (p *Program) Maps() []*Map { return p.maps }

// Trace is everything the trace helper (0x1000) appended so far.
func (p *Program) Trace() []uint64 { return p.trace }

// ResetTrace empties the trace.
func (p *Program) ResetTrace() { p.trace = p.trace[:0] }

// SetClock sets what ktime_get_ns returns. Without one, ktime_get_ns returns
// a counter that increases by one on every call (deterministic; no OS call).
func (p *Program) SetClock(clock func() uint64) { p.clock = clock }

// Seed sets the state of get_prandom_u32's generator (xorshift64*).
func (p *Program) Seed(seed uint64) { p.rng = seed }

func (p *Program) now() uint64 {
	if p.clock != nil {
		return p.clock()
	}
	p.tick++
	return p.tick
}

func (p *Program) rand() uint32 {
	if p.rng == 0 {
		p.rng = 0x9e3779b97f4a7c15
	}
	p.rng ^= p.rng >> 12
	p.rng ^= p.rng << 25
	p.rng ^= p.rng >> 27
	return uint32((p.rng * 2685821657736338717) >> 32)
}

// Pointers are 64-bit values region<<40 + 1<<32 + offset: the bias keeps
// small negative offsets (which the verifier allows in between accesses)
// inside the region. Region 0 is NULL; map handles use regionMapHandle.
const (
	regionCtx       = 1
	regionStack     = 2
	regionMaps      = 3 // first map value region
	regionMapHandle = 0xffffff
	regionBias      = 1 << 32
)

func regionAddr(region int, off int64) uint64 {
	return uint64(region)<<40 + regionBias + uint64(off)
}

func mapHandle(idx int) uint64 { return uint64(regionMapHandle)<<40 | uint64(idx) }

// ErrContextSize is returned by Run for a context of the wrong length.
var ErrContextSize = errors.New("bpf: context size does not match the hook")

// memory is one run's address space.
type memory struct {
	prog  *Program
	ctx   []byte
	stack *[StackSize]byte
}

func (m *memory) access(addr uint64, off int16, n int, write bool) ([]byte, error) {
	region := int(addr >> 40)
	o := int64(addr&(1<<40-1)) - regionBias + int64(off)
	var buf []byte
	switch {
	case region == regionCtx:
		if write {
			return nil, fmt.Errorf("write to context")
		}
		buf = m.ctx
	case region == regionStack:
		buf = m.stack[:]
	case region >= regionMaps && region < regionMapHandle:
		r := region - regionMaps
		for _, mp := range m.prog.maps {
			if r < int(mp.MaxEntries) {
				buf = mp.Lookup(uint32(r))
				break
			}
			r -= int(mp.MaxEntries)
		}
	}
	if buf == nil {
		return nil, fmt.Errorf("invalid memory access at %#x", addr)
	}
	if o < 0 || o+int64(n) > int64(len(buf)) {
		return nil, fmt.Errorf("memory access out of bounds at %#x%+d size %d", addr, off, n)
	}
	return buf[o : o+int64(n)], nil
}

func (m *memory) mapArg(v uint64) (*Map, int, error) {
	if v>>40 != regionMapHandle || v&(1<<40-1) >= uint64(len(m.prog.maps)) {
		return nil, 0, fmt.Errorf("invalid map argument %#x", v)
	}
	i := int(v & (1<<40 - 1))
	return m.prog.maps[i], i, nil
}

// Run executes the program over ctx and returns R0: 0 allows, anything else
// denies. len(ctx) must be the hook's CtxSize.
func (p *Program) Run(ctx []byte) (uint64, error) {
	r, _, err := p.RunCount(ctx)
	return r, err
}

// RunCount is Run that also returns the number of instructions executed
// (ld_imm64 counts once).
func (p *Program) RunCount(ctx []byte) (ret uint64, insns int, err error) {
	if len(ctx) != p.hook.CtxSize {
		return 0, 0, fmt.Errorf("%w: %d bytes, hook %s wants %d", ErrContextSize, len(ctx), p.hook.Name, p.hook.CtxSize)
	}
	var stack [StackSize]byte
	mem := memory{prog: p, ctx: ctx, stack: &stack}
	var r [11]uint64
	r[1] = regionAddr(regionCtx, 0)
	r[10] = regionAddr(regionStack, StackSize)
	prog := p.insns
	pc := 0
	for count := 0; ; count++ {
		if pc < 0 || pc >= len(prog) || count > len(prog) {
			return 0, count, fmt.Errorf("bpf: program %s: control left the program at pc %d", p.name, pc)
		}
		in := prog[pc]
		if in.dst > 10 || in.src > 10 {
			return 0, count, fmt.Errorf("bpf: program %s: insn %d: bad register", p.name, pc)
		}
		pc++
		switch cls := in.class(); cls {
		case classALU, classALU64:
			is64 := cls == classALU64
			op := in.op & 0xf0
			if op == aluEnd {
				r[in.dst] = endian(cls, in.op&srcX != 0, in.imm, r[in.dst])
				continue
			}
			src := immOperand(in.imm, is64)
			if in.op&srcX != 0 {
				src = r[in.src]
			}
			if in.dst == 10 {
				return 0, count, fmt.Errorf("bpf: program %s: insn %d: write to R10", p.name, pc-1)
			}
			r[in.dst] = alu(op, is64, r[in.dst], src)
		case classJMP, classJMP32:
			op := in.op & 0xf0
			switch {
			case op == jmpJA && cls == classJMP:
				pc += int(in.off)
			case op == jmpExit && cls == classJMP:
				return r[0], count + 1, nil
			case op == jmpCall && cls == classJMP:
				h, ok := p.hook.Helpers[in.imm]
				if !ok || h.Fn == nil {
					return 0, count, fmt.Errorf("bpf: program %s: insn %d: unknown helper %d", p.name, pc-1, in.imm)
				}
				v, err := h.Fn(&Env{prog: p, mem: &mem}, [5]uint64{r[1], r[2], r[3], r[4], r[5]})
				if err != nil {
					return 0, count, fmt.Errorf("bpf: program %s: insn %d: helper %s: %w", p.name, pc-1, h.Name, err)
				}
				r[0] = v
			default:
				is32 := cls == classJMP32
				b := immOperand(in.imm, !is32)
				if in.op&srcX != 0 {
					b = r[in.src]
				}
				if cond(op, is32, r[in.dst], b) {
					pc += int(in.off)
				}
			}
		case classLD:
			if in.op != opLdImm64 {
				return 0, count, fmt.Errorf("bpf: program %s: insn %d: bad opcode %#x", p.name, pc-1, in.op)
			}
			if in.src == pseudoMapFD {
				r[in.dst] = mapHandle(int(uint32(in.imm64)))
			} else {
				r[in.dst] = in.imm64
			}
			pc++
		case classLDX:
			n := memSize(in.op)
			b, err := mem.access(r[in.src], in.off, n, false)
			if err != nil {
				return 0, count, fmt.Errorf("bpf: program %s: insn %d: %w", p.name, pc-1, err)
			}
			r[in.dst] = getLE(b)
		case classST, classSTX:
			n := memSize(in.op)
			v := uint64(int64(in.imm))
			if cls == classSTX {
				v = r[in.src]
			}
			b, err := mem.access(r[in.dst], in.off, n, true)
			if err != nil {
				return 0, count, fmt.Errorf("bpf: program %s: insn %d: %w", p.name, pc-1, err)
			}
			putLE(b, v)
		}
	}
}

func getLE(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	default:
		return binary.LittleEndian.Uint64(b)
	}
}

func putLE(b []byte, v uint64) {
	switch len(b) {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	default:
		binary.LittleEndian.PutUint64(b, v)
	}
}
