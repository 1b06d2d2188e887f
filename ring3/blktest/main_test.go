package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/ipc/blk"
)

// memDisk is a disk in memory; corrupt, if set, spoils one sector as it is written.
type memDisk struct {
	data    []byte
	corrupt int64
	flushes int
	maxIO   int
}

func newMemDisk(sectors int) *memDisk { return &memDisk{data: make([]byte, sectors*512), corrupt: -1} }

func (d *memDisk) Info() (blk.Info, error) {
	return blk.Info{Sectors: uint64(len(d.data) / 512), BlockSize: 512, Flags: blk.FlagFlush, MaxTransfer: 64 << 10}, nil
}

func (d *memDisk) ReadAt(p []byte, s uint64) error {
	d.maxIO = max(d.maxIO, len(p))
	copy(p, d.data[s*512:])
	return nil
}

func (d *memDisk) WriteAt(p []byte, s uint64) error {
	copy(d.data[s*512:], p)
	if c := d.corrupt; c >= 0 && uint64(c) >= s && uint64(c) < s+uint64(len(p)/512) {
		d.data[c*512+24] ^= 1
	}
	return nil
}

func (d *memDisk) Flush() error { d.flushes++; return nil }

func runWith(d disk, args ...string) (int, string) {
	var out bytes.Buffer
	code := run(args, &out, func() disk { return d })
	return code, out.String()
}

func TestPatternCheck(t *testing.T) {
	d := newMemDisk(3000)
	code, out := runWith(d, "--pattern-check", "0", "--seed", "7")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "blktest: wrote 3000 sectors, flushed, verified 3000 sectors OK\n")
	assert.Equal(t, 1, d.flushes)
	assert.Equal(t, 33*4096, d.maxIO, "chunks of 33 pages reach the client")
	assert.Equal(t, word(7, 2999, 63), uint64(7)<<48|2999<<8|63)

	code, out = runWith(d, "--read-only-check", "7")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "blktest: verified 3000 sectors of seed 7 OK\n")

	code, out = runWith(d, "--read-only-check", "8", "--start", "100", "--sectors", "10")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "blktest: MISMATCH at sector 100 word 0: got 0x0007000000006400, want 0x0008000000006400\n")
}

func TestPatternCheckFindsACorruptSector(t *testing.T) {
	d := newMemDisk(2000)
	d.corrupt = 1234
	code, out := runWith(d, "--pattern-check", "1500", "--start", "10")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "blktest: MISMATCH at sector 1234 word 3:")
}

func TestRangeErrors(t *testing.T) {
	code, out := runWith(newMemDisk(100), "--pattern-check", "10", "--start", "100")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "past the disk")
}

func TestNoModeIsNothingToDo(t *testing.T) {
	code, out := runWith(nil)
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "blktest: no mode given"))
}

func TestBench(t *testing.T) {
	code, out := runWith(newMemDisk(8192), "--bench", "--bench-mb", "2")
	require.Equal(t, 0, code, out)
	for _, l := range []string{"blkbench: seq-write 2 MiB", "blkbench: seq-read 2 MiB", "blkbench: rand-read-4k "} {
		assert.Contains(t, out, l)
	}
}
