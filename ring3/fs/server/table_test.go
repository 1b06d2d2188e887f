package server_test

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/fs"
	"github.com/simpleos/simpleos/fs/memfs"
	"github.com/simpleos/simpleos/ring3/fs/server"
)

func TestOpenFileTableIsBounded(t *testing.T) {
	s := server.New(server.Options{MaxOpen: 4, Logf: t.Logf})
	require.NoError(t, s.Mount("/", memfs.New(0), server.MountOptions{}))
	c := newClient(t, s)
	var hs []uint64
	for i := range 4 {
		hs = append(hs, c.mustOpen(fmt.Sprintf("/f%d", i), abi.O_CREAT|abi.O_RDWR))
	}
	_, e := c.open("/f9", abi.O_CREAT|abi.O_RDWR, 0o644)
	assert.Equal(t, syscall.ENFILE, e)
	_, e = c.stat("/f9")
	assert.Equal(t, syscall.ENOENT, e, "a full table fails the open before it creates the file")
	require.Zero(t, c.close(hs[2]))
	h := c.mustOpen("/f9", abi.O_CREAT|abi.O_RDWR)
	assert.NotEqual(t, hs[2], h, "the slot is reused under a new generation")
	assert.Equal(t, hs[2]&0xffffffff, h&0xffffffff)
	_, e = c.fstat(hs[2])
	assert.Equal(t, syscall.EBADF, e)
	_, e = c.fstat(h)
	assert.Zero(t, e)
}

func TestHandlesOfAnotherInstanceAreStale(t *testing.T) {
	mk := func() *client {
		s := server.New(server.Options{})
		require.NoError(t, s.Mount("/", memfs.New(0), server.MountOptions{}))
		return newClient(t, s)
	}
	a, b := mk(), mk()
	h := a.mustOpen("/", 0)
	_, e := b.fstat(h)
	assert.Equal(t, syscall.EBADF, e, "generations start at random")
}

// broken is a file system whose every call fails with an error that is no errno.
type broken struct{ fs.FS }

var errBroken = errors.New("the medium caught fire")

func (broken) Stat(string) (fs.Stat, error) { return fs.Stat{}, errBroken }
func (broken) Open(string, int, iofs.FileMode) (fs.File, error) {
	return nil, fmt.Errorf("wrapped: %w", syscall.EROFS)
}
func (broken) Mkdir(string, iofs.FileMode) error { return errBroken }
func (broken) Sync() error                       { return errBroken }

func TestOtherErrorsAreEIO(t *testing.T) {
	var logged []string
	s := server.New(server.Options{Logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }})
	require.NoError(t, s.Mount("/", broken{}, server.MountOptions{}))
	c := newClient(t, s)
	_, e := c.stat("/x")
	assert.Equal(t, syscall.EIO, e)
	assert.Equal(t, syscall.EIO, c.mkdir("/x"))
	assert.Equal(t, syscall.EIO, errno(c.call(abi.FSSync, [4]uint64{abi.FSSyncAll}, "", "", 0, false)))
	_, e = c.open("/x", 0, 0)
	assert.Equal(t, syscall.EROFS, e, "a wrapped errno is that errno")
	assert.Equal(t, []string{
		"fs: stat /x: the medium caught fire (EIO)",
		"fs: mkdir /x: the medium caught fire (EIO)",
		"fs: sync: the medium caught fire (EIO)",
	}, logged)
}
