package bpf

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// counterMap is an 8-byte-value array map used by the map tests.
var counterMap = MapSpec{Name: "counts", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 4}

func jmpOff(op asm.JumpOp, dst asm.Register, imm int32, off int16) asm.Instruction {
	return asm.Instruction{OpCode: op.Op(asm.ImmSource), Dst: dst, Constant: int64(imm), Offset: off}
}

// lookup0 emits: key 0 at fp-4, R0 = map_lookup_elem(map 0, fp-4). Raw slots 0..6.
func lookup0() asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.R10, -4, 0, asm.Word), // 0
		asm.Mov.Reg(asm.R2, asm.R10),           // 1
		asm.Add.Imm(asm.R2, -4),                // 2
		asm.LoadMapPtr(asm.R1, 0),              // 3, 4
		asm.FnMapLookupElem.Call(),             // 5
	}
}

func cat(parts ...asm.Instructions) asm.Instructions {
	var out asm.Instructions
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func movs(n int) asm.Instructions {
	out := make(asm.Instructions, n)
	for i := range out {
		out[i] = asm.Mov.Imm(asm.R0, int32(i))
	}
	return out
}

func TestVerifierRejects(t *testing.T) {
	ret0 := asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	// 20 independent diamonds that leave different constants in R3: 2^20
	// distinct paths, none of which can be pruned.
	var complex asm.Instructions
	complex = append(complex, asm.Mov.Imm(asm.R3, 0))
	for i := 0; i < 20; i++ {
		complex = append(complex,
			asm.LoadMem(asm.R2, asm.R1, int16(i), asm.Byte),
			jmpOff(asm.JEq, asm.R2, 0, 1),
			asm.Add.Imm(asm.R3, 1<<i))
	}
	complex = append(complex, ret0...)

	tests := []struct {
		name   string
		insns  asm.Instructions
		maps   []MapSpec
		insn   int
		reason string
	}{
		{"jump out of range", asm.Instructions{asm.Mov.Imm(asm.R0, 0), jmpOff(asm.Ja, 0, 0, 5), asm.Return()},
			nil, 1, "jump out of range"},
		{"jump before the start", asm.Instructions{asm.Mov.Imm(asm.R0, 0), jmpOff(asm.JEq, asm.R0, 0, -9), asm.Return()},
			nil, 1, "jump out of range"},
		{"back-edge loop", asm.Instructions{
			asm.Mov.Imm(asm.R0, 0).WithSymbol("top"),
			asm.Add.Imm(asm.R0, 1),
			asm.JLT.Imm(asm.R0, 10, "top"),
			asm.Return()},
			nil, 2, "loop: back-edge to insn 0"},
		{"self loop", asm.Instructions{asm.Mov.Imm(asm.R0, 0), jmpOff(asm.Ja, 0, 0, -1), asm.Return()},
			nil, 1, "loop: back-edge to insn 1"},
		{"over the instruction limit", append(movs(MaxInsns), asm.Return()),
			nil, MaxInsns, "program too large"},
		{"falls off the end", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Mov.Imm(asm.R1, 1)},
			nil, 1, "falls off the end"},
		{"conditional falls off the end", asm.Instructions{asm.Mov.Imm(asm.R0, 0), jmpOff(asm.JEq, asm.R0, 0, 1), asm.Return(), asm.Mov.Imm(asm.R0, 1)},
			nil, 3, "falls off the end"},
		{"uninitialized register", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Add.Reg(asm.R0, asm.R3), asm.Return()},
			nil, 1, "R3 read before being written"},
		{"uninitialized register on one path", asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.DWord),
			jmpOff(asm.JEq, asm.R2, 0, 1),
			asm.Mov.Imm(asm.R4, 1),
			asm.Mov.Reg(asm.R0, asm.R4),
			asm.Return()},
			nil, 3, "R4 read before being written"},
		{"write to R10", asm.Instructions{asm.Mov.Imm(asm.R10, 0), asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 0, "write to R10"},
		{"R10 pointer arithmetic in place", asm.Instructions{asm.Add.Imm(asm.R10, -8), asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 0, "write to R10"},
		{"uninitialized stack read", asm.Instructions{asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord), asm.Return()},
			nil, 0, "read of uninitialized stack at fp-8"},
		{"partly uninitialized stack read", asm.Instructions{
			asm.StoreImm(asm.R10, -8, 1, asm.Word),
			asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord), asm.Return()},
			nil, 1, "read of uninitialized stack at fp-4"},
		{"stack out of bounds below", asm.Instructions{asm.StoreImm(asm.R10, -516, 0, asm.Word), asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 0, "stack access out of bounds"},
		{"stack out of bounds above", asm.Instructions{asm.LoadMem(asm.R0, asm.R10, 0, asm.Byte), asm.Return()},
			nil, 0, "stack access out of bounds"},
		{"misaligned stack", asm.Instructions{asm.StoreMem(asm.R10, -12, asm.R1, asm.DWord), asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 0, "misaligned stack access"},
		{"context out of bounds", asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 64, asm.DWord), asm.Return()},
			nil, 0, "context access out of bounds"},
		{"context negative offset", asm.Instructions{asm.Add.Imm(asm.R1, -8), asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord), asm.Return()},
			nil, 1, "context access out of bounds"},
		{"misaligned context", asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 4, asm.DWord), asm.Return()},
			nil, 0, "misaligned context access"},
		{"context write", asm.Instructions{asm.StoreImm(asm.R1, 0, 1, asm.Word), asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 0, "write to context"},
		{"map value out of bounds", cat(lookup0(), asm.Instructions{
			jmpOff(asm.JEq, asm.R0, 0, 1),             // 6
			asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord), // 7
			asm.Mov.Imm(asm.R0, 0),
			asm.Return()}),
			[]MapSpec{counterMap}, 7, "map value access out of bounds"},
		{"map value NULL dereference", cat(lookup0(), asm.Instructions{
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), // 6
			asm.Mov.Imm(asm.R0, 0),
			asm.Return()}),
			[]MapSpec{counterMap}, 6, "R0 may be NULL"},
		{"map value NULL dereference on the NULL branch", cat(lookup0(), asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R0),               // 6
			jmpOff(asm.JNE, asm.R0, 0, 2),             // 7
			asm.LoadMem(asm.R1, asm.R6, 0, asm.DWord), // 8: R6 is NULL here
			asm.Return(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return()}),
			[]MapSpec{counterMap}, 8, "R6 is not a pointer"},
		{"map value variable offset unbounded", cat(lookup0(), asm.Instructions{
			jmpOff(asm.JEq, asm.R0, 0, 4),             // 6
			asm.Mov.Imm(asm.R2, 0),                    // 7: filler
			asm.LoadMem(asm.R2, asm.R0, 0, asm.DWord), // 8
			asm.Add.Reg(asm.R0, asm.R2),               // 9
			asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return()}),
			[]MapSpec{counterMap}, 9, "unbounded scalar"},
		{"division by register", asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.DWord),
			asm.Mov.Imm(asm.R0, 100),
			asm.Div.Reg(asm.R0, asm.R2),
			asm.Return()},
			nil, 2, "division by a possibly-zero register R2"},
		{"division by register zero on one path", asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.DWord),
			asm.Mov.Imm(asm.R3, 5),
			jmpOff(asm.JGT, asm.R2, 3, 1),
			asm.Mov.Imm(asm.R3, 0),
			asm.Mov.Imm(asm.R0, 100),
			asm.Div.Reg(asm.R0, asm.R3),
			asm.Return()},
			nil, 5, "division by a possibly-zero register R3"},
		{"32-bit division by register with zero low half", asm.Instructions{
			asm.LoadImm(asm.R2, 1<<32, asm.DWord), // 0, 1
			asm.Mov.Imm(asm.R0, 100),              // 2
			asm.Div.Reg32(asm.R0, asm.R2),         // 3
			asm.Return()},
			nil, 3, "division by a possibly-zero register R2"},
		{"modulo by register", asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 8, asm.Word),
			asm.Mov.Imm(asm.R0, 100),
			asm.Mod.Reg32(asm.R0, asm.R2),
			asm.Return()},
			nil, 2, "modulo by a possibly-zero register R2"},
		{"division by immediate zero", asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Div.Imm(asm.R0, 0), asm.Return()},
			nil, 1, "division by zero"},
		{"unknown helper", asm.Instructions{asm.BuiltinFunc(99).Call(), asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 0, "call to unknown helper 99"},
		{"bad helper argument: scalar as map", asm.Instructions{
			asm.StoreImm(asm.R10, -4, 0, asm.Word),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -4),
			asm.Mov.Imm(asm.R1, 0),
			asm.FnMapLookupElem.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return()},
			[]MapSpec{counterMap}, 4, "R1: expected a map pointer"},
		{"bad helper argument: uninitialized key", asm.Instructions{
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -4),
			asm.LoadMapPtr(asm.R1, 0),
			asm.FnMapLookupElem.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return()},
			[]MapSpec{counterMap}, 4, "key reads uninitialized stack at fp-4"},
		{"bad helper argument: key not on the stack", asm.Instructions{
			asm.Mov.Reg(asm.R2, asm.R1),
			asm.LoadMapPtr(asm.R1, 0),
			asm.FnMapLookupElem.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return()},
			[]MapSpec{counterMap}, 3, "expected a stack pointer"},
		{"helper leaks pointer to trace", asm.Instructions{asm.FnTracePrintk.Call(), asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 0, "call to unknown helper 6"},
		{"trace of a pointer", asm.Instructions{asm.BuiltinFunc(HelperTrace).Call(), asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 0, "expected a scalar, got context pointer"},
		{"unknown map fd", asm.Instructions{asm.LoadMapPtr(asm.R1, 3), asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 0, "unknown map fd 3"},
		{"unknown opcode", asm.Instructions{asm.Mov.Imm(asm.R0, 0), {OpCode: 0xff}, asm.Return()},
			nil, 1, "unknown opcode 0xff"},
		{"legacy packet load", asm.Instructions{asm.LoadAbs(0, asm.Byte), asm.Return()},
			nil, 0, "unknown opcode 0x30"},
		{"R0 uninitialized at exit", asm.Instructions{asm.Mov.Imm(asm.R2, 0), asm.Return()},
			nil, 1, "exit with R0 uninitialized"},
		{"R0 clobbered by call is fine but R1 is not", asm.Instructions{
			asm.FnKtimeGetNs.Call(), asm.Mov.Reg(asm.R0, asm.R1), asm.Return()},
			nil, 1, "R1 read before being written"},
		{"pointer leak in R0", asm.Instructions{asm.Mov.Reg(asm.R0, asm.R1), asm.Return()},
			nil, 1, "R0 leaks a pointer (context pointer)"},
		{"stack pointer leak in R0", asm.Instructions{asm.Mov.Reg(asm.R0, asm.R10), asm.Add.Imm(asm.R0, -8), asm.Return()},
			nil, 2, "R0 leaks a pointer (stack pointer)"},
		{"jump into the middle of ld_imm64", asm.Instructions{
			jmpOff(asm.Ja, 0, 0, 1),
			asm.LoadImm(asm.R0, 1<<40, asm.DWord),
			asm.Return()},
			nil, 0, "jump into the middle of ld_imm64 at insn 1"},
		{"pointer multiplied", asm.Instructions{asm.Mul.Imm(asm.R1, 2), asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 0, "pointer arithmetic"},
		{"pointer as scalar operand", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Xor.Reg(asm.R0, asm.R1), asm.Return()},
			nil, 1, "pointer arithmetic"},
		{"variable offset into context", asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Byte),
			asm.And.Imm(asm.R2, 7),
			asm.Add.Reg(asm.R1, asm.R2),
			asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 2, "variable offset into context pointer"},
		{"32-bit move of pointer", asm.Instructions{asm.Mov.Reg32(asm.R2, asm.R1), asm.Mov.Imm(asm.R0, 0), asm.Return()},
			nil, 0, "32-bit move of pointer"},
		{"partial read of spilled pointer", asm.Instructions{
			asm.StoreMem(asm.R10, -8, asm.R1, asm.DWord),
			asm.LoadMem(asm.R0, asm.R10, -8, asm.Word),
			asm.Return()},
			nil, 1, "partial read of a spilled pointer"},
		{"pointer stored into map value", cat(lookup0(), asm.Instructions{
			jmpOff(asm.JEq, asm.R0, 0, 1),               // 6
			asm.StoreMem(asm.R0, 0, asm.R10, asm.DWord), // 7
			asm.Mov.Imm(asm.R0, 0),
			asm.Return()}),
			[]MapSpec{counterMap}, 7, "pointer R0 stored into map value pointer"},
		{"pointer comparison", asm.Instructions{asm.Mov.Imm(asm.R0, 0), jmpOff(asm.JGT, asm.R1, 5, 0), asm.Return()},
			nil, 1, "comparison involving pointer R1"},
		{"program too complex", complex, nil, -1, "program too complex"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load(&ProgramSpec{Name: "bad", Instructions: tc.insns, Maps: tc.maps}, HookIPCCall)
			require.Error(t, err)
			assert.Nil(t, p)
			var le *LoadError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, "bad", le.Program)
			var ve *VerifyError
			require.ErrorAs(t, err, &ve, "%v", err)
			if tc.insn >= 0 {
				assert.Equal(t, tc.insn, ve.Insn, "%v", err)
			}
			assert.Contains(t, ve.Reason, tc.reason)
			assert.Equal(t, fmt.Sprintf("insn %d: %s", ve.Insn, ve.Reason), ve.Error())
			assert.Contains(t, err.Error(), "program bad: insn ")
		})
	}
}

func TestVerifyErrorFormat(t *testing.T) {
	err := error(&VerifyError{Insn: 7, Reason: "R3 read before being written"})
	assert.Equal(t, "insn 7: R3 read before being written", err.Error())
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(&ProgramSpec{Name: "m", Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
		Maps: []MapSpec{{Name: "h", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 1}}}, HookIPCCall)
	assert.ErrorContains(t, err, "program m: map h: unsupported map type")
	_, err = Load(&ProgramSpec{Name: "k", Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
		Maps: []MapSpec{{Name: "a", Type: ebpf.Array, KeySize: 8, ValueSize: 8, MaxEntries: 1}}}, HookIPCCall)
	assert.ErrorContains(t, err, "key size 8, want 4")
	_, err = Load(&ProgramSpec{Name: "r", Instructions: asm.Instructions{
		asm.LoadMapPtr(asm.R1, 0).WithReference("nope"), asm.Mov.Imm(asm.R0, 0), asm.Return()}}, HookIPCCall)
	assert.ErrorContains(t, err, `unknown map "nope"`)
	_, err = Load(&ProgramSpec{Name: "l", Instructions: asm.Instructions{asm.Ja.Label("nowhere"), asm.Return()}}, HookIPCCall)
	assert.ErrorContains(t, err, "program l: encoding instructions")
	_, err = LoadRaw(make([]byte, 12), HookIPCCall)
	assert.ErrorContains(t, err, "not a multiple of 8")
	_, err = LoadRaw(nil, HookIPCCall)
	assert.ErrorContains(t, err, "empty program")
	// Over-long raw programs are reported at the limit.
	_, err = LoadRaw(make([]byte, 8*(MaxInsns+50)), HookIPCCall)
	var ve *VerifyError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, MaxInsns, ve.Insn)
	// A ld_imm64 cut in half by the end of the program.
	_, err = LoadRaw([]byte{0x18, 0, 0, 0, 0, 0, 0, 0}, HookIPCCall)
	assert.ErrorContains(t, err, "insn 0: incomplete ld_imm64")
	assert.True(t, errors.As(err, &ve))
}
