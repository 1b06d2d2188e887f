package boot

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A stand-in kernel (not the real core) proving that QEMU loads our images and that statuses
// travel back. Its entries run in 32-bit protected mode, so they use only encodings that mean
// the same there as in 64-bit mode.
const fakeKernelAsm = `#include "textflag.h"

// Prints "hi\n" on COM1, then exits with status 3 through isa-debug-exit.
TEXT ·exitThree(SB),NOSPLIT|NOFRAME,$0
	MOVL	$0x3f8, DX
	MOVL	$0x68, AX
	OUTB
	MOVL	$0x69, AX
	OUTB
	MOVL	$0x0a, AX
	OUTB
	MOVL	$0xf4, DX
	MOVL	$3, AX
	OUTB
hang:
	HLT
	JMP	hang

// Loads an empty IDT and traps: a triple fault, which -no-reboot turns into QEMU exiting 0.
TEXT ·tripleFault(SB),NOSPLIT|NOFRAME,$0
	MOVL	$0x9000, BX
	MOVL	$0, (BX)
	MOVL	$0, 4(BX)
	LIDT	(BX)
	INT	$3
	HLT
`

const fakeKernelMain = `package main

func exitThree()
func tripleFault()

func main() { f, g := exitThree, tripleFault; f(); g() }
`

func needQEMU(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(DefaultQEMU); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must have %s: %v", DefaultQEMU, err)
		}
		t.Skipf("%s not installed", DefaultQEMU)
	}
}

func buildFakeKernel(t *testing.T, entry string) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod":        "module fakekernel\n\ngo 1.26\n",
		"main.go":       fakeKernelMain,
		"entry_amd64.s": fakeKernelAsm,
	})
	elfPath := filepath.Join(dir, "kernel.elf")
	cmd := exec.Command("go", "build", "-o", elfPath, "-ldflags", "-T 0x200000 -R 0x1000", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-buildvcs=false")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	img := filepath.Join(dir, "kernel.img")
	_, err = BuildImage(elfPath, img, entry)
	require.NoError(t, err)
	return img
}

func TestQEMUBootsImageAndReportsStatus(t *testing.T) {
	needQEMU(t)
	t.Parallel()
	img := buildFakeKernel(t, "main.exitThree")
	res, err := Run(context.Background(), Options{Image: img, Timeout: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Status)
	assert.False(t, res.Crashed)
	assert.False(t, res.TimedOut)
	assert.Equal(t, "hi\n", string(res.Output))
}

func TestQEMUTripleFaultIsACrash(t *testing.T) {
	needQEMU(t)
	t.Parallel()
	img := buildFakeKernel(t, "main.tripleFault")
	res, err := Run(context.Background(), Options{Image: img, Timeout: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 100, res.Status)
	assert.True(t, res.Crashed)
	assert.Contains(t, res.Note, "triple fault")
}
