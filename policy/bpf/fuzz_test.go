package bpf

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// FuzzLoadRaw feeds random bytes to LoadRaw; whenever a program verifies, it
// runs it on a random context. Nothing may panic, and a verified program may
// only fail Run for a wrong context size. Each input is also verified and run
// with one array map attached (fd 0), to exercise map value pointers.
func FuzzLoadRaw(f *testing.F) {
	seeds := []asm.Instructions{
		labelFilter,
		cat(lookup0(), asm.Instructions{
			asm.JEq.Imm(asm.R0, 0, "null"),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("null"),
			asm.Return(),
		}),
		boundedIndex(7),
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
		{asm.LoadImm(asm.R0, 1<<40, asm.DWord), asm.BuiltinFunc(HelperTrace).Call(), asm.Return()},
	}
	for _, s := range seeds {
		f.Add(marshal(f, s), make([]byte, 64))
	}
	f.Add([]byte{0x95, 0, 0, 0, 0, 0, 0, 0}, []byte{1})
	f.Fuzz(func(t *testing.T, prog, ctxSeed []byte) {
		ctx := make([]byte, HookIPCCall.CtxSize)
		copy(ctx, ctxSeed)
		if p, err := LoadRaw(prog, HookIPCCall); err == nil {
			if _, err := p.Run(ctx); err != nil {
				t.Fatalf("verified program failed: %v", err)
			}
			if _, err := p.Run(ctx[:len(ctx)-1]); !errors.Is(err, ErrContextSize) {
				t.Fatalf("wrong context size: %v", err)
			}
		}
		raw, err := decodeRaw(prog)
		if err != nil {
			return
		}
		m, err := NewMap(counterMap)
		if err != nil {
			t.Fatal(err)
		}
		p, err := newProgram("fuzz", raw, []*Map{m}, HookIPCCall)
		if err != nil {
			return
		}
		for i := 0; i < 2; i++ {
			if _, err := p.Run(ctx); err != nil {
				t.Fatalf("verified program with a map failed: %v", err)
			}
		}
	})
}
