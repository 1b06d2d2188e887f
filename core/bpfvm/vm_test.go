// Runs in trap context: nosplit, no allocation, no heap pointer writes.
// (That is the package under test; this test file itself is ordinary Go.)

package bpfvm

import (
	"testing"
	"unsafe"

	"github.com/cilium/ebpf/asm"
	"github.com/simpleos/simpleos/policy/bpf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLayout(t *testing.T) {
	assert.Equal(t, uintptr(mapDescSize), unsafe.Sizeof(mapDesc{}))
	// Program and Scratch hold no pointers: the kernel keeps them in static
	// memory and Run stores only integers into them.
	t.Logf("sizeof(Program) = %d, sizeof(Scratch) = %d", unsafe.Sizeof(Program{}), unsafe.Sizeof(Scratch{}))
}

func TestZeroAllocs(t *testing.T) {
	pr := newPair(t, load(t, counterProg(), counterMap), 0)
	copy(ctxBytes(64), words(0, 1))
	allocs := testing.AllocsPerRun(1000, func() {
		if _, _, ok := Run(pr.vm, pr.s, ctxAddr(), 0); !ok {
			panic("run failed")
		}
	})
	assert.Zero(t, allocs)
	hp := newPair(t, load(t, asm.Instructions{
		asm.FnKtimeGetNs.Call(), asm.Mov.Reg(asm.R1, asm.R0), asm.BuiltinFunc(bpf.HelperTrace).Call(),
		asm.FnGetPrandomU32.Call(), asm.Return(),
	}), 0)
	allocs = testing.AllocsPerRun(1000, func() {
		hp.vm.ResetTrace()
		Run(hp.vm, hp.s, ctxAddr(), 5)
	})
	assert.Zero(t, allocs)
	raw := marshal(t, labelFilter)
	var p Program
	allocs = testing.AllocsPerRun(100, func() { Install(&p, raw, nil, 64) })
	assert.Zero(t, allocs)
}

func TestInstallRejects(t *testing.T) {
	var p Program
	ok := func(raw []byte, maps ...MapInfo) bool { return Install(&p, raw, maps, 64) }
	exit := []byte{0x95, 0, 0, 0, 0, 0, 0, 0}
	mov := func(imm byte) []byte { return []byte{0xb7, 0, 0, 0, imm, 0, 0, 0} }
	ins := func(b ...byte) []byte { return b }
	c := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	require.True(t, ok(c(mov(1), exit)))
	assert.Equal(t, 2, p.Len())
	assert.Equal(t, 64, p.CtxSize())

	assert.False(t, ok(nil), "empty")
	assert.False(t, ok(exit[:7]), "not a multiple of 8")
	assert.False(t, ok(make([]byte, 8*(MaxInsns+1))), "too long")
	assert.False(t, ok(mov(1)), "falls off the end")
	assert.False(t, ok(c(ins(0x05, 0, 0xff, 0xff, 0, 0, 0, 0), exit)), "ja -1: back-edge")
	assert.False(t, ok(c(ins(0x05, 0, 1, 0, 0, 0, 0, 0), exit)), "ja out of range")
	assert.True(t, ok(c(mov(0), ins(0x15, 0, 0, 0, 0, 0, 0, 0), exit)), "jeq +0")
	assert.False(t, ok(c(mov(0), ins(0x15, 0, 1, 0, 0, 0, 0, 0), ins(0x18, 0, 0, 0, 0, 0, 0, 0), make([]byte, 8), exit)), "jump into ld_imm64")
	assert.False(t, ok(c(ins(0x18, 0, 0, 0, 0, 0, 0, 0), ins(0x01, 0, 0, 0, 0, 0, 0, 0), exit)), "malformed ld_imm64")
	assert.False(t, ok(c(ins(0x18, 0x20, 0, 0, 0, 0, 0, 0), make([]byte, 8), exit)), "ld_imm64 src=2")
	assert.False(t, ok(c(ins(0x85, 0, 0, 0, 2, 0, 0, 0), exit)), "unsupported helper 2")
	assert.False(t, ok(c(ins(0x85, 0x10, 0, 0, 1, 0, 0, 0), exit)), "bpf-to-bpf call")
	assert.False(t, ok(c(ins(0xb7, 0x0b, 0, 0, 0, 0, 0, 0), exit)), "R11")
	assert.False(t, ok(c(ins(0x37, 0, 0, 0, 0, 0, 0, 0), exit)), "div by imm 0")
	assert.False(t, ok(c(ins(0x67, 0, 0, 0, 64, 0, 0, 0), exit)), "lsh 64")
	assert.False(t, ok(c(ins(0x64, 0, 0, 0, 32, 0, 0, 0), exit)), "lsh32 32")
	assert.False(t, ok(c(ins(0x3f, 0, 1, 0, 0, 0, 0, 0), exit)), "sdiv (off=1)")
	assert.False(t, ok(c(ins(0xdb, 0x01, 0, 0, 1, 0, 0, 0), exit)), "atomic")
	assert.False(t, ok(c(ins(0x20, 0, 0, 0, 0, 0, 0, 0), exit)), "ld_abs")
	assert.False(t, ok(c(ins(0x91, 0x01, 0, 0, 0, 0, 0, 0), exit)), "ldxsx")
	assert.False(t, ok(c(ins(0xd7, 0, 0, 0, 8, 0, 0, 0), exit)), "bswap 8")
	assert.False(t, ok(c(ins(0x8f, 0, 0, 0, 0, 0, 0, 0), exit)), "neg reg")
	assert.False(t, ok(c(ins(0x96, 0, 0, 0, 0, 0, 0, 0), exit)), "exit32")
	assert.False(t, ok(c(ins(0xe5, 0, 0, 0, 0, 0, 0, 0), exit)), "jmp op 0xe0")

	assert.False(t, ok(exit, MapInfo{ValueSize: 0, MaxEntries: 1}))
	assert.False(t, ok(exit, MapInfo{ValueSize: 8, MaxEntries: 513}), "4104 bytes")
	assert.True(t, ok(exit, MapInfo{ValueSize: 8, MaxEntries: 512}))
	assert.False(t, ok(exit, MapInfo{1, 1}, MapInfo{1, 1}, MapInfo{1, 1}, MapInfo{1, 1}, MapInfo{1, 1}), "5 maps")
	assert.False(t, Install(&p, exit, nil, 0))
	assert.False(t, Install(&p, exit, nil, MaxCtxSize+1))
	// A rejected Install leaves p empty.
	_, _, r := Run(&p, new(Scratch), ctxAddr(), 0)
	assert.False(t, r)
	assert.Equal(t, 0, p.Len())

	// policy/bpf rejects more programs than Install (it checks types); a
	// program it accepts that uses a hook's extra helper is rejected here.
	hook := bpf.Hook{Name: "x", CtxSize: 64, Helpers: bpf.DefaultHelpers()}
	hook.Helpers[9] = bpf.Helper{Name: "nine", Ret: bpf.RetScalar, Fn: func(*bpf.Env, [5]uint64) (uint64, error) { return 9, nil }}
	bp, err := bpf.Load(&bpf.ProgramSpec{Name: "x", Instructions: asm.Instructions{asm.BuiltinFunc(9).Call(), asm.Return()}}, hook)
	require.NoError(t, err)
	assert.False(t, Install(&p, bp.Raw(), nil, 64))
}

// TestRunChecks: unverified programs that would be unsafe are stopped by
// Run's checks, never by a fault.
func TestRunChecks(t *testing.T) {
	s := new(Scratch)
	run := func(insns asm.Instructions, maps ...MapInfo) (uint64, bool) {
		t.Helper()
		var p Program
		require.True(t, Install(&p, marshal(t, insns), maps, 64))
		r0, n, ok := Run(&p, s, ctxAddr(), 0)
		assert.LessOrEqual(t, n, p.Len())
		return r0, ok
	}
	m := MapInfo{ValueSize: 8, MaxEntries: 2}
	bad := map[string]asm.Instructions{
		"scalar deref":         {asm.Mov.Imm(asm.R2, 0x1000), asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord), asm.Return()},
		"nil deref":            {asm.Mov.Imm(asm.R2, 0), asm.LoadMem(asm.R0, asm.R2, 0, asm.Byte), asm.Return()},
		"ctx past end":         {asm.LoadMem(asm.R0, asm.R1, 60, asm.DWord), asm.Return()},
		"ctx before start":     {asm.LoadMem(asm.R0, asm.R1, -1, asm.Byte), asm.Return()},
		"ctx write":            {asm.StoreImm(asm.R1, 0, 1, asm.Byte), asm.Mov.Imm(asm.R0, 0), asm.Return()},
		"stack above top":      {asm.StoreImm(asm.R10, 0, 1, asm.Byte), asm.Mov.Imm(asm.R0, 0), asm.Return()},
		"stack straddles top":  {asm.StoreImm(asm.R10, -4, 1, asm.Word), asm.LoadMem(asm.R0, asm.R10, -4, asm.DWord), asm.Return()},
		"stack below bottom":   {asm.LoadMem(asm.R0, asm.R10, -513, asm.Byte), asm.Return()},
		"map handle deref":     {asm.LoadMapPtr(asm.R2, 0), asm.LoadMem(asm.R0, asm.R2, 0, asm.Byte), asm.Return()},
		"unknown map":          {asm.LoadMapPtr(asm.R2, 1), asm.Mov.Imm(asm.R0, 0), asm.Return()},
		"lookup bad map":       {asm.Mov.Reg(asm.R1, asm.R10), asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -4), asm.FnMapLookupElem.Call(), asm.Return()},
		"lookup key off stack": {asm.LoadMapPtr(asm.R1, 0), asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -3), asm.FnMapLookupElem.Call(), asm.Return()},
		"value straddle": cat(lookup0(), asm.Instructions{asm.JEq.Imm(asm.R0, 0, "n"),
			asm.LoadMem(asm.R0, asm.R0, 4, asm.DWord), asm.Return(), asm.Mov.Imm(asm.R0, 0).WithSymbol("n"), asm.Return()}),
		"value past store": cat(lookup0(), asm.Instructions{asm.JEq.Imm(asm.R0, 0, "n"),
			asm.LoadMem(asm.R0, asm.R0, 16, asm.Byte), asm.Return(), asm.Mov.Imm(asm.R0, 0).WithSymbol("n"), asm.Return()}),
		"write R10 then use": {asm.Mov.Imm(asm.R10, 8), asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord), asm.Return()},
	}
	for name, insns := range bad {
		_, ok := run(insns, m)
		assert.False(t, ok, name)
	}
	// And the same shapes in bounds work.
	r0, ok := run(cat(lookup0(), asm.Instructions{asm.JEq.Imm(asm.R0, 0, "n"),
		asm.StoreImm(asm.R0, 7, 5, asm.Byte), asm.LoadMem(asm.R0, asm.R0, 7, asm.Byte), asm.Return(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("n"), asm.Return()}), m)
	assert.True(t, ok)
	assert.Equal(t, uint64(5), r0)
	_, ok = run(asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 56, asm.DWord), asm.LoadMem(asm.R0, asm.R10, -512, asm.Byte), asm.Return()})
	assert.True(t, ok)
	// Division by a zero register (unverifiable) follows policy/bpf: no trap.
	r0, ok = run(asm.Instructions{asm.Mov.Imm(asm.R0, 7), asm.Mov.Imm(asm.R2, 0), asm.Mod.Reg(asm.R0, asm.R2), asm.Div.Reg32(asm.R2, asm.R2), asm.Return()})
	assert.True(t, ok)
	assert.Equal(t, uint64(7), r0)

	// Bad contexts and empty programs.
	var p Program
	require.True(t, Install(&p, marshal(t, labelFilter), nil, 64))
	_, _, ok = Run(&p, s, 0, 0)
	assert.False(t, ok, "NULL context")
	_, _, ok = Run(&p, s, ^uintptr(0)-10, 0)
	assert.False(t, ok, "context wraps")
	_, _, ok = Run(new(Program), s, ctxAddr(), 0)
	assert.False(t, ok, "empty program")
}

// BenchmarkRun measures the per-instruction cost on a 4000-instruction ALU
// program, a short filter, and the map counter.
func BenchmarkRun(b *testing.B) {
	long := asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord)}
	for len(long) < 3999 {
		switch len(long) % 4 {
		case 0:
			long = append(long, asm.Add.Imm(asm.R0, 3))
		case 1:
			long = append(long, asm.Xor.Reg(asm.R0, asm.R1))
		case 2:
			long = append(long, asm.RSh.Imm32(asm.R0, 1))
		default:
			long = append(long, asm.Mul.Imm(asm.R0, 5))
		}
	}
	long[1] = asm.Mov.Reg(asm.R1, asm.R0) // R1 becomes a scalar
	progs := []struct {
		name  string
		insns asm.Instructions
		maps  []bpf.MapSpec
	}{
		{"alu4000", append(long, asm.Return()), nil},
		{"labelfilter", labelFilter, nil},
		{"mapcounter", counterProg(), []bpf.MapSpec{counterMap}},
	}
	for _, pc := range progs {
		ref := load(b, pc.insns, pc.maps...)
		pr := newPair(b, ref, 0)
		copy(ctxBytes(64), words(0, 1, 7))
		ctx := append([]byte(nil), ctxBytes(64)...)
		_, n, ok := Run(pr.vm, pr.s, ctxAddr(), 0)
		require.True(b, ok)
		b.Run(pc.name+"/bpfvm", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				Run(pr.vm, pr.s, ctxAddr(), 0)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/insn")
		})
		b.Run(pc.name+"/policy-bpf", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				ref.Run(ctx)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/insn")
		})
	}
}
