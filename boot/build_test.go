package boot

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRoot lays out a miniature SimpleOS checkout whose ./core links like the real one and
// defines the entry symbol in assembly, as the real kernel does.
func fakeRoot(t *testing.T) string {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"go.mod": "module " + ModulePath + "\n\ngo 1.26\n",
		"core/main.go": `package main

import "` + ModulePath + `/core/kernel"

func main() { kernel.Start() }
`,
		"core/kernel/kernel.go": `package kernel

func multibootEntry()

// Start keeps multibootEntry linked.
func Start() { f := multibootEntry; f() }
`,
		"core/kernel/entry_amd64.s": `#include "textflag.h"

TEXT ·multibootEntry(SB),NOSPLIT|NOFRAME,$0
	RET
`,
	})
	return root
}

func TestFindRoot(t *testing.T) {
	root := fakeRoot(t)
	got, err := FindRoot(filepath.Join(root, "core", "kernel"))
	require.NoError(t, err)
	assert.Equal(t, root, got)

	other := t.TempDir()
	writeTree(t, other, map[string]string{"go.mod": "module example.com/other\n", "sub/x.go": "package sub\n"})
	_, err = FindRoot(filepath.Join(other, "sub"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), ModulePath)
}

func TestDefaultPaths(t *testing.T) {
	p := DefaultPaths("/src/simpleos")
	assert.Equal(t, Paths{
		Root:     "/src/simpleos",
		BuildDir: "/src/simpleos/build",
		ELF:      "/src/simpleos/build/simpleos.elf",
		Image:    "/src/simpleos/build/simpleos.img",
	}, p)
}

func TestBuildCoreAndStaleness(t *testing.T) {
	p := DefaultPaths(fakeRoot(t))

	stale, err := Stale(p)
	require.NoError(t, err)
	assert.True(t, stale, "nothing built yet")

	require.NoError(t, BuildCore(p, nil))
	info, err := ReadImageInfo(p.Image)
	require.NoError(t, err)
	assert.Equal(t, uint32(CoreLinkAddr-CoreLinkAlign), info.LoadAddr)
	assert.FileExists(t, p.ELF)
	stale, err = Stale(p)
	require.NoError(t, err)
	assert.False(t, stale, "just built")

	// Files under build/ and hidden directories are not sources.
	future := time.Now().Add(time.Hour)
	writeTree(t, p.Root, map[string]string{"build/x.go": "package x\n", ".git/y.go": "package y\n"})
	require.NoError(t, os.Chtimes(filepath.Join(p.BuildDir, "x.go"), future, future))
	require.NoError(t, os.Chtimes(filepath.Join(p.Root, ".git", "y.go"), future, future))
	stale, err = Stale(p)
	require.NoError(t, err)
	assert.False(t, stale)

	// A newer source makes it stale, and EnsureBuilt rebuilds.
	src := filepath.Join(p.Root, "core", "kernel", "entry_amd64.s")
	require.NoError(t, os.Chtimes(src, future, future))
	stale, err = Stale(p)
	require.NoError(t, err)
	assert.True(t, stale)
	require.NoError(t, os.Chtimes(src, time.Now(), time.Now()))
	require.NoError(t, os.Chtimes(p.Image, time.Unix(0, 0), time.Unix(0, 0)))
	require.NoError(t, EnsureBuilt(p, nil))
	st, err := os.Stat(p.Image)
	require.NoError(t, err)
	assert.Greater(t, st.ModTime().Unix(), int64(0), "image rebuilt")

	// A missing ELF (module 0 of every boot) also counts as stale.
	require.NoError(t, os.Remove(p.ELF))
	stale, err = Stale(p)
	require.NoError(t, err)
	assert.True(t, stale)
}

func TestEnsureBuiltConcurrently(t *testing.T) {
	p := DefaultPaths(fakeRoot(t))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = EnsureBuilt(p, nil) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	_, err := ReadImageInfo(p.Image)
	require.NoError(t, err)
	leftovers, err := filepath.Glob(filepath.Join(p.BuildDir, ".*.tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, leftovers, "temporary files are renamed or removed")
}

func TestBuildCoreReportsCompilerErrors(t *testing.T) {
	p := DefaultPaths(fakeRoot(t))
	writeTree(t, p.Root, map[string]string{"core/kernel/broken.go": "package kernel\n\nfunc oops() { undefinedThing() }\n"})

	var out bytes.Buffer
	err := BuildCore(p, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "undefinedThing")
	assert.Contains(t, out.String(), "undefinedThing", "compiler output is streamed to w")
	assert.NoFileExists(t, p.Image)
}

func TestBuildCoreMissingEntrySymbol(t *testing.T) {
	p := DefaultPaths(fakeRoot(t))
	writeTree(t, p.Root, map[string]string{
		"core/kernel/kernel.go":     "package kernel\n\nfunc Start() {}\n",
		"core/kernel/entry_amd64.s": "",
	})
	err := BuildCore(p, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), CoreEntrySymbol)
	assert.Contains(t, err.Error(), p.ELF)
}
