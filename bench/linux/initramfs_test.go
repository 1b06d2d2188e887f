package linux

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readCPIO is an independent newc reader: it checks the magic, the alignment and the
// trailer, and returns the entries before the trailer.
func readCPIO(t *testing.T, r io.Reader) []cpioEntry {
	t.Helper()
	br := bufio.NewReader(r)
	var out []cpioEntry
	offset := 0
	read := func(n int) []byte {
		b := make([]byte, n)
		_, err := io.ReadFull(br, b)
		require.NoError(t, err, "at offset %d", offset)
		offset += n
		return b
	}
	align := func() {
		if offset%4 != 0 {
			assert.Equal(t, make([]byte, 4-offset%4), read(4-offset%4), "padding is NULs")
		}
	}
	for {
		hdr := read(110)
		require.Equal(t, "070701", string(hdr[:6]), "magic at offset %d", offset-110)
		field := func(i int) uint32 {
			v, err := strconv.ParseUint(string(hdr[6+8*i:14+8*i]), 16, 32)
			require.NoError(t, err)
			return uint32(v)
		}
		name := read(int(field(11)))
		require.Equal(t, byte(0), name[len(name)-1], "name ends in NUL")
		align()
		e := cpioEntry{Name: string(name[:len(name)-1]), Mode: field(1), RdevMajor: field(9), RdevMinor: field(10)}
		if size := int(field(6)); size > 0 {
			e.Data = read(size)
		}
		align()
		if e.Name == "TRAILER!!!" {
			_, err := br.ReadByte()
			assert.ErrorIs(t, err, io.EOF, "nothing after the trailer")
			return out
		}
		assert.Zero(t, field(12), "check field of %s", e.Name)
		out = append(out, e)
	}
}

func TestCPIORoundTrip(t *testing.T) {
	entries := []cpioEntry{
		{Name: "a", Mode: modeDir | 0o755},
		{Name: "a/odd-length-name", Mode: modeReg | 0o644, Data: []byte("12345")},
		{Name: "dev-node", Mode: modeChar | 0o600, RdevMajor: 5, RdevMinor: 1},
		{Name: "empty", Mode: modeReg | 0o600},
		{Name: "four", Mode: modeReg | 0o755, Data: []byte("abcd")},
	}
	var buf bytes.Buffer
	require.NoError(t, writeCPIO(&buf, entries))
	assert.Zero(t, buf.Len()%4)
	assert.Equal(t, entries, readCPIO(t, &buf))
}

func TestBuildInitramfs(t *testing.T) {
	dir := t.TempDir()
	guest := filepath.Join(dir, "guest")
	program := []byte("\x7fELF not really a program, odd length")
	require.NoError(t, os.WriteFile(guest, program, 0o600))
	want := []cpioEntry{
		{Name: "dev", Mode: 0o040755},
		{Name: "dev/console", Mode: 0o020600, RdevMajor: 5, RdevMinor: 1},
		{Name: "proc", Mode: 0o040755},
		{Name: "sys", Mode: 0o040755},
		{Name: "tmp", Mode: 0o041777},
		{Name: "init", Mode: 0o100755, Data: program},
	}

	plain := filepath.Join(dir, "initramfs.cpio")
	require.NoError(t, BuildInitramfs(guest, plain))
	f, err := os.Open(plain)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, want, readCPIO(t, f))

	gz := filepath.Join(dir, "initramfs.cpio.gz")
	require.NoError(t, BuildInitramfs(guest, gz))
	g, err := os.Open(gz)
	require.NoError(t, err)
	defer g.Close()
	zr, err := gzip.NewReader(g)
	require.NoError(t, err)
	assert.Equal(t, want, readCPIO(t, zr))

	left, err := filepath.Glob(filepath.Join(dir, "*.tmp*"))
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary files left")

	assert.Error(t, BuildInitramfs(filepath.Join(dir, "missing"), plain))

	// Kernel modules follow, numbered in load order.
	ring, blk := filepath.Join(dir, "virtio_ring.ko"), filepath.Join(dir, "virtio_blk.ko")
	require.NoError(t, os.WriteFile(ring, []byte("ring"), 0o600))
	require.NoError(t, os.WriteFile(blk, []byte("blk"), 0o600))
	require.NoError(t, BuildInitramfs(guest, plain, ring, blk))
	m, err := os.Open(plain)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, append(want,
		cpioEntry{Name: "lib", Mode: 0o040755},
		cpioEntry{Name: "lib/modules", Mode: 0o040755},
		cpioEntry{Name: "lib/modules/bench", Mode: 0o040755},
		cpioEntry{Name: "lib/modules/bench/01-virtio_ring.ko", Mode: 0o100644, Data: []byte("ring")},
		cpioEntry{Name: "lib/modules/bench/02-virtio_blk.ko", Mode: 0o100644, Data: []byte("blk")},
	), readCPIO(t, m))
	assert.Error(t, BuildInitramfs(guest, plain, filepath.Join(dir, "missing.ko")))
}
