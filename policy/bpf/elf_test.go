package bpf

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ipcCtx(badge, endpoint, label uint64) []byte {
	ctx := make([]byte, 64)
	binary.LittleEndian.PutUint64(ctx[IPCOffBadge:], badge)
	binary.LittleEndian.PutUint64(ctx[IPCOffEndpoint:], endpoint)
	binary.LittleEndian.PutUint64(ctx[IPCOffLabel:], label)
	return ctx
}

func checkFilterObject(t *testing.T, path string) {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	progs, err := LoadELF(f, HookIPCCall)
	require.NoError(t, err)
	require.Len(t, progs, 2)
	ev, ipc := progs[0], progs[1]
	assert.Equal(t, "event_filter", ev.Name())
	assert.Equal(t, "ipc_filter", ipc.Name())
	assert.Equal(t, 17, ipc.Len())

	for i, label := range []uint64{1, 7, 8, 7} {
		v, err := ipc.Run(ipcCtx(42, 3, label))
		require.NoError(t, err)
		assert.Equal(t, uint64(map[bool]int{true: 1}[label == 7]), v, "label %d", label)
		require.Len(t, ipc.Maps(), 1)
		assert.Equal(t, uint64(i+1), binary.LittleEndian.Uint64(ipc.Maps()[0].Lookup(0)))
	}

	ctx := make([]byte, 64)
	binary.LittleEndian.PutUint64(ctx, 9)
	v, err := ev.Run(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), v)
	assert.Equal(t, []uint64{9}, ev.Trace())
}

// TestELFObject loads testdata/filter.o (built from filter.ll by llc; see
// the header of filter.ll) with cilium/ebpf's ELF reader.
func TestELFObject(t *testing.T) {
	checkFilterObject(t, "testdata/filter.o")
}

// TestELFCompile rebuilds the object with llc when it is installed.
func TestELFCompile(t *testing.T) {
	llc, err := exec.LookPath("llc")
	if err != nil {
		t.Skip("llc not installed")
	}
	out := filepath.Join(t.TempDir(), "filter.o")
	cmd := exec.Command(llc, "-march=bpfel", "-mcpu=v1", "-filetype=obj", "-O2", "testdata/filter.ll", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("llc cannot build BPF objects here: %v\n%s", err, b)
	}
	checkFilterObject(t, out)
}

// TestELFClang compiles filter.c when clang with the BPF target is installed.
func TestELFClang(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not installed")
	}
	out := filepath.Join(t.TempDir(), "filter.o")
	cmd := exec.Command(clang, "-O2", "-target", "bpf", "-c", "testdata/filter.c", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("clang cannot build BPF objects here: %v\n%s", err, b)
	}
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	progs, err := LoadELF(f, HookIPCCall)
	require.NoError(t, err)
	require.Len(t, progs, 2)
	v, err := progs[1].Run(ipcCtx(0, 0, 7))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), v)
}

// TestELFErrors: a program failing verification is named; the others load.
func TestELFErrors(t *testing.T) {
	f, err := os.Open("testdata/bad.o")
	require.NoError(t, err)
	defer f.Close()
	progs, err := LoadELF(f, HookIPCCall)
	require.Len(t, progs, 1)
	assert.Equal(t, "good", progs[0].Name())
	var le *LoadError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "unchecked", le.Program)
	var ve *VerifyError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, 7, ve.Insn)
	assert.Contains(t, err.Error(), "program unchecked: insn 7: R0 may be NULL")

	_, err = LoadELF(bytes.NewReader([]byte("\x7fELF garbage")), HookIPCCall)
	assert.ErrorContains(t, err, "reading ELF object")
}
