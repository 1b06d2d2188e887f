package virtio_test

import (
	"bytes"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/tier1/blk/virtio"
	"github.com/simpleos/simpleos/tier1/blk/virtio/virtiotest"
)

const mib = 1 << 20

func newDevice(t *testing.T, size int, opt virtiotest.Options) *virtiotest.Device {
	t.Helper()
	dev := virtiotest.New(make([]byte, size), opt)
	t.Cleanup(dev.Stop)
	return dev
}

func open(t *testing.T, dev *virtiotest.Device, cfg virtio.Config) *virtio.Driver {
	t.Helper()
	cfg.Logf = t.Logf
	d, err := virtio.Open(dev, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

func TestOpenNegotiatesAndSetsUpTheQueue(t *testing.T) {
	dev := newDevice(t, 4*mib, virtiotest.Options{})
	d := open(t, dev, virtio.Config{})
	info := d.Info()
	assert.Equal(t, uint64(4*mib/512), info.Sectors)
	assert.Equal(t, 512, info.BlockSize)
	assert.True(t, info.Flush)
	assert.False(t, info.Polling)
	assert.Equal(t, 128, info.QueueSize, "min(device max 256, 128)")
	assert.Equal(t, 64<<10, info.MaxTransfer)
	want := uint64(virtiotest.FeatureVersion1 | virtiotest.FeatureAccessPlatform | virtiotest.FeatureFlush | virtiotest.FeatureSegMax)
	assert.Equal(t, want, dev.DriverFeat)
	assert.Equal(t, uint8(1|2|4|8), dev.Status, "ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK")
	assert.Equal(t, uint16(128), dev.QueueSize)
	assert.Equal(t, uint16(0), dev.QueueVector)
	assert.Equal(t, uint16(virtio.NoVector), dev.ConfigVector)
	assert.Equal(t, uint16(6), uint16(dev.Config()[4]), "memory space and bus master enabled")
}

func TestReadsAndWritesRoundTrip(t *testing.T) {
	dev := newDevice(t, 4*mib, virtiotest.Options{})
	d := open(t, dev, virtio.Config{})
	rng := rand.New(rand.NewSource(1))
	for _, n := range []int{512, 4096, 4096 + 512, 16 << 10, 64 << 10} {
		sector := uint64(rng.Intn(4*mib/512 - n/512))
		buf := make([]byte, n)
		rng.Read(buf)
		require.NoError(t, d.WriteAt(buf, sector))
		assert.Equal(t, buf, dev.Disk()[sector*512:sector*512+uint64(n)], "%d bytes at sector %d on the disk", n, sector)
		got := make([]byte, n)
		require.NoError(t, d.ReadAt(got, sector))
		assert.True(t, bytes.Equal(buf, got), "%d bytes at sector %d read back", n, sector)
	}
	assert.Equal(t, int64(16+2), dev.MaxChain.Load(), "64 KiB: header, one descriptor per page, status")
	assert.Empty(t, dev.FaultList())
	assert.Equal(t, int64(10), dev.Interrupts.Load())
}

func TestLastSectorsAndRangeChecks(t *testing.T) {
	dev := newDevice(t, 1*mib, virtiotest.Options{})
	d := open(t, dev, virtio.Config{})
	last := d.Info().Sectors - 1
	buf := bytes.Repeat([]byte{0xa5}, 512)
	require.NoError(t, d.WriteAt(buf, last))
	assert.ErrorIs(t, d.WriteAt(buf, last+1), virtio.ErrRange)
	assert.ErrorIs(t, d.ReadAt(make([]byte, 1024), last), virtio.ErrRange)
	assert.ErrorIs(t, d.ReadAt(make([]byte, 1024), ^uint64(0)), virtio.ErrRange, "no overflow")
	assert.ErrorIs(t, d.ReadAt(make([]byte, 100), 0), virtio.ErrInvalid)
	assert.ErrorIs(t, d.ReadAt(nil, 0), virtio.ErrInvalid)
	assert.ErrorIs(t, d.ReadAt(make([]byte, 128<<10), 0), virtio.ErrInvalid, "over MaxTransfer")
	assert.Equal(t, int64(1), dev.Requests.Load(), "refused requests never reach the device")
}

func TestFlushIsHonest(t *testing.T) {
	dev := newDevice(t, mib, virtiotest.Options{})
	d := open(t, dev, virtio.Config{})
	require.NoError(t, d.Flush())
	assert.Equal(t, int64(1), dev.Flushes.Load())

	// Without VIRTIO_BLK_F_FLUSH the device writes through: nothing to send.
	wt := newDevice(t, mib, virtiotest.Options{Features: virtiotest.FeatureVersion1 | virtiotest.FeatureAccessPlatform})
	d2 := open(t, wt, virtio.Config{})
	assert.False(t, d2.Info().Flush)
	require.NoError(t, d2.Flush())
	assert.Equal(t, int64(0), wt.Requests.Load())
}

func TestGetID(t *testing.T) {
	dev := newDevice(t, mib, virtiotest.Options{ID: "simpleos-disk-0"})
	d := open(t, dev, virtio.Config{})
	id, err := d.ID()
	require.NoError(t, err)
	assert.Equal(t, "simpleos-disk-0", id)
}

func TestIOErrorLeavesTheDriverUsable(t *testing.T) {
	dev := newDevice(t, mib, virtiotest.Options{})
	dev.FailSectors = [2]uint64{100, 108}
	d := open(t, dev, virtio.Config{})
	assert.ErrorIs(t, d.ReadAt(make([]byte, 4096), 96), virtio.ErrIO)
	assert.NoError(t, d.ReadAt(make([]byte, 4096), 0))
}

func TestBlockSizeAlignment(t *testing.T) {
	dev := newDevice(t, mib, virtiotest.Options{
		Features:  virtiotest.FeatureVersion1 | virtiotest.FeatureAccessPlatform | virtiotest.FeatureBlockSize,
		BlockSize: 4096,
	})
	d := open(t, dev, virtio.Config{})
	assert.Equal(t, 4096, d.Info().BlockSize)
	assert.ErrorIs(t, d.ReadAt(make([]byte, 4096), 1), virtio.ErrInvalid)
	assert.ErrorIs(t, d.ReadAt(make([]byte, 512), 0), virtio.ErrInvalid)
	assert.NoError(t, d.ReadAt(make([]byte, 4096), 8))
}

func TestSmallQueueUsesFewerLargerDescriptors(t *testing.T) {
	dev := newDevice(t, mib, virtiotest.Options{QueueMax: 8})
	d := open(t, dev, virtio.Config{})
	assert.Equal(t, 8, d.Info().QueueSize)
	buf := bytes.Repeat([]byte{7}, 64<<10)
	require.NoError(t, d.WriteAt(buf, 0))
	assert.LessOrEqual(t, dev.MaxChain.Load(), int64(8))
	got := make([]byte, len(buf))
	require.NoError(t, d.ReadAt(got, 0))
	assert.Equal(t, buf, got)
}

func TestConfigGenerationChangeIsReread(t *testing.T) {
	dev := newDevice(t, mib, virtiotest.Options{})
	dev.ConfigChanges = 3
	d := open(t, dev, virtio.Config{})
	assert.Equal(t, uint64(mib/512), d.Info().Sectors)
}

func TestPollingWhenTheVectorIsRefused(t *testing.T) {
	dev := newDevice(t, mib, virtiotest.Options{})
	dev.RefuseVector = true
	d := open(t, dev, virtio.Config{})
	assert.True(t, d.Info().Polling)
	buf := bytes.Repeat([]byte{1, 2, 3, 4}, 1024)
	require.NoError(t, d.WriteAt(buf, 8))
	got := make([]byte, len(buf))
	require.NoError(t, d.ReadAt(got, 8))
	assert.Equal(t, buf, got)
}

func TestDeviceHang(t *testing.T) {
	dev := newDevice(t, mib, virtiotest.Options{})
	d := open(t, dev, virtio.Config{Timeout: 100 * time.Millisecond})
	dev.Hang.Store(true)
	start := time.Now()
	err := d.ReadAt(make([]byte, 4096), 0)
	assert.ErrorIs(t, err, virtio.ErrDeviceHang)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
	// The device may still own the buffers: the driver refuses to reuse them.
	dev.Hang.Store(false)
	assert.ErrorIs(t, d.WriteAt(make([]byte, 512), 0), virtio.ErrDeviceHang)
	assert.Equal(t, int64(1), dev.Requests.Load())
}

func TestMisbehavingDeviceIsAnErrorNotAPanic(t *testing.T) {
	for name, spoil := range map[string]func(*virtiotest.Device){
		"used id out of range": func(d *virtiotest.Device) { d.BadID.Store(4000) },
		"used id in range":     func(d *virtiotest.Device) { d.BadID.Store(5) },
		"used len too long":    func(d *virtiotest.Device) { d.BadLen.Store(1 << 30) },
		"short read":           func(d *virtiotest.Device) { d.BadLen.Store(1) },
		"used index jumps":     func(d *virtiotest.Device) { d.UsedJump.Store(40) },
		"status byte garbage":  func(d *virtiotest.Device) { d.SetBadStatus(0x7f) },
	} {
		t.Run(name, func(t *testing.T) {
			dev := newDevice(t, mib, virtiotest.Options{})
			d := open(t, dev, virtio.Config{})
			require.NoError(t, d.WriteAt(bytes.Repeat([]byte{9}, 4096), 0))
			spoil(dev)
			got := make([]byte, 4096)
			err := d.ReadAt(got, 0)
			assert.ErrorIs(t, err, virtio.ErrBadDevice)
			assert.Equal(t, make([]byte, 4096), got, "nothing copied out of a bad completion")
			assert.ErrorIs(t, d.Flush(), virtio.ErrBadDevice, "the driver stays stopped")
		})
	}
}

func TestBadCapabilitiesAreRefused(t *testing.T) {
	for name, spoil := range map[string]func(c *[256]byte){
		"no capability list":   func(c *[256]byte) { c[6] = 0 },
		"list loops":           func(c *[256]byte) { c[0x85] = 0x40 },
		"pointer into header":  func(c *[256]byte) { c[0x34] = 0x10 },
		"pointer past the end": func(c *[256]byte) { c[0x51] = 0xfe },
		"no common config":     func(c *[256]byte) { c[0x43] = 7 },
		"common outside BAR":   func(c *[256]byte) { c[0x4a] = 0x40 },
		"common too short":     func(c *[256]byte) { c[0x4c] = 0x10 },
		"common unaligned":     func(c *[256]byte) { c[0x48] = 2 },
		"notify cap too short": func(c *[256]byte) { c[0x52] = 16 },
		"bad BAR":              func(c *[256]byte) { c[0x44] = 9 },
		"unmappable BAR":       func(c *[256]byte) { c[0x44] = 2 },
		"empty notify window":  func(c *[256]byte) { c[0x5d] = 0 },
	} {
		t.Run(name, func(t *testing.T) {
			dev := newDevice(t, mib, virtiotest.Options{})
			spoil(dev.Config())
			_, err := virtio.Open(dev, virtio.Config{})
			assert.Error(t, err)
			assert.Zero(t, dev.DMAAllocated(), "nothing leaked")
		})
	}
}

func TestFeatureRefusals(t *testing.T) {
	dev := newDevice(t, mib, virtiotest.Options{Features: virtiotest.FeatureAccessPlatform | virtiotest.FeatureFlush})
	_, err := virtio.Open(dev, virtio.Config{})
	assert.ErrorIs(t, err, virtio.ErrBadDevice, "a legacy-only device")
	assert.Equal(t, uint8(0x80), dev.Status, "FAILED")
}

func TestCloseResetsAndFrees(t *testing.T) {
	dev := newDevice(t, mib, virtiotest.Options{})
	d, err := virtio.Open(dev, virtio.Config{})
	require.NoError(t, err)
	assert.Equal(t, 2, dev.DMAAllocated())
	require.NoError(t, d.Close())
	assert.Equal(t, uint8(0), dev.Status)
	assert.Zero(t, dev.DMAAllocated())
	assert.ErrorIs(t, d.ReadAt(make([]byte, 512), 0), virtio.ErrClosed)
}
