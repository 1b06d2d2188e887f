package main

import (
	"errors"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// flaky fails some calls (not acknowledged: no breach) and, if lose is set, acknowledges the
// n-th write without doing it.
type flaky struct {
	*memDisk
	calls, lose, writes int
}

func (f *flaky) WriteAt(p []byte, s uint64) error {
	f.calls++
	if f.calls%5 == 0 {
		copy(f.data[s*512:], p[:len(p)/2]) // half done, then the driver died: unacknowledged
		return syscall.EIO
	}
	f.writes++
	if f.writes == f.lose {
		return nil
	}
	return f.memDisk.WriteAt(p, s)
}

func (f *flaky) ReadAt(p []byte, s uint64) error {
	f.calls++
	if f.calls%7 == 0 {
		return errors.New("driver unavailable")
	}
	return f.memDisk.ReadAt(p, s)
}

func TestSoak(t *testing.T) {
	reports := 0
	reportBreach = func() { reports++ }
	code, out := runWith(newMemDisk(20000), "--soak", "--soak-pause", "0", "--soak-rounds", "200", "--slots", "8", "--slot-sectors", "16")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "blktest: soak: 200 rounds, 200 writes and 67 flushes acknowledged")
	assert.Contains(t, out, "0 breaches")

	// Failed calls are not acknowledged: no breach.
	code, out = runWith(&flaky{memDisk: newMemDisk(20000)}, "--soak", "--soak-pause", "0", "--soak-rounds", "200", "--slots", "8", "--slot-sectors", "16")
	assert.Equal(t, 0, code, out)
	assert.Zero(t, reports)

	// An acknowledged write that never reached the disk is found.
	code, out = runWith(&flaky{memDisk: newMemDisk(20000), lose: 30}, "--soak", "--soak-pause", "0", "--soak-rounds", "200", "--slots", "8", "--slot-sectors", "16")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "blktest: BREACH: corrupted: slot")
	assert.Equal(t, 1, reports)

	// A disk that corrupts a sector as it is written.
	d := newMemDisk(20000)
	d.corrupt = 16384 + 3*16 + 2
	code, out = runWith(d, "--soak", "--soak-pause", "0", "--soak-rounds", "50", "--slots", "8", "--slot-sectors", "16")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "blktest: BREACH: corrupted: slot 3 (sectors 16432+16")
	assert.Contains(t, out, "MISMATCH at sector 16434 word 3")
}
