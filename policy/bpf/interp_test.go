package bpf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustLoad(t testing.TB, insns asm.Instructions, maps ...MapSpec) *Program {
	t.Helper()
	p, err := Load(&ProgramSpec{Name: "t", Instructions: insns, Maps: maps}, HookIPCCall)
	require.NoError(t, err)
	return p
}

func run(t testing.TB, p *Program, ctx []byte) uint64 {
	t.Helper()
	v, err := p.Run(ctx)
	require.NoError(t, err)
	return v
}

// labelFilter denies (returns 1) when ctx.label == 7.
var labelFilter = asm.Instructions{
	asm.LoadMem(asm.R2, asm.R1, IPCOffLabel, asm.DWord),
	asm.Mov.Imm(asm.R0, 0),
	asm.JNE.Imm(asm.R2, 7, "out"),
	asm.Mov.Imm(asm.R0, 1),
	asm.Return().WithSymbol("out"),
}

func TestLabelFilter(t *testing.T) {
	p := mustLoad(t, labelFilter)
	assert.Equal(t, uint64(1), run(t, p, ipcCtx(1, 2, 7)))
	assert.Equal(t, uint64(0), run(t, p, ipcCtx(1, 2, 6)))
	assert.Equal(t, uint64(0), run(t, p, ipcCtx(7, 7, 1<<32|7)))
	ret, n, err := p.RunCount(ipcCtx(0, 0, 7))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), ret)
	assert.Equal(t, 5, n)
	ret, n, err = p.RunCount(ipcCtx(0, 0, 8))
	require.NoError(t, err)
	assert.Equal(t, uint64(0), ret)
	assert.Equal(t, 4, n)

	_, err = p.Run(make([]byte, 63))
	assert.ErrorIs(t, err, ErrContextSize)
	_, err = p.Run(nil)
	assert.ErrorIs(t, err, ErrContextSize)
}

// words builds a context whose inline words (and the first fields) are given.
func words(vals ...uint64) []byte {
	ctx := make([]byte, 64)
	for i, v := range vals {
		binary.LittleEndian.PutUint64(ctx[8*i:], v)
	}
	return ctx
}

func TestArithmetic(t *testing.T) {
	a, b, three := uint64(0xfedcba9876543210), uint64(0x0123456789abcdef), uint64(3)
	ctx := words(a, b, 3, 0xffffffff, 1<<63, 5)
	// R2 = a, R3 = b, R4 = 3, R5 = 0xffffffff, R6 = 1<<63, R7 = 5: values the
	// verifier only knows as ranges, so the interpreter does the work.
	load := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.DWord),
		asm.LoadMem(asm.R3, asm.R1, 8, asm.DWord),
		asm.LoadMem(asm.R4, asm.R1, 16, asm.DWord),
		asm.LoadMem(asm.R5, asm.R1, 24, asm.DWord),
		asm.LoadMem(asm.R6, asm.R1, 32, asm.DWord),
		asm.LoadMem(asm.R7, asm.R1, 40, asm.DWord),
	}
	r0 := func(insns ...asm.Instruction) asm.Instructions {
		return cat(load, insns, asm.Instructions{asm.Return()})
	}
	nonZero := func(r asm.Register) asm.Instruction { return asm.JEq.Imm(r, 0, "zero") }
	zero := asm.Instructions{asm.Mov.Imm(asm.R0, -1).WithSymbol("zero"), asm.Return()}
	tests := []struct {
		name  string
		insns asm.Instructions
		want  uint64
	}{
		{"add", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.Add.Reg(asm.R0, asm.R3)), a + b},
		{"add imm negative", r0(asm.Mov.Reg(asm.R0, asm.R4), asm.Add.Imm(asm.R0, -5)), three - 5},
		{"add32 wraps", r0(asm.Mov.Reg(asm.R0, asm.R5), asm.Add.Imm32(asm.R0, 1)), 0},
		{"add32 zero-extends", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.Add.Reg32(asm.R0, asm.R3)), uint64(uint32(a) + uint32(b))},
		{"sub", r0(asm.Mov.Reg(asm.R0, asm.R3), asm.Sub.Reg(asm.R0, asm.R2)), b - a},
		{"sub32", r0(asm.Mov.Reg(asm.R0, asm.R4), asm.Sub.Imm32(asm.R0, 4)), 0xffffffff},
		{"mul", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.Mul.Reg(asm.R0, asm.R3)), a * b},
		{"mul32", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.Mul.Reg32(asm.R0, asm.R3)), uint64(uint32(a) * uint32(b))},
		{"div imm", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.Div.Imm(asm.R0, 7)), a / 7},
		{"div register known constant", r0(asm.Mov.Imm(asm.R8, 9), asm.Mov.Reg(asm.R0, asm.R2), asm.Div.Reg(asm.R0, asm.R8)), a / 9},
		{"div register checked by branch", cat(r0(nonZero(asm.R3), asm.Mov.Reg(asm.R0, asm.R2), asm.Div.Reg(asm.R0, asm.R3)), zero), a / b},
		{"div register checked by range", cat(r0(asm.JLT.Imm(asm.R4, 1, "zero"), asm.Mov.Reg(asm.R0, asm.R2), asm.Div.Reg(asm.R0, asm.R4)), zero), a / 3},
		{"div32", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.Div.Imm32(asm.R0, 3)), uint64(uint32(a) / 3)},
		{"div imm is unsigned", r0(asm.Mov.Reg(asm.R0, asm.R6), asm.Div.Imm(asm.R0, 2)), 1 << 62},
		{"mod imm", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.Mod.Imm(asm.R0, 1000)), a % 1000},
		{"mod register checked", cat(r0(asm.JNE.Imm(asm.R7, 0, "ok"), asm.Ja.Label("zero"), asm.Mov.Reg(asm.R0, asm.R2).WithSymbol("ok"), asm.Mod.Reg(asm.R0, asm.R7)), zero), a % 5},
		{"mod32", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.Mod.Imm32(asm.R0, 1000)), uint64(uint32(a) % 1000)},
		{"or", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.Or.Reg(asm.R0, asm.R3)), a | b},
		{"and", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.And.Reg(asm.R0, asm.R3)), a & b},
		{"and imm sign-extends", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.And.Imm(asm.R0, -16)), a &^ 15},
		{"and32 imm", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.And.Imm32(asm.R0, -16)), uint64(uint32(a) &^ 15)},
		{"xor", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.Xor.Reg(asm.R0, asm.R3)), a ^ b},
		{"xor32", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.Xor.Reg32(asm.R0, asm.R3)), uint64(uint32(a ^ b))},
		{"lsh", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.LSh.Imm(asm.R0, 12)), a << 12},
		{"lsh register masks", r0(asm.Mov.Imm(asm.R8, 67), asm.Mov.Reg(asm.R0, asm.R4), asm.LSh.Reg(asm.R0, asm.R8)), 3 << 3},
		{"rsh32 register masks to 31", r0(asm.Mov.Imm(asm.R8, 36), asm.Mov.Reg(asm.R0, asm.R5), asm.RSh.Reg32(asm.R0, asm.R8), asm.JNE.Imm(asm.R0, 0, "nz"), asm.Mov.Imm(asm.R0, 77), asm.Return(), asm.Mov.Imm(asm.R0, 1).WithSymbol("nz")), 1},
		{"lsh32", r0(asm.Mov.Reg(asm.R0, asm.R5), asm.LSh.Imm32(asm.R0, 4)), 0xfffffff0},
		{"rsh", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.RSh.Imm(asm.R0, 60)), a >> 60},
		{"rsh32", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.RSh.Imm32(asm.R0, 28)), uint64(uint32(a) >> 28)},
		{"arsh keeps the sign", r0(asm.Mov.Reg(asm.R0, asm.R6), asm.ArSh.Imm(asm.R0, 4)), 0xf8 << 56},
		{"arsh positive", r0(asm.Mov.Reg(asm.R0, asm.R3), asm.ArSh.Reg(asm.R0, asm.R4)), b >> 3},
		{"arsh32 sign bit 31", r0(asm.Mov.Imm32(asm.R0, math.MinInt32), asm.ArSh.Imm32(asm.R0, 4)), 0xf8000000},
		{"arsh32 of negative register", r0(asm.Mov.Reg(asm.R0, asm.R5), asm.ArSh.Imm32(asm.R0, 31)), 0xffffffff},
		{"neg", r0(asm.Mov.Reg(asm.R0, asm.R4), asm.Neg.Imm(asm.R0, 0)), -three},
		{"neg32", r0(asm.Mov.Reg(asm.R0, asm.R4), asm.Neg.Imm32(asm.R0, 0)), uint64(uint32(-three))},
		{"mov imm sign-extends", r0(asm.Mov.Imm(asm.R0, -1)), math.MaxUint64},
		{"mov32 imm zero-extends", r0(asm.Mov.Imm32(asm.R0, -1)), math.MaxUint32},
		{"mov32 register truncates", r0(asm.Mov.Reg32(asm.R0, asm.R2)), uint64(uint32(a))},
		{"ld_imm64", r0(asm.LoadImm(asm.R0, 0x1122334455667788, asm.DWord)), 0x1122334455667788},
		{"to big-endian 16", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.HostTo(asm.BE, asm.R0, asm.Half)), uint64(bits.ReverseBytes16(uint16(a)))},
		{"to big-endian 32", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.HostTo(asm.BE, asm.R0, asm.Word)), uint64(bits.ReverseBytes32(uint32(a)))},
		{"to big-endian 64", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.HostTo(asm.BE, asm.R0, asm.DWord)), bits.ReverseBytes64(a)},
		{"to little-endian 16 truncates", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.HostTo(asm.LE, asm.R0, asm.Half)), uint64(uint16(a))},
		{"to little-endian 32 truncates", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.HostTo(asm.LE, asm.R0, asm.Word)), uint64(uint32(a))},
		{"bswap16", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.BSwap(asm.R0, asm.Half)), uint64(bits.ReverseBytes16(uint16(a)))},
		{"bswap32", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.BSwap(asm.R0, asm.Word)), uint64(bits.ReverseBytes32(uint32(a)))},
		{"bswap64", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.BSwap(asm.R0, asm.DWord)), bits.ReverseBytes64(a)},
		{"constant folding agrees", r0(asm.Mov.Imm(asm.R0, 7), asm.Mul.Imm(asm.R0, 6), asm.Sub.Imm32(asm.R0, 50), asm.RSh.Imm(asm.R0, 1)), uint64(uint32(three*14-50)) >> 1},
		{"bounded arithmetic", r0(asm.Mov.Reg(asm.R0, asm.R2), asm.And.Imm(asm.R0, 0xff), asm.Add.Imm(asm.R0, 1), asm.Mov.Imm(asm.R8, 1000), asm.Div.Reg(asm.R8, asm.R0), asm.Mov.Reg(asm.R0, asm.R8)), 1000 / (a&0xff + 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustLoad(t, tc.insns)
			assert.Equal(t, fmt.Sprintf("%#x", tc.want), fmt.Sprintf("%#x", run(t, p, ctx)))
		})
	}
}

// refCond is an independent reference for the jump conditions.
func refCond(op asm.JumpOp, is32 bool, a, b uint64) bool {
	if is32 {
		ua, ub := uint32(a), uint32(b)
		sa, sb := int32(ua), int32(ub)
		return map[asm.JumpOp]bool{asm.JEq: ua == ub, asm.JNE: ua != ub, asm.JGT: ua > ub, asm.JGE: ua >= ub,
			asm.JLT: ua < ub, asm.JLE: ua <= ub, asm.JSet: ua&ub != 0, asm.JSGT: sa > sb, asm.JSGE: sa >= sb,
			asm.JSLT: sa < sb, asm.JSLE: sa <= sb}[op]
	}
	sa, sb := int64(a), int64(b)
	return map[asm.JumpOp]bool{asm.JEq: a == b, asm.JNE: a != b, asm.JGT: a > b, asm.JGE: a >= b,
		asm.JLT: a < b, asm.JLE: a <= b, asm.JSet: a&b != 0, asm.JSGT: sa > sb, asm.JSGE: sa >= sb,
		asm.JSLT: sa < sb, asm.JSLE: sa <= sb}[op]
}

func TestBranches(t *testing.T) {
	ops := []asm.JumpOp{asm.JEq, asm.JNE, asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSet, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE}
	vals := []uint64{0, 1, 2, 7, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 32, 1<<32 | 7, math.MaxInt64, 1 << 63, math.MaxUint64, math.MaxUint64 - 6}
	imms := []int32{0, 1, 7, -1, -7, math.MaxInt32, math.MinInt32}
	for _, op := range ops {
		for _, is32 := range []bool{false, true} {
			name := fmt.Sprintf("%v/32=%v", op, is32)
			t.Run(name, func(t *testing.T) {
				jr := op.Reg(asm.R2, asm.R3, "taken")
				if is32 {
					jr = op.Reg32(asm.R2, asm.R3, "taken")
				}
				tail := asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return(), asm.Mov.Imm(asm.R0, 1).WithSymbol("taken"), asm.Return()}
				reg := mustLoad(t, cat(asm.Instructions{
					asm.LoadMem(asm.R2, asm.R1, 0, asm.DWord),
					asm.LoadMem(asm.R3, asm.R1, 8, asm.DWord),
					jr}, tail))
				for _, x := range vals {
					for _, y := range vals {
						want := refCond(op, is32, x, y)
						assert.Equal(t, b2u(want), run(t, reg, words(x, y)), "%#x %v %#x", x, op, y)
					}
				}
				for _, imm := range imms {
					ji := op.Imm(asm.R2, imm, "taken")
					y := uint64(int64(imm))
					if is32 {
						ji = op.Imm32(asm.R2, imm, "taken")
						y = uint64(uint32(imm))
					}
					p := mustLoad(t, cat(asm.Instructions{asm.LoadMem(asm.R2, asm.R1, 0, asm.DWord), ji}, tail))
					// The same jump on a constant: the verifier follows one
					// side only and must agree with the interpreter.
					for _, x := range vals {
						want := refCond(op, is32, x, y)
						assert.Equal(t, b2u(want), run(t, p, words(x)), "%#x %v imm %d", x, op, imm)
						k := mustLoad(t, cat(asm.Instructions{asm.LoadImm(asm.R2, int64(x), asm.DWord), ji}, tail))
						assert.Equal(t, b2u(want), run(t, k, words()), "const %#x %v imm %d", x, op, imm)
					}
				}
			})
		}
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
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
		asm.Add.Reg(asm.R0, asm.R2), // map value + [0, limit]
		asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 100).WithSymbol("big"),
		asm.Return(),
	})
}

// TestRangeRefinement checks that branch-refined ranges are used and sound:
// a bounded scalar may index a map value.
func TestRangeRefinement(t *testing.T) {
	spec := counterMap
	spec.ValueSize = 16
	p := mustLoad(t, boundedIndex(15), spec)
	val := p.Maps()[0].Lookup(0)
	for i := range val {
		val[i] = byte(0x10 + i)
	}
	for i := uint64(0); i < 16; i++ {
		assert.Equal(t, 0x10+i, run(t, p, words(i)))
	}
	assert.Equal(t, uint64(100), run(t, p, words(16)))
	assert.Equal(t, uint64(100), run(t, p, words(math.MaxUint64)))

	// Off by one: index 16 is out of bounds.
	_, err := Load(&ProgramSpec{Name: "x", Maps: []MapSpec{spec}, Instructions: boundedIndex(16)}, HookIPCCall)
	assert.ErrorContains(t, err, "map value access out of bounds: offset [0, 16] size 1")
}

func TestStack(t *testing.T) {
	p := mustLoad(t, asm.Instructions{
		// Spill the context pointer, clobber R1, restore it and use it.
		asm.StoreMem(asm.R10, -8, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R1, 0),
		asm.LoadMem(asm.R6, asm.R10, -8, asm.DWord),
		asm.LoadMem(asm.R2, asm.R6, IPCOffBadge, asm.DWord),
		// Bytes, halves and words at various offsets.
		asm.StoreMem(asm.R10, -16, asm.R2, asm.DWord),
		asm.StoreImm(asm.R10, -24, -1, asm.Word),
		asm.StoreImm(asm.R10, -20, 0x2233, asm.Half),
		asm.StoreImm(asm.R10, -18, 0x11, asm.Byte),
		asm.StoreImm(asm.R10, -17, 0x44, asm.Byte),
		asm.LoadMem(asm.R3, asm.R10, -16, asm.Word), // low word of badge
		asm.LoadMem(asm.R4, asm.R10, -12, asm.Half), // bits 32..47 of badge
		asm.LoadMem(asm.R5, asm.R10, -18, asm.Byte), // 0x11
		asm.LoadMem(asm.R0, asm.R10, -24, asm.DWord),
		asm.Add.Reg(asm.R0, asm.R3),
		asm.Add.Reg(asm.R0, asm.R4),
		asm.Add.Reg(asm.R0, asm.R5),
		// A partial overwrite of a spilled scalar keeps the rest readable.
		asm.StoreImm(asm.R10, -15, 0, asm.Byte),
		asm.LoadMem(asm.R7, asm.R10, -16, asm.DWord),
		asm.Add.Reg(asm.R0, asm.R7),
		asm.Return(),
	})
	badge := uint64(0x0102030405060708)
	want := uint64(0x44112233ffffffff) + 0x05060708 + 0x0304 + 0x11 + (badge &^ 0xff00)
	assert.Equal(t, want, run(t, p, ipcCtx(badge, 0, 0)))
	// Every run starts with a fresh stack: nothing leaks between runs.
	assert.Equal(t, want, run(t, p, ipcCtx(badge, 0, 0)))
}

func TestMapCounting(t *testing.T) {
	// Count calls per endpoint (key = endpoint id & 3) and deny every third call.
	p := mustLoad(t, asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, IPCOffEndpoint, asm.DWord),
		asm.And.Imm(asm.R2, 3),
		asm.StoreMem(asm.R10, -4, asm.R2, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, 0),
		asm.FnMapLookupElem.Call(),
		asm.Mov.Reg(asm.R6, asm.R0), // a copy: the NULL check must cover it too
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
	}, counterMap)
	m := p.Maps()[0]
	var got []uint64
	for i := 0; i < 6; i++ {
		got = append(got, run(t, p, ipcCtx(0, 1, 0)))
	}
	assert.Equal(t, []uint64{0, 0, 1, 0, 0, 1}, got)
	assert.Equal(t, uint64(6), binary.LittleEndian.Uint64(m.Lookup(1)))
	assert.Equal(t, uint64(0), binary.LittleEndian.Uint64(m.Lookup(0)))
	run(t, p, ipcCtx(0, 7, 0))
	assert.Equal(t, uint64(1), binary.LittleEndian.Uint64(m.Lookup(3)))
	require.NoError(t, m.Update(1, make([]byte, 8)))
	assert.Equal(t, uint64(0), run(t, p, ipcCtx(0, 1, 0)))
	assert.Equal(t, uint64(1), binary.LittleEndian.Uint64(m.Lookup(1)))
	assert.Error(t, m.Update(4, make([]byte, 8)))
	assert.Nil(t, m.Lookup(4))
}

func TestMapLookupOutOfRangeIsNull(t *testing.T) {
	p := mustLoad(t, asm.Instructions{
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
	assert.Equal(t, uint64(0), run(t, p, words(3)))
	assert.Equal(t, []byte{0, 0, 0, 0, 9, 0, 0, 0}, p.Maps()[0].Lookup(3))
	assert.Equal(t, uint64(1), run(t, p, words(4)))
	assert.Equal(t, uint64(1), run(t, p, words(1<<31)))
}

func TestHelpers(t *testing.T) {
	ev := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R1, asm.R6, EventOffKind, asm.DWord),
		asm.BuiltinFunc(HelperTrace).Call(),
		asm.LoadMem(asm.R1, asm.R6, EventOffSubject, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.BuiltinFunc(HelperTrace).Call(),
		asm.FnKtimeGetNs.Call(),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.BuiltinFunc(HelperTrace).Call(),
		asm.FnGetPrandomU32.Call(),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.RSh.Imm(asm.R1, 32), // always 0: the helper returns a u32
		asm.BuiltinFunc(HelperTrace).Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	p, err := Load(&ProgramSpec{Name: "ev", Instructions: ev}, HookEvent)
	require.NoError(t, err)
	p.SetClock(func() uint64 { return 12345 })
	ctx := make([]byte, HookEvent.CtxSize)
	binary.LittleEndian.PutUint64(ctx[EventOffKind:], 3)
	binary.LittleEndian.PutUint64(ctx[EventOffSubject:], 41)
	assert.Equal(t, uint64(0), run(t, p, ctx))
	assert.Equal(t, []uint64{3, 42, 12345, 0}, p.Trace())
	p.ResetTrace()
	assert.Empty(t, p.Trace())
	p.SetClock(nil)
	run(t, p, ctx)
	run(t, p, ctx)
	tr := p.Trace()
	require.Len(t, tr, 8)
	assert.Less(t, tr[2], tr[6], "the default clock is monotonic")

	// get_prandom_u32 is deterministic for a seed.
	rp := mustLoad(t, asm.Instructions{asm.FnGetPrandomU32.Call(), asm.Return()})
	rp.Seed(1)
	a := run(t, rp, words())
	rp.Seed(1)
	assert.Equal(t, a, run(t, rp, words()))
	assert.LessOrEqual(t, a, uint64(math.MaxUint32))
}

func TestStraightLine4000(t *testing.T) {
	insns := asm.Instructions{asm.Mov.Imm(asm.R0, 0)}
	for len(insns) < 3999 {
		insns = append(insns, asm.Add.Imm(asm.R0, 3))
	}
	insns = append(insns, asm.Return())
	p := mustLoad(t, insns)
	assert.Equal(t, 4000, p.Len())
	ret, n, err := p.RunCount(ipcCtx(0, 0, 0))
	require.NoError(t, err)
	assert.Equal(t, uint64(3*3998), ret)
	assert.Equal(t, 4000, n)

	// Exactly the limit is fine too.
	insns = append(movs(MaxInsns-1), asm.Return())
	_, err = Load(&ProgramSpec{Name: "max", Instructions: insns}, HookIPCCall)
	assert.NoError(t, err)
}

// TestManyDiamondsPrune: diamonds that converge to the same state are
// explored once, so long if-chains stay cheap.
func TestManyDiamondsPrune(t *testing.T) {
	insns := asm.Instructions{asm.Mov.Imm(asm.R0, 0)}
	for i := 0; i < 200; i++ {
		insns = append(insns,
			asm.LoadMem(asm.R2, asm.R1, int16(i%64), asm.Byte),
			asm.Add.Reg(asm.R0, asm.R2),
			jmpOff(asm.JEq, asm.R2, 0, 1),
			asm.Mov.Imm(asm.R2, 0))
	}
	insns = append(insns, asm.Return())
	p := mustLoad(t, insns)
	ctx := bytes.Repeat([]byte{1}, 64)
	assert.Equal(t, uint64(200), run(t, p, ctx))
}

// TestRawRoundTrip checks LoadRaw against Load on the same instructions.
func TestRawRoundTrip(t *testing.T) {
	raw := marshal(t, labelFilter)
	p, err := LoadRaw(raw, HookIPCCall)
	require.NoError(t, err)
	assert.Equal(t, "raw", p.Name())
	assert.Equal(t, uint64(1), run(t, p, ipcCtx(0, 0, 7)))
	assert.Equal(t, uint64(0), run(t, p, ipcCtx(0, 0, 8)))

	// Raw programs have no maps.
	_, err = LoadRaw(marshal(t, cat(lookup0(), asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()})), HookIPCCall)
	assert.ErrorContains(t, err, "program raw: insn 3: unknown map fd 0")
}

func marshal(t testing.TB, insns asm.Instructions) []byte {
	var buf bytes.Buffer
	require.NoError(t, copyInsns(insns).Marshal(&buf, binary.LittleEndian))
	return buf.Bytes()
}
