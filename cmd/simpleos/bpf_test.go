package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/policy/bpf"
)

func TestParseBPFArgs(t *testing.T) {
	a, err := parseBPFArgs([]string{"verify", "x.o"})
	require.NoError(t, err)
	assert.Equal(t, "ipc", a.hook.Name)
	assert.Equal(t, []string{"x.o"}, a.files)

	a, err = parseBPFArgs([]string{"verify", "--hook", "event", "x.o", "y.bin"})
	require.NoError(t, err)
	assert.Equal(t, bpf.HookEvent.Name, a.hook.Name)
	assert.Equal(t, []string{"x.o", "y.bin"}, a.files)

	for _, bad := range [][]string{nil, {"check", "x.o"}, {"verify"}, {"verify", "--hook", "net", "x.o"}, {"verify", "--frob", "x.o"}} {
		_, err := parseBPFArgs(bad)
		assert.ErrorAs(t, err, new(usageError), "%q", bad)
	}
}

func rawFile(t *testing.T, insns asm.Instructions) string {
	var buf bytes.Buffer
	require.NoError(t, insns.Marshal(&buf, binary.LittleEndian))
	path := filepath.Join(t.TempDir(), "prog.bin")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

func TestBPFVerify(t *testing.T) {
	good := rawFile(t, asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 16, asm.DWord),
		asm.Mov.Imm(asm.R0, 0),
		asm.JNE.Imm(asm.R2, 7, "out"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return().WithSymbol("out"),
	})
	bad := rawFile(t, asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Add.Reg(asm.R0, asm.R3), asm.Return()})
	elf := "../../policy/bpf/testdata/filter.o"
	badELF := "../../policy/bpf/testdata/bad.o"

	tests := []struct {
		args   []string
		status int
		out    []string
	}{
		{[]string{"verify", good}, 0, []string{good + ": program raw: ok (5 instructions)\n"}},
		{[]string{"verify", "--hook", "event", good}, 0, []string{good + ": program raw: ok (5 instructions)\n"}},
		{[]string{"verify", bad}, 1, []string{bad + ": program raw: insn 1: R3 read before being written\n"}},
		{[]string{"verify", elf}, 0, []string{
			elf + ": program event_filter: ok (7 instructions)\n" +
				elf + ": program ipc_filter: ok (17 instructions)\n"}},
		{[]string{"verify", badELF}, 1, []string{
			badELF + ": program good: ok (2 instructions)\n",
			badELF + ": program unchecked: insn 7: R0 may be NULL"}},
		{[]string{"verify", good, bad}, 1, []string{": ok (5", "insn 1: R3"}},
		{[]string{"verify", "/nonexistent.o"}, 1, []string{"/nonexistent.o: open"}},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, tc.status, bpfMain(tc.args, &stdout, &stderr), "%q: %s%s", tc.args, stdout.String(), stderr.String())
		for _, o := range tc.out {
			assert.Contains(t, stdout.String(), o, "%q", tc.args)
		}
	}
}

func TestBPFUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, exitUsage, bpfMain([]string{"verify"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "usage: simpleos bpf verify")
	assert.Equal(t, exitUsage, bpfMain(nil, &stdout, &stderr))
	stdout.Reset()
	assert.Equal(t, 0, bpfMain([]string{"verify", "-h"}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "usage: simpleos bpf verify")
	// Registered in the dispatch table.
	assert.Equal(t, exitUsage, dispatch([]string{"bpf"}, &stderr))
}
