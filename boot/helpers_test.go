package boot

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// tinyMain is a small static program with a Go entry candidate, an assembly one (which gets the
// ".abi0" suffix because Go code calls it through a wrapper) and a data symbol.
const tinyMain = `package main

var tableHere = []int{1, 2, 3}

//go:noinline
func entryHere() int { return 42 }

func asmEntry() int

func main() {
	f := asmEntry
	println(entryHere(), f(), len(tableHere))
}
`

const tinyAsm = `#include "textflag.h"

TEXT ·asmEntry(SB),NOSPLIT,$0-8
	MOVQ	$7, ret+0(FP)
	RET
`

// writeTree creates files (relative path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
}

// buildTinyELF links tinyMain the way the core is linked and returns the ELF's path.
func buildTinyELF(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod":        "module tiny\n\ngo 1.26\n",
		"main.go":       tinyMain,
		"entry_amd64.s": tinyAsm,
	})
	out := filepath.Join(dir, "tiny.elf")
	cmd := exec.Command("go", "build", "-o", out, "-ldflags", "-T 0x200000 -R 0x1000", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-buildvcs=false")
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", msg)
	return out
}
