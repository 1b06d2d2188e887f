// Runs in trap context: nosplit, no allocation, no heap pointer writes.
// (That is the package under test; this test file itself is ordinary Go.)

package bpfvm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/simpleos/simpleos/policy/bpf"
	"github.com/stretchr/testify/require"
)

// ctxMem is where test contexts live: static memory, like a kernel's, so that
// its address can be passed to Run as a uintptr.
var ctxMem [MaxCtxSize / 8]uint64

func ctxBytes(n int) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&ctxMem[0])), MaxCtxSize)[:n:n]
}

func ctxAddr() uintptr { return uintptr(unsafe.Pointer(&ctxMem[0])) }

// pair is one verified program in both interpreters.
type pair struct {
	ref  *bpf.Program
	vm   *Program
	s    *Scratch
	now  uint64
	runs int
}

func mapInfos(p *bpf.Program) []MapInfo {
	var out []MapInfo
	for _, m := range p.Maps() {
		out = append(out, MapInfo{ValueSize: m.ValueSize, MaxEntries: m.MaxEntries})
	}
	return out
}

func newPair(t testing.TB, ref *bpf.Program, seed uint64) *pair {
	t.Helper()
	pr := &pair{ref: ref, vm: new(Program), s: new(Scratch)}
	raw := ref.Raw()
	if !Install(pr.vm, raw, mapInfos(ref), ref.Hook().CtxSize) {
		// The only verified programs Install may reject call an
		// unsupported helper in dead code (the verifier only checks
		// reachable calls).
		require.True(t, callsUnknownHelper(raw), "Install rejected a verified program")
		return nil
	}
	ref.SetClock(func() uint64 { return pr.now })
	ref.Seed(seed)
	pr.s.Seed(seed)
	// Start from the reference's map contents (zero unless a test set them).
	for i, m := range ref.Maps() {
		for k := uint32(0); k < m.MaxEntries; k++ {
			copy(pr.vm.MapValue(i, k), m.Lookup(k))
		}
	}
	return pr
}

func load(t testing.TB, insns asm.Instructions, maps ...bpf.MapSpec) *bpf.Program {
	t.Helper()
	p, err := bpf.Load(&bpf.ProgramSpec{Name: "t", Instructions: insns, Maps: maps}, bpf.HookIPCCall)
	require.NoError(t, err)
	return p
}

// check runs both interpreters over ctx and compares R0, the instruction
// count, the trace and every map value. It returns R0.
func (pr *pair) check(t testing.TB, ctx []byte, now uint64) uint64 {
	t.Helper()
	pr.now = now
	pr.runs++
	pr.ref.ResetTrace()
	pr.vm.ResetTrace()
	want, wantN, err := pr.ref.RunCount(ctx)
	require.NoError(t, err)
	c := ctxBytes(len(ctx))
	copy(c, ctx)
	got, gotN, ok := Run(pr.vm, pr.s, ctxAddr(), now)
	require.True(t, ok, "bpfvm.Run failed where bpf.Run returned %#x", want)
	if want != got || wantN != gotN {
		t.Fatalf("run %d ctx %x: bpf.Run = %#x after %d insns, bpfvm.Run = %#x after %d", pr.runs, ctx, want, wantN, got, gotN)
	}
	tr := pr.ref.Trace()
	if len(tr) <= TraceLen {
		require.Equal(t, fmt.Sprint(tr), fmt.Sprint(pr.vm.Trace()), "trace")
		require.Zero(t, pr.vm.TraceDropped())
	} else {
		require.Equal(t, tr[:TraceLen], pr.vm.Trace(), "trace")
		require.Equal(t, len(tr)-TraceLen, pr.vm.TraceDropped())
	}
	for i, m := range pr.ref.Maps() {
		for k := uint32(0); k < m.MaxEntries; k++ {
			if !bytes.Equal(m.Lookup(k), pr.vm.MapValue(i, k)) {
				t.Fatalf("run %d: map %d key %d: bpf %x, bpfvm %x", pr.runs, i, k, m.Lookup(k), pr.vm.MapValue(i, k))
			}
		}
	}
	return got
}

// edge values that random contexts are made of.
var edges = []uint64{0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
	0x7fffffff, 0x80000000, 0xffffffff, 1 << 32, 1<<32 | 7, math.MaxInt64, 1 << 63, math.MaxUint64, math.MaxUint64 - 6,
	0xfedcba9876543210, 0x0123456789abcdef}

func randWord(r *rand.Rand) uint64 {
	switch r.Intn(4) {
	case 0:
		return r.Uint64()
	case 1:
		return uint64(r.Intn(16))
	default:
		return edges[r.Intn(len(edges))]
	}
}

func randCtx(r *rand.Rand, n int) []byte {
	ctx := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(ctx[i:], randWord(r))
	}
	return ctx
}

func words(vals ...uint64) []byte {
	ctx := make([]byte, 64)
	for i, v := range vals {
		binary.LittleEndian.PutUint64(ctx[8*i:], v)
	}
	return ctx
}

// differential runs p in both interpreters over runs random contexts.
func differential(t testing.TB, ref *bpf.Program, seed int64, runs int) *pair {
	t.Helper()
	r := rand.New(rand.NewSource(seed))
	pr := newPair(t, ref, uint64(seed))
	if pr == nil {
		return nil
	}
	for i := 0; i < runs; i++ {
		pr.check(t, randCtx(r, ref.Hook().CtxSize), r.Uint64())
	}
	return pr
}

var counterMap = bpf.MapSpec{Name: "counts", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 4}

func cat(parts ...asm.Instructions) asm.Instructions {
	var out asm.Instructions
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func jmpOff(op asm.JumpOp, dst asm.Register, imm int32, off int16) asm.Instruction {
	return asm.Instruction{OpCode: op.Op(asm.ImmSource), Dst: dst, Constant: int64(imm), Offset: off}
}

// lookup0 emits: key 0 at fp-4, R0 = map_lookup_elem(map 0, fp-4).
func lookup0() asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, 0),
		asm.FnMapLookupElem.Call(),
	}
}

func marshal(t testing.TB, insns asm.Instructions) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, insns.Marshal(&buf, binary.LittleEndian))
	return buf.Bytes()
}

func callsUnknownHelper(raw []byte) bool {
	for i := 0; i+8 <= len(raw); i += 8 {
		if raw[i] == 0x85 {
			switch int32(binary.LittleEndian.Uint32(raw[i+4:])) {
			case HelperMapLookupElem, HelperKtimeGetNs, HelperGetPrandomU32, HelperTrace:
			default:
				return true
			}
		}
		if raw[i] == 0x18 {
			i += 8
		}
	}
	return false
}
