package main

import (
	"bytes"
	"encoding/binary"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/ipc"
	"github.com/simpleos/simpleos/ipc/blk"
	"github.com/simpleos/simpleos/tier1/blk/virtio"
	"github.com/simpleos/simpleos/tier1/blk/virtio/virtiotest"
)

// On the host the device calls do not exist: the driver says so instead of crashing.
func TestWithoutTheCoreThereIsNoDevice(t *testing.T) {
	_, err := newPlatform()
	assert.ErrorIs(t, err, syscall.ENOSYS)
}

// loopback stands in for the core's IPC: grants are the caller's own memory, as the server
// would see them mapped.
type loopback struct {
	t      *testing.T
	handle func(ipc.Msg) ipc.Msg
}

func (l loopback) Call(m ipc.Msg) (ipc.Msg, error) {
	require.LessOrEqual(l.t, m.GrantPages&^abi.GrantWrite, uint64(abi.MaxGrantPages))
	return l.handle(m), nil
}

// The whole path on the host: client, protocol, server, driver, device model.
func TestClientThroughDriverToDevice(t *testing.T) {
	dev := virtiotest.New(make([]byte, 8<<20), virtiotest.Options{})
	defer dev.Stop()
	d, err := virtio.Open(dev, virtio.Config{})
	require.NoError(t, err)
	defer d.Close()
	srv := &blk.Server{Dev: d.Block(), Fatal: func(err error) { t.Errorf("fatal: %v", err) }}
	c := blk.NewClientWith(loopback{t, srv.Handle})

	info, err := c.Info()
	require.NoError(t, err)
	assert.Equal(t, uint64(8<<20/512), info.Sectors)
	assert.NotZero(t, info.Flags&blk.FlagFlush)

	sector := uint64(0)
	for _, pages := range []int{1, 7, 16, 17, 33} {
		n := pages * 4096
		buf := make([]byte, n)
		for i := 0; i < n; i += 8 {
			binary.LittleEndian.PutUint64(buf[i:], sector+uint64(i/512)<<8|uint64(pages))
		}
		require.NoError(t, c.WriteAt(buf, sector))
		got := make([]byte, n)
		require.NoError(t, c.ReadAt(got, sector))
		assert.True(t, bytes.Equal(buf, got), "%d pages", pages)
		assert.Equal(t, buf, dev.Disk()[sector*512:sector*512+uint64(n)])
		sector += uint64(n / 512)
	}
	require.NoError(t, c.Flush())
	assert.Equal(t, int64(1), dev.Flushes.Load())
	id, err := c.ID()
	require.NoError(t, err)
	assert.Equal(t, "virtiotest-disk", id)

	err = c.ReadAt(make([]byte, 4096), info.Sectors-4)
	assert.ErrorIs(t, err, syscall.EINVAL)
}

// A hung device reaches Fatal (the driver then exits) instead of being answered.
func TestHangIsFatal(t *testing.T) {
	dev := virtiotest.New(make([]byte, 1<<20), virtiotest.Options{})
	defer dev.Stop()
	d, err := virtio.Open(dev, virtio.Config{Timeout: 50 * time.Millisecond})
	require.NoError(t, err)
	var fatal error
	srv := &blk.Server{Dev: d.Block(), Fatal: func(err error) { fatal = err }}
	dev.Hang.Store(true)
	buf := blk.AlignedBuffer(4096)
	srv.Handle(ipc.Msg{Label: blk.LabelRead, Words: [4]uint64{0, 4096},
		GrantAddr: uint64(uintptr(unsafe.Pointer(&buf[0]))), GrantPages: 1 | abi.GrantWrite})
	assert.ErrorIs(t, fatal, virtio.ErrDeviceHang)
}

func TestCrashAfterCountsWrites(t *testing.T) {
	srv := &blk.Server{Dev: nopDevice{}}
	h := handler(srv, 2, nil)
	buf := blk.AlignedBuffer(4096)
	write := ipc.Msg{Label: blk.LabelWrite, Words: [4]uint64{0, 512}, GrantAddr: uint64(uintptr(unsafe.Pointer(&buf[0]))), GrantPages: 1}
	assert.Zero(t, h(write).Label)
	assert.Zero(t, h(ipc.Msg{Label: blk.LabelFlush}).Label)
	assert.Panics(t, func() { h(write) })
}

type nopDevice struct{}

func (nopDevice) Info() blk.Info               { return blk.Info{Sectors: 8, BlockSize: 512, MaxTransfer: 4096} }
func (nopDevice) ReadAt([]byte, uint64) error  { return nil }
func (nopDevice) WriteAt([]byte, uint64) error { return nil }
func (nopDevice) Flush() error                 { return nil }
func (nopDevice) ID() (string, error)          { return "", nil }
