package blkfault

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/inject/fault"
	"github.com/simpleos/simpleos/tier1/blk/virtio"
	"github.com/simpleos/simpleos/tier1/blk/virtio/virtiotest"
)

// open starts the device model with a driver whose requests go through an armed Sabotage.
func open(t *testing.T, class string, target uintptr) (*virtiotest.Device, *virtio.Driver, *Sabotage, *[]error) {
	dev := virtiotest.New(make([]byte, 1<<20), virtiotest.Options{})
	t.Cleanup(dev.Stop)
	s := New(fault.Spec{Class: class, Targets: fault.Targets{CoreAddr: target}}, dev)
	var struck []error
	s.Struck = func(c string, err error) {
		assert.Equal(t, class, c)
		struck = append(struck, err)
	}
	d, err := virtio.Open(dev, virtio.Config{Tamper: s.Tamper, Timeout: 100 * time.Millisecond})
	require.NoError(t, err)
	return dev, d, s, &struck
}

func TestWildAndStaleDMAReachOutsideTheAllocations(t *testing.T) {
	for _, class := range []string{fault.DMAWild, fault.DMAStale} {
		dev, d, _, struck := open(t, class, 0x7700_0000)
		buf := make([]byte, 4096)
		require.NoError(t, d.WriteAt(buf, 0), "%s strikes reads only", class)
		assert.Error(t, d.ReadAt(buf, 0), class)
		assert.NotEmpty(t, dev.FaultList(), "%s: the model's IOMMU saw DMA outside every allocation", class)
		require.Len(t, *struck, 1, class)
		assert.Error(t, (*struck)[0])
	}
}

func TestHangIsWithheld(t *testing.T) {
	_, d, _, struck := open(t, fault.DeviceHang, 0)
	err := d.WriteAt(make([]byte, 512), 0)
	assert.ErrorIs(t, err, virtio.ErrDeviceHang)
	require.Len(t, *struck, 1)
	assert.ErrorIs(t, d.Flush(), virtio.ErrDeviceHang, "the driver refuses every later request")
}

func TestCrashMidWriteStrikesOnce(t *testing.T) {
	s := New(fault.Spec{Class: fault.CrashMidWrite, Delay: time.Hour}, nil)
	s.CrashAfterWrite() // not due yet
	s.start = time.Now().Add(-2 * time.Hour)
	assert.Panics(t, s.CrashAfterWrite)
	s.CrashAfterWrite() // struck already
	var none *Sabotage
	none.CrashAfterWrite()
	none.Tamper(nil)
}
