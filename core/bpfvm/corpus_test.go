// Runs in trap context: nosplit, no allocation, no heap pointer writes.
// (That is the package under test; this test file itself is ordinary Go.)

package bpfvm

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/simpleos/simpleos/policy/bpf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// labelFilter denies (returns 1) when ctx.label == 7.
var labelFilter = asm.Instructions{
	asm.LoadMem(asm.R2, asm.R1, bpf.IPCOffLabel, asm.DWord),
	asm.Mov.Imm(asm.R0, 0),
	asm.JNE.Imm(asm.R2, 7, "out"),
	asm.Mov.Imm(asm.R0, 1),
	asm.Return().WithSymbol("out"),
}

func TestLabelFilter(t *testing.T) {
	pr := differential(t, load(t, labelFilter), 1, 200)
	for _, label := range []uint64{7, 6, 1<<32 | 7, 0} {
		want := uint64(0)
		if label == 7 {
			want = 1
		}
		assert.Equal(t, want, pr.check(t, words(1, 2, label), 0))
	}
	ctx := ctxBytes(64)
	binary.LittleEndian.PutUint64(ctx[bpf.IPCOffLabel:], 7)
	r0, n, ok := Run(pr.vm, pr.s, ctxAddr(), 0)
	assert.True(t, ok)
	assert.Equal(t, uint64(1), r0)
	assert.Equal(t, 5, n)
}

// regs loads R2..R7 from context words 0..5 so that values are unknown to
// the verifier and the interpreters do the work.
var regs = asm.Instructions{
	asm.LoadMem(asm.R2, asm.R1, 0, asm.DWord),
	asm.LoadMem(asm.R3, asm.R1, 8, asm.DWord),
	asm.LoadMem(asm.R4, asm.R1, 16, asm.DWord),
	asm.LoadMem(asm.R5, asm.R1, 24, asm.DWord),
	asm.LoadMem(asm.R6, asm.R1, 32, asm.DWord),
	asm.LoadMem(asm.R7, asm.R1, 40, asm.DWord),
}

// TestALU covers every ALU operation in both widths and both operand forms
// with edge values, including the policy/bpf arithmetic test programs.
func TestALU(t *testing.T) {
	ops := []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.Or, asm.And, asm.LSh, asm.RSh, asm.Mod, asm.Xor, asm.Mov, asm.ArSh}
	imms := []int32{0, 1, 3, 7, 31, 32, 63, -1, -16, math.MaxInt32, math.MinInt32, 0x1234567}
	seed := int64(100)
	for _, op := range ops {
		for _, is32 := range []bool{false, true} {
			width := 64
			if is32 {
				width = 32
			}
			t.Run(fmt.Sprintf("%v%d", op, width), func(t *testing.T) {
				// Register form. Division needs a proven non-zero divisor.
				body := asm.Instructions{asm.Mov.Reg(asm.R0, asm.R2)}
				if op == asm.Div || op == asm.Mod {
					body = append(body, asm.JEq.Imm(asm.R3, 0, "zero"))
					if is32 {
						body = cat(body[:1], asm.Instructions{asm.Mov.Reg32(asm.R3, asm.R3), asm.JEq.Imm32(asm.R3, 0, "zero")})
					}
				}
				if is32 {
					body = append(body, op.Reg32(asm.R0, asm.R3))
				} else {
					body = append(body, op.Reg(asm.R0, asm.R3))
				}
				prog := cat(regs, body, asm.Instructions{asm.Return(), asm.Mov.Imm(asm.R0, -1).WithSymbol("zero"), asm.Return()})
				seed++
				differential(t, load(t, prog), seed, 300)
				// Immediate form.
				for _, imm := range imms {
					if (op == asm.Div || op == asm.Mod) && imm == 0 {
						continue
					}
					if (op == asm.LSh || op == asm.RSh || op == asm.ArSh) && (imm < 0 || int(imm) >= width) {
						continue
					}
					ins := op.Imm(asm.R0, imm)
					if is32 {
						ins = op.Imm32(asm.R0, imm)
					}
					seed++
					differential(t, load(t, cat(regs, asm.Instructions{asm.Mov.Reg(asm.R0, asm.R2), ins, asm.Return()})), seed, 40)
					// On a constant: the verifier folds, the VMs compute.
					k := cat(asm.Instructions{asm.LoadImm(asm.R0, -0x123456789abcdf0, asm.DWord), ins, asm.Return()})
					differential(t, load(t, k), seed, 2)
				}
			})
		}
	}
	t.Run("neg/endian", func(t *testing.T) {
		for i, ins := range []asm.Instruction{
			asm.Neg.Imm(asm.R0, 0), asm.Neg.Imm32(asm.R0, 0),
			asm.HostTo(asm.BE, asm.R0, asm.Half), asm.HostTo(asm.BE, asm.R0, asm.Word), asm.HostTo(asm.BE, asm.R0, asm.DWord),
			asm.HostTo(asm.LE, asm.R0, asm.Half), asm.HostTo(asm.LE, asm.R0, asm.Word), asm.HostTo(asm.LE, asm.R0, asm.DWord),
			asm.BSwap(asm.R0, asm.Half), asm.BSwap(asm.R0, asm.Word), asm.BSwap(asm.R0, asm.DWord),
			asm.Mov.Reg32(asm.R0, asm.R3),
		} {
			differential(t, load(t, cat(regs, asm.Instructions{asm.Mov.Reg(asm.R0, asm.R2), ins, asm.Return()})), int64(i), 200)
		}
	})
}

// TestBranches covers every jump condition, 64 and 32 bits, register and
// immediate forms, on all pairs of edge values.
func TestBranches(t *testing.T) {
	ops := []asm.JumpOp{asm.JEq, asm.JNE, asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSet, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE}
	imms := []int32{0, 1, 7, -1, -7, math.MaxInt32, math.MinInt32}
	tail := asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return(), asm.Mov.Imm(asm.R0, 1).WithSymbol("taken"), asm.Return()}
	for _, op := range ops {
		for _, is32 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/32=%v", op, is32), func(t *testing.T) {
				jr := op.Reg(asm.R2, asm.R3, "taken")
				if is32 {
					jr = op.Reg32(asm.R2, asm.R3, "taken")
				}
				pr := newPair(t, load(t, cat(regs[:2], asm.Instructions{jr}, tail)), 0)
				for _, x := range edges {
					for _, y := range edges {
						pr.check(t, words(x, y), 0)
					}
				}
				for _, imm := range imms {
					ji := op.Imm(asm.R2, imm, "taken")
					if is32 {
						ji = op.Imm32(asm.R2, imm, "taken")
					}
					pr := newPair(t, load(t, cat(regs[:1], asm.Instructions{ji}, tail)), 0)
					for _, x := range edges {
						pr.check(t, words(x), 0)
						k := newPair(t, load(t, cat(asm.Instructions{asm.LoadImm(asm.R2, int64(x), asm.DWord), ji}, tail)), 0)
						k.check(t, words(), 0)
					}
				}
			})
		}
	}
}

func TestStack(t *testing.T) {
	p := load(t, asm.Instructions{
		asm.StoreMem(asm.R10, -8, asm.R1, asm.DWord), // spill the context pointer
		asm.Mov.Imm(asm.R1, 0),
		asm.LoadMem(asm.R6, asm.R10, -8, asm.DWord),
		asm.LoadMem(asm.R2, asm.R6, bpf.IPCOffBadge, asm.DWord),
		asm.StoreMem(asm.R10, -16, asm.R2, asm.DWord),
		asm.StoreImm(asm.R10, -24, -1, asm.Word),
		asm.StoreImm(asm.R10, -20, 0x2233, asm.Half),
		asm.StoreImm(asm.R10, -18, 0x11, asm.Byte),
		asm.StoreImm(asm.R10, -17, 0x44, asm.Byte),
		asm.LoadMem(asm.R3, asm.R10, -16, asm.Word),
		asm.LoadMem(asm.R4, asm.R10, -12, asm.Half),
		asm.LoadMem(asm.R5, asm.R10, -18, asm.Byte),
		asm.LoadMem(asm.R0, asm.R10, -24, asm.DWord),
		asm.Add.Reg(asm.R0, asm.R3),
		asm.Add.Reg(asm.R0, asm.R4),
		asm.Add.Reg(asm.R0, asm.R5),
		asm.StoreImm(asm.R10, -15, 0, asm.Byte),
		asm.LoadMem(asm.R7, asm.R10, -16, asm.DWord),
		asm.Add.Reg(asm.R0, asm.R7),
		// The bottom of the stack, all sizes.
		stDW(asm.R10, -512, 0x55),
		asm.StoreMem(asm.R10, -504, asm.R2, asm.Word),
		asm.StoreMem(asm.R10, -500, asm.R2, asm.Half),
		asm.StoreMem(asm.R10, -498, asm.R2, asm.Byte),
		asm.StoreMem(asm.R10, -497, asm.R2, asm.Byte),
		asm.LoadMem(asm.R8, asm.R10, -512, asm.DWord),
		asm.Add.Reg(asm.R0, asm.R8),
		asm.LoadMem(asm.R8, asm.R10, -504, asm.DWord),
		asm.Xor.Reg(asm.R0, asm.R8),
		asm.Return(),
	})
	pr := differential(t, p, 7, 300)
	badge := uint64(0x0102030405060708)
	want := uint64(0x44112233ffffffff) + 0x05060708 + 0x0304 + 0x11 + (badge &^ 0xff00) + 0x55
	want ^= 0x0808070805060708 // fp-504: word 0x05060708, half 0x0708, bytes 0x08 0x08
	assert.Equal(t, want, pr.check(t, words(badge), 0))
	assert.Equal(t, want, pr.check(t, words(badge), 0), "the stack is fresh on every run")
}

func counterProg() asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, bpf.IPCOffEndpoint, asm.DWord),
		asm.And.Imm(asm.R2, 3),
		asm.StoreMem(asm.R10, -4, asm.R2, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, 0),
		asm.FnMapLookupElem.Call(),
		asm.Mov.Reg(asm.R6, asm.R0),
		asm.JEq.Imm(asm.R0, 0, "null"),
		asm.LoadMem(asm.R1, asm.R6, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R6, 0, asm.R1, asm.DWord),
		asm.Mov.Reg(asm.R0, asm.R1),
		asm.Mod.Imm(asm.R0, 3),
		asm.JEq.Imm(asm.R0, 0, "deny"),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("deny"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 2).WithSymbol("null"),
		asm.Return(),
	}
}

func TestMapCounter(t *testing.T) {
	pr := newPair(t, load(t, counterProg(), counterMap), 0)
	var got []uint64
	for i := 0; i < 6; i++ {
		got = append(got, pr.check(t, words(0, 1), 0))
	}
	assert.Equal(t, []uint64{0, 0, 1, 0, 0, 1}, got)
	assert.Equal(t, uint64(6), binary.LittleEndian.Uint64(pr.vm.MapValue(0, 1)))
	assert.Nil(t, pr.vm.MapValue(0, 4))
	assert.Nil(t, pr.vm.MapValue(1, 0))
	differential(t, pr.ref, 3, 500) // fresh pair over the same reference maps
}

func TestMapLookupOutOfRange(t *testing.T) {
	p := load(t, asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.StoreMem(asm.R10, -4, asm.R2, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, 0),
		asm.FnMapLookupElem.Call(),
		asm.JNE.Imm(asm.R0, 0, "found"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
		asm.StoreImm(asm.R0, 4, 9, asm.Word).WithSymbol("found"),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}, counterMap)
	pr := newPair(t, p, 0)
	assert.Equal(t, uint64(0), pr.check(t, words(3), 0))
	assert.Equal(t, []byte{0, 0, 0, 0, 9, 0, 0, 0}, pr.vm.MapValue(0, 3))
	assert.Equal(t, uint64(1), pr.check(t, words(4), 0))
	assert.Equal(t, uint64(1), pr.check(t, words(1<<31), 0))
	differential(t, p, 4, 300)
}

// boundedIndex reads ctx word 0 and, if it is <= limit, returns the byte at
// that index of map value 0 (value size 16); else 100. 99 if no value.
func boundedIndex(limit int32) asm.Instructions {
	return cat(asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}, lookup0(), asm.Instructions{
		asm.JNE.Imm(asm.R0, 0, "found"),
		asm.Mov.Imm(asm.R0, 99),
		asm.Return(),
		asm.LoadMem(asm.R2, asm.R6, 0, asm.DWord).WithSymbol("found"),
		asm.JGT.Imm(asm.R2, limit, "big"),
		asm.Add.Reg(asm.R0, asm.R2),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 100).WithSymbol("big"),
		asm.Return(),
	})
}

func TestBoundedIndex(t *testing.T) {
	spec := counterMap
	spec.ValueSize = 16
	p := load(t, boundedIndex(15), spec)
	for i, v := 0, p.Maps()[0].Lookup(0); i < len(v); i++ {
		v[i] = byte(0x10 + i)
	}
	pr := newPair(t, p, 0)
	for i := uint64(0); i < 18; i++ {
		pr.check(t, words(i), 0)
	}
	differential(t, p, 5, 300)
}

// TestMaps uses two maps, unaligned value accesses and all access sizes.
func TestMaps(t *testing.T) {
	a := bpf.MapSpec{Name: "a", Type: counterMap.Type, KeySize: 4, ValueSize: 13, MaxEntries: 5}
	b := bpf.MapSpec{Name: "b", Type: counterMap.Type, KeySize: 4, ValueSize: 8, MaxEntries: 3}
	lookup := func(m int, keyReg asm.Register) asm.Instructions {
		return asm.Instructions{
			asm.StoreMem(asm.R10, -12, keyReg, asm.Word), // unaligned key slot is fine
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -12),
			asm.LoadMapPtr(asm.R1, m),
			asm.FnMapLookupElem.Call(),
		}
	}
	p := load(t, cat(
		asm.Instructions{
			asm.Mov.Reg(asm.R9, asm.R1),
			asm.LoadMem(asm.R6, asm.R9, 0, asm.DWord),
			stDW(asm.R10, -16, 0),
		},
		lookup(0, asm.R6),
		asm.Instructions{
			asm.JEq.Imm(asm.R0, 0, "skip"),
			asm.LoadMem(asm.R7, asm.R9, 8, asm.DWord),
			asm.StoreMem(asm.R0, 5, asm.R7, asm.DWord), // unaligned
			asm.StoreMem(asm.R0, 1, asm.R7, asm.Word),
			asm.StoreMem(asm.R0, 3, asm.R7, asm.Half),
			asm.LoadMem(asm.R8, asm.R0, 9, asm.Word),
			asm.StoreMem(asm.R0, 12, asm.R8, asm.Byte),
			asm.LoadMem(asm.R7, asm.R0, 4, asm.DWord),
		},
		asm.Instructions{asm.LoadMem(asm.R6, asm.R9, 16, asm.DWord).WithSymbol("skip")},
		lookup(1, asm.R6),
		asm.Instructions{
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.LoadMem(asm.R2, asm.R0, 0, asm.DWord),
			asm.Add.Imm(asm.R2, 1),
			asm.StoreMem(asm.R0, 0, asm.R2, asm.DWord),
			asm.Mov.Reg(asm.R0, asm.R2),
			asm.Return(),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
			asm.Return(),
		}), a, b)
	pr := differential(t, p, 6, 2000)
	_ = pr
}

func TestHelpers(t *testing.T) {
	ev := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R1, asm.R6, bpf.EventOffKind, asm.DWord),
		asm.BuiltinFunc(bpf.HelperTrace).Call(),
		asm.LoadMem(asm.R1, asm.R6, bpf.EventOffSubject, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.BuiltinFunc(bpf.HelperTrace).Call(),
		asm.FnKtimeGetNs.Call(),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.BuiltinFunc(bpf.HelperTrace).Call(),
		asm.FnGetPrandomU32.Call(),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.BuiltinFunc(bpf.HelperTrace).Call(),
		asm.FnGetPrandomU32.Call(),
		asm.Return(),
	}
	p, err := bpf.Load(&bpf.ProgramSpec{Name: "ev", Instructions: ev}, bpf.HookEvent)
	require.NoError(t, err)
	pr := newPair(t, p, 0) // seed 0: the generator's default state
	pr.check(t, words(3, 41), 12345)
	assert.Equal(t, uint64(3), pr.vm.Trace()[0])
	assert.Equal(t, uint64(42), pr.vm.Trace()[1])
	assert.Equal(t, uint64(12345), pr.vm.Trace()[2])
	differential(t, p, 8, 300)

	// More traces than TraceLen: the first TraceLen are kept.
	var many asm.Instructions
	for i := 0; i < TraceLen+5; i++ {
		many = append(many, asm.Mov.Imm(asm.R1, int32(i)), asm.BuiltinFunc(bpf.HelperTrace).Call())
	}
	pr = newPair(t, load(t, append(many, asm.Return())), 0)
	pr.check(t, words(), 0)
	assert.Equal(t, 5, pr.vm.TraceDropped())
}

func TestStraightLine4096(t *testing.T) {
	insns := asm.Instructions{asm.Mov.Imm(asm.R0, 0)}
	for len(insns) < MaxInsns-1 {
		insns = append(insns, asm.Add.Imm(asm.R0, 3))
	}
	pr := newPair(t, load(t, append(insns, asm.Return())), 0)
	assert.Equal(t, uint64(3*(MaxInsns-2)), pr.check(t, words(), 0))
	assert.Equal(t, MaxInsns, pr.vm.Len())
}

func TestManyDiamonds(t *testing.T) {
	insns := asm.Instructions{asm.Mov.Imm(asm.R0, 0)}
	for i := 0; i < 200; i++ {
		insns = append(insns,
			asm.LoadMem(asm.R2, asm.R1, int16(i%64), asm.Byte),
			asm.Add.Reg(asm.R0, asm.R2),
			jmpOff(asm.JEq, asm.R2, 0, 1),
			asm.Mov.Imm(asm.R2, 0))
	}
	differential(t, load(t, append(insns, asm.Return())), 9, 300)
}

// TestPolicyFuzzSeeds are policy/bpf's fuzz seeds.
func TestPolicyFuzzSeeds(t *testing.T) {
	progs := []asm.Instructions{
		{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.DWord),
			asm.LoadMem(asm.R3, asm.R1, 8, asm.Word),
			asm.JEq.Imm(asm.R3, 0, "z"),
			asm.Div.Reg(asm.R2, asm.R3),
			asm.StoreMem(asm.R10, -8, asm.R2, asm.DWord),
			asm.LoadMem(asm.R0, asm.R10, -6, asm.Half),
			asm.BSwap(asm.R0, asm.Word),
			asm.Return(),
			asm.Mov.Imm(asm.R0, 1).WithSymbol("z"),
			asm.Return(),
		},
		{asm.LoadImm(asm.R1, 1<<40, asm.DWord), asm.BuiltinFunc(bpf.HelperTrace).Call(), asm.Return()},
	}
	for i, p := range progs {
		ref, err := bpf.LoadRaw(marshal(t, p), bpf.HookIPCCall)
		require.NoError(t, err)
		differential(t, ref, int64(i), 300)
	}
	differential(t, load(t, cat(lookup0(), asm.Instructions{
		asm.JEq.Imm(asm.R0, 0, "null"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("null"),
		asm.Return(),
	}), counterMap), 2, 100)
}

// TestELF runs the clang-built policy/bpf test object.
func TestELF(t *testing.T) {
	f, err := os.Open("../../policy/bpf/testdata/filter.o")
	require.NoError(t, err)
	defer f.Close()
	progs, err := bpf.LoadELF(f, bpf.HookIPCCall)
	require.NoError(t, err)
	require.Len(t, progs, 2)
	for i, p := range progs {
		pr := differential(t, p, int64(i), 500)
		for _, label := range []uint64{1, 7, 8, 7} {
			pr.check(t, words(42, 3, label), 0)
		}
	}
}

// stDW is the ST instruction of 8 bytes (cilium's StoreImm does not emit it).
func stDW(dst asm.Register, off int16, imm int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(0x7a), Dst: dst, Offset: off, Constant: int64(imm)}
}
