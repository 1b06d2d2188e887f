package fsfault

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot/disk"
	"github.com/simpleos/simpleos/fs"
	"github.com/simpleos/simpleos/fs/fat"
	"github.com/simpleos/simpleos/inject/fault"
)

// volume makes a FAT32 image with a few files and returns its device.
func volume(t *testing.T) fat.Device {
	p := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, disk.Create(p, 40<<20))
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	dev := fat.FileDevice{F: f}
	v, err := fat.Mount(dev)
	require.NoError(t, err)
	for _, name := range []string{"a", "b", "c"} {
		h, err := v.Open(name, fs.O_RDWR|fs.O_CREAT, 0o644)
		require.NoError(t, err)
		_, _, err = h.WriteAt(make([]byte, 5000), 0)
		require.NoError(t, err)
		require.NoError(t, h.Close())
	}
	require.NoError(t, v.Sync())
	return dev
}

func TestCrashMidWriteStrikesAfterTheNthWrite(t *testing.T) {
	dev := volume(t)
	s := New(fault.Spec{Class: fault.FSCrashMidWrite, Seed: 2}) // N = 3
	d := s.Device(dev)
	buf := make([]byte, fat.SectorSize)
	require.NoError(t, d.WriteAt(buf, 9000))
	require.NoError(t, d.WriteAt(buf, 9001))
	assert.Panics(t, func() { _ = d.WriteAt(buf, 9002) })
	assert.NoError(t, d.WriteAt(buf, 9003), "struck once")
	assert.Equal(t, dev, New(fault.Spec{Class: fault.FSHang}).Device(dev), "other classes leave the device alone")
	assert.Nil(t, New(fault.Spec{Class: fault.Panic}))
	var none *Sabotage
	assert.Equal(t, dev, none.Device(dev))
	none.Request()
}

func TestCorruptReadFlipsOneMetadataBit(t *testing.T) {
	for _, tc := range []struct {
		delay time.Duration
		kind  fat.ReadKind
	}{{0, fat.ReadFAT}, {200 * time.Millisecond, fat.ReadDir}} {
		dev := volume(t)
		s := New(fault.Spec{Class: fault.FSCorruptRead, Delay: tc.delay, Seed: 12345})
		reported := make(chan fault.Outcome, 1)
		s.Report = func(o fault.Outcome) { reported <- o }
		var flips []fat.ReadKind
		var before []byte
		hook := func(kind fat.ReadKind, p []byte, sector uint64) {
			if kind == tc.kind && before == nil {
				before = append([]byte(nil), p...)
			}
			s.ReadHook(kind, p, sector)
			if kind == tc.kind && len(flips) == 0 {
				diff := 0
				for i := range p {
					for x := p[i] ^ before[i]; x != 0; x &= x - 1 {
						diff++
					}
				}
				if diff > 0 {
					assert.Equal(t, 1, diff, "one bit")
					flips = append(flips, kind)
				}
			}
		}
		v, err := fat.Mount(dev, fat.WithReadHook(hook))
		require.NoError(t, err)
		_, _ = v.Stat("a") // the root's sectors cached before the delay passed...
		s.Watch(v)
		time.Sleep(tc.delay + 50*time.Millisecond) // ...and dropped when it did: read again
		_, _ = v.Stat("a")
		_, _ = v.Stat("b")
		assert.Equal(t, []fat.ReadKind{tc.kind}, flips, "the first read of its kind, once")
		select {
		case o := <-reported:
			assert.Equal(t, fault.Handled, o)
		case <-time.After(5 * time.Second):
			t.Error("no report")
		}
	}
}

func TestHangBlocksEveryRequestOnceDue(t *testing.T) {
	s := New(fault.Spec{Class: fault.FSHang, Delay: time.Hour})
	s.Request() // not due: returns
	s.start = time.Now().Add(-2 * time.Hour)
	done := make(chan bool)
	go func() { s.Request(); done <- true }()
	select {
	case <-done:
		t.Fatal("a hung server answered")
	case <-time.After(100 * time.Millisecond):
	}
}
