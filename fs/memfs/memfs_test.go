package memfs_test

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/fs"
	"github.com/simpleos/simpleos/fs/internal/fstest"
	"github.com/simpleos/simpleos/fs/memfs"
)

func TestConformance(t *testing.T) {
	fstest.Run(t, func(t *testing.T) fs.FS { return memfs.New(0) })
}

func TestLimit(t *testing.T) {
	m := memfs.New(10)
	f, err := m.Open("f", fs.O_RDWR|fs.O_CREAT, 0o644)
	require.NoError(t, err)
	_, _, err = f.WriteAt(make([]byte, 10), 0)
	require.NoError(t, err)
	_, _, err = f.WriteAt([]byte("x"), 10)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	require.NoError(t, m.Unlink("f"))
	require.NoError(t, f.Close())
	fstest.WriteFile(t, m, "g", "0123456789")
}

// A file unlinked (or renamed over) while open keeps its bytes counted until its last close:
// unlink, truncate through the handle and close again must not make room that is not there.
func TestLimitCountsUnlinkedOpenFiles(t *testing.T) {
	m := memfs.New(1 << 10)
	for range 4 {
		f, err := m.Open("a", fs.O_RDWR|fs.O_CREAT, 0o644)
		require.NoError(t, err)
		_, _, err = f.WriteAt(make([]byte, 1<<10), 0)
		require.NoError(t, err)
		require.NoError(t, m.Unlink("a"))
		g, err := m.Open("b", fs.O_RDWR|fs.O_CREAT|fs.O_TRUNC, 0o644)
		require.NoError(t, err)
		_, _, err = g.WriteAt([]byte("x"), 0)
		assert.ErrorIs(t, err, syscall.ENOSPC, "a's bytes still count while it is open")
		require.NoError(t, f.Truncate(0))
		require.NoError(t, f.Close())
		require.NoError(t, g.Close())
		require.NoError(t, m.Unlink("b"))
	}
	// replaced by a rename while open: the same
	fstest.WriteFile(t, m, "c", string(make([]byte, 1<<9)))
	f, err := m.Open("c", fs.O_RDONLY, 0)
	require.NoError(t, err)
	fstest.WriteFile(t, m, "d", string(make([]byte, 1<<9)))
	require.NoError(t, m.Rename("d", "c"))
	g, err := m.Open("e", fs.O_RDWR|fs.O_CREAT, 0o644)
	require.NoError(t, err)
	_, _, err = g.WriteAt([]byte("x"), 0)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	require.NoError(t, f.Close())
	_, _, err = g.WriteAt(make([]byte, 1<<9), 0)
	assert.NoError(t, err, "the last close freed the old c")
}

func TestWriteOffsetsThatWrap(t *testing.T) {
	m := memfs.New(0)
	f, err := m.Open("f", fs.O_RDWR|fs.O_CREAT, 0o644)
	require.NoError(t, err)
	_, _, err = f.WriteAt([]byte("xyz"), 1<<63-2)
	assert.ErrorIs(t, err, syscall.EFBIG)
}
