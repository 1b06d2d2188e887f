// Runs in trap context: nosplit, no allocation, no heap pointer writes.
// (That is the package under test; this test file itself is ordinary Go.)

package bpfvm

import (
	"math/rand"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/simpleos/simpleos/policy/bpf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gen turns bytes into a program that usually verifies: all registers
// initialized up front, stack slots fp-64..fp-8 initialized, forward jumps
// over whole units, guarded divisions, helper calls followed by
// re-initialization of R1..R5, NULL-checked map accesses.
type gen struct {
	b     []byte
	nmaps int
	vsize []int
}

func (g *gen) n(k int) int {
	if len(g.b) == 0 || k <= 0 {
		return 0
	}
	v := int(g.b[0])
	g.b = g.b[1:]
	return v % k
}

func (g *gen) reg() asm.Register  { return asm.Register(g.n(10)) }    // R0..R9
func (g *gen) hreg() asm.Register { return asm.Register(6 + g.n(4)) } // R6..R9
func (g *gen) imm() int32 {
	switch g.n(4) {
	case 0:
		return int32(g.n(256)) - 128
	case 1:
		return []int32{0, 1, -1, 31, 32, 63, 64, 0x7fffffff, -0x80000000, 0xffff}[g.n(10)]
	default:
		return int32(uint32(g.n(256)) | uint32(g.n(256))<<8 | uint32(g.n(256))<<16 | uint32(g.n(256))<<24)
	}
}

var sizes = []asm.Size{asm.Byte, asm.Half, asm.Word, asm.DWord}
var sizeBytes = []int{1, 2, 4, 8}

type unit struct {
	ins  asm.Instructions
	skip int // > 0: the last instruction jumps over the next skip units
}

func (g *gen) program() asm.Instructions {
	var units []unit
	add := func(ins ...asm.Instruction) { units = append(units, unit{ins: ins}) }
	reinit := func() asm.Instructions {
		var out asm.Instructions
		for r := asm.R1; r <= asm.R5; r++ {
			out = append(out, asm.Mov.Imm(r, g.imm()))
		}
		return out
	}
	// Prologue: R0, R2..R9 and finally R1 from the context or constants.
	for _, r := range []asm.Register{0, 2, 3, 4, 5, 6, 7, 8, 9, 1} {
		if g.n(3) == 0 {
			add(asm.Mov.Imm(r, g.imm()))
		} else {
			si := g.n(4)
			off := g.n(64/sizeBytes[si]) * sizeBytes[si]
			add(asm.LoadMem(r, asm.R1, int16(off), sizes[si]))
		}
	}
	for s := 1; s <= 8; s++ {
		add(asm.StoreMem(asm.R10, int16(-8*s), asm.Register(s), asm.DWord))
	}
	aluOps := []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.Or, asm.And, asm.LSh, asm.RSh, asm.Neg, asm.Mod, asm.Xor, asm.Mov, asm.ArSh, asm.Swap}
	jmpOps := []asm.JumpOp{asm.JEq, asm.JNE, asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSet, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE}
	nu := 5 + g.n(40)
	for i := 0; i < nu && len(g.b) > 0; i++ {
		switch g.n(12) {
		case 0, 1, 2, 3: // ALU
			op := aluOps[g.n(len(aluOps))]
			is32 := g.n(2) == 0
			d, s := g.reg(), g.reg()
			switch {
			case op == asm.Swap:
				w := []asm.Size{asm.Half, asm.Word, asm.DWord}[g.n(3)]
				switch g.n(3) {
				case 0:
					add(asm.HostTo(asm.LE, d, w))
				case 1:
					add(asm.HostTo(asm.BE, d, w))
				default:
					add(asm.BSwap(d, w))
				}
			case op == asm.Neg:
				if is32 {
					add(asm.Neg.Imm32(d, 0))
				} else {
					add(asm.Neg.Imm(d, 0))
				}
			case g.n(2) == 0: // immediate
				k := g.imm()
				if op == asm.Div || op == asm.Mod {
					if k == 0 {
						k = 3
					}
				}
				if op == asm.LSh || op == asm.RSh || op == asm.ArSh {
					k = int32(g.n(32))
					if !is32 {
						k = int32(g.n(64))
					}
				}
				if is32 {
					add(op.Imm32(d, k))
				} else {
					add(op.Imm(d, k))
				}
			default: // register
				if op == asm.Div || op == asm.Mod {
					if is32 {
						add(asm.Mov.Reg32(asm.R9, s), asm.Or.Imm32(asm.R9, 1), op.Reg32(d, asm.R9))
					} else {
						add(asm.Mov.Reg(asm.R9, s), asm.Or.Imm(asm.R9, 1), op.Reg(d, asm.R9))
					}
				} else if is32 {
					add(op.Reg32(d, s))
				} else {
					add(op.Reg(d, s))
				}
			}
		case 4, 5: // conditional jump over 1..3 units
			op := jmpOps[g.n(len(jmpOps))]
			var j asm.Instruction
			d, s, k := g.reg(), g.reg(), g.imm()
			switch g.n(4) {
			case 0:
				j = op.Imm(d, k, "")
			case 1:
				j = op.Imm32(d, k, "")
			case 2:
				j = op.Reg(d, s, "")
			default:
				j = op.Reg32(d, s, "")
			}
			units = append(units, unit{ins: asm.Instructions{j}, skip: 1 + g.n(3)})
		case 6: // stack store
			si := g.n(4)
			slot := -8 * (1 + g.n(8))
			off := slot + g.n(8/sizeBytes[si])*sizeBytes[si]
			if g.n(2) == 0 {
				add(asm.StoreMem(asm.R10, int16(off), g.reg(), sizes[si]))
			} else if si == 3 {
				add(stDW(asm.R10, int16(off), g.imm()))
			} else {
				add(asm.StoreImm(asm.R10, int16(off), int64(g.imm()), sizes[si]))
			}
		case 7: // stack load
			si := g.n(4)
			slot := -8 * (1 + g.n(8))
			off := slot + g.n(8/sizeBytes[si])*sizeBytes[si]
			add(asm.LoadMem(g.reg(), asm.R10, int16(off), sizes[si]))
		case 8: // helpers
			switch g.n(3) {
			case 0:
				add(append(asm.Instructions{asm.Mov.Reg(asm.R1, g.reg()), asm.BuiltinFunc(bpf.HelperTrace).Call()}, reinit()...)...)
			case 1:
				add(append(asm.Instructions{asm.FnKtimeGetNs.Call()}, reinit()...)...)
			default:
				add(append(asm.Instructions{asm.FnGetPrandomU32.Call()}, reinit()...)...)
			}
		case 9, 10: // map access
			if g.nmaps == 0 {
				continue
			}
			m := g.n(g.nmaps)
			si := g.n(4)
			vs := g.vsize[m]
			if sizeBytes[si] > vs {
				si = 0
			}
			off := int16(g.n(vs - sizeBytes[si] + 1))
			key, v := g.reg(), g.hreg()
			if key == asm.R1 || key == asm.R2 {
				key = asm.R6
			}
			add(asm.StoreMem(asm.R10, -4, key, asm.Word),
				asm.Mov.Reg(asm.R2, asm.R10),
				asm.Add.Imm(asm.R2, -4),
				asm.LoadMapPtr(asm.R1, m),
				asm.FnMapLookupElem.Call())
			units = append(units, unit{ins: asm.Instructions{asm.JEq.Imm(asm.R0, 0, "")}, skip: 1})
			add(asm.LoadMem(v, asm.R0, off, sizes[si]),
				asm.Add.Imm(v, int32(g.n(5))),
				asm.StoreMem(asm.R0, off, v, sizes[si]))
			add(append(asm.Instructions{asm.Mov.Reg(asm.R0, asm.R7)}, reinit()...)...)
		default: // early exit
			add(asm.Mov.Reg(asm.R0, g.reg()), asm.Return())
		}
	}
	add(asm.Mov.Reg(asm.R0, g.reg()), asm.Return())
	// Resolve jumps: skip whole units (in raw slots).
	slots := func(u unit) int {
		n := 0
		for _, in := range u.ins {
			n += int(in.Size() / 8)
		}
		return n
	}
	var out asm.Instructions
	for i, u := range units {
		ins := append(asm.Instructions(nil), u.ins...)
		if u.skip > 0 {
			off := 0
			for j := i + 1; j <= i+u.skip && j < len(units)-1; j++ {
				off += slots(units[j])
			}
			ins[len(ins)-1].Offset = int16(off)
		}
		out = append(out, ins...)
	}
	return out
}

// genLoad builds and verifies a generated program (with maps when the
// input asks for them); nil if policy/bpf rejects it.
func genLoad(data []byte) *bpf.Program {
	g := &gen{b: data}
	var maps []bpf.MapSpec
	g.nmaps = g.n(3)
	for i := 0; i < g.nmaps; i++ {
		vs := 1 + g.n(24)
		g.vsize = append(g.vsize, vs)
		maps = append(maps, bpf.MapSpec{Name: string(rune('a' + i)), Type: counterMap.Type, KeySize: 4, ValueSize: uint32(vs), MaxEntries: uint32(1 + g.n(6))})
	}
	p, err := bpf.Load(&bpf.ProgramSpec{Name: "gen", Instructions: g.program(), Maps: maps}, bpf.HookIPCCall)
	if err != nil {
		return nil
	}
	return p
}

// TestRandomPrograms is the seeded differential test over generated programs.
func TestRandomPrograms(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	verified, total, insns := 0, 3000, 0
	for i := 0; i < total; i++ {
		data := make([]byte, 64+r.Intn(400))
		r.Read(data)
		p := genLoad(data)
		if p == nil {
			continue
		}
		verified++
		insns += p.Len()
		differential(t, p, int64(i), 20)
		// Raw round trip: the same program through LoadRaw.
		if len(p.Maps()) == 0 {
			rp, err := bpf.LoadRaw(p.Raw(), bpf.HookIPCCall)
			require.NoError(t, err)
			differential(t, rp, int64(i), 5)
		}
	}
	t.Logf("%d of %d generated programs verified (avg %d slots)", verified, total, insns/max(verified, 1))
	assert.Greater(t, verified, total/3)
}

// FuzzGenerated: generated programs that policy/bpf verifies behave the same
// in both interpreters.
func FuzzGenerated(f *testing.F) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20; i++ {
		data := make([]byte, 200)
		r.Read(data)
		f.Add(data, uint64(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		p := genLoad(data)
		if p == nil {
			return
		}
		differential(t, p, int64(seed), 8)
	})
}

// FuzzRaw: random raw programs. Whatever LoadRaw verifies must install and
// give the same results as bpf.Program.Run; whatever Install accepts —
// verified or not — must run without panicking or faulting.
func FuzzRaw(f *testing.F) {
	r := rand.New(rand.NewSource(2))
	for i := 0; i < 20; i++ {
		data := make([]byte, 200)
		r.Read(data)
		if p := genLoad(data); p != nil && len(p.Maps()) == 0 {
			f.Add(p.Raw(), uint64(i))
		}
	}
	f.Add(marshal(f, labelFilter), uint64(0))
	f.Add([]byte{0x95, 0, 0, 0, 0, 0, 0, 0}, uint64(1))
	f.Fuzz(func(t *testing.T, raw []byte, seed uint64) {
		fuzzRaw(t, raw, seed)
	})
}

var rawScratch Scratch
var rawProg Program

func fuzzRaw(t testing.TB, raw []byte, seed uint64) {
	if p, err := bpf.LoadRaw(raw, bpf.HookIPCCall); err == nil {
		differential(t, p, int64(seed), 4)
	}
	// Unverified: Install's structural checks only. Run must not panic; it
	// may fail (ok == false).
	for _, nmaps := range []int{0, 2} {
		maps := []MapInfo{{ValueSize: 8, MaxEntries: 4}, {ValueSize: 3, MaxEntries: 5}}[:nmaps]
		if Install(&rawProg, raw, maps, 64) {
			r := rand.New(rand.NewSource(int64(seed)))
			copy(ctxBytes(64), randCtx(r, 64))
			_, n, _ := Run(&rawProg, &rawScratch, ctxAddr(), seed)
			if n > rawProg.Len() {
				t.Fatalf("executed %d instructions of %d", n, rawProg.Len())
			}
		}
	}
}

// TestUnverifiedRaw runs mutated verified programs without verification:
// memory checks, not the verifier, keep Run safe.
func TestUnverifiedRaw(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	installed, failed := 0, 0
	for i := 0; i < 20000; i++ {
		data := make([]byte, 300)
		r.Read(data)
		p := genLoad(data)
		if p == nil {
			continue
		}
		raw := p.Raw()
		for k := 0; k < 1+r.Intn(4); k++ { // flip random bytes, avoiding opcodes mostly
			j := r.Intn(len(raw))
			raw[j] ^= byte(1 << r.Intn(8))
		}
		fuzzRaw(t, raw, uint64(i))
		if Install(&rawProg, raw, mapInfos(p), 64) {
			installed++
			if _, _, ok := Run(&rawProg, &rawScratch, ctxAddr(), 0); !ok {
				failed++
			}
		}
	}
	t.Logf("%d mutated programs installed, %d of them stopped by a run-time check", installed, failed)
}
