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
