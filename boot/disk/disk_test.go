package disk

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newImage creates a fresh default-sized image in a temporary directory.
func newImage(t *testing.T) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, Create(img, DefaultSize))
	return img
}

func names(entries []Entry) []string {
	var s []string
	for _, e := range entries {
		s = append(s, e.Name)
	}
	return s
}

func TestCreate(t *testing.T) {
	img := newImage(t)
	st, err := os.Stat(img)
	require.NoError(t, err)
	assert.EqualValues(t, DefaultSize, st.Size())

	boot := make([]byte, 512)
	f, err := os.Open(img)
	require.NoError(t, err)
	_, err = f.ReadAt(boot, 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Equal(t, []byte{0x55, 0xaa}, boot[510:], "a boot sector at LBA 0: FAT32 on the whole image")
	assert.Equal(t, "FAT32   ", string(boot[0x52:0x5a]))

	im, err := Open(img, false)
	require.NoError(t, err)
	defer im.Close()
	entries, err := im.List("/")
	require.NoError(t, err)
	assert.Empty(t, entries)

	err = Create(img, DefaultSize)
	assert.ErrorContains(t, err, img+" already exists")
	assert.ErrorContains(t, Create(filepath.Join(t.TempDir(), "small.img"), 1<<20), "below")
	assert.ErrorContains(t, Create(filepath.Join(t.TempDir(), "odd.img"), DefaultSize+1), "sectors")
}

func TestRoundTrip(t *testing.T) {
	img := newImage(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640,000 bytes: many clusters
	files := map[string][]byte{
		"/hello.txt":                             []byte("hello, disk\n"),
		"drivers/C-00000291-00000001.sys":        []byte("channel 291"),
		"/drivers/deep/er/a long file name.data": big,
		"/empty":                                 {},
	}

	im, err := Open(img, true)
	require.NoError(t, err)
	for name, data := range files {
		require.NoError(t, im.WriteFile(name, data), name)
	}
	require.NoError(t, im.Close())

	im, err = Open(img, false)
	require.NoError(t, err)
	for name, data := range files {
		got, err := im.ReadFile(name)
		require.NoError(t, err, name)
		assert.True(t, bytes.Equal(data, got), "%s: %d bytes back for %d", name, len(got), len(data))
	}

	root, err := im.List("")
	require.NoError(t, err)
	assert.Equal(t, []string{"drivers", "empty", "hello.txt"}, names(root))
	assert.True(t, root[0].Dir)
	assert.EqualValues(t, 12, root[2].Size)

	sub, err := im.List("/drivers")
	require.NoError(t, err)
	assert.Equal(t, []string{"C-00000291-00000001.sys", "deep"}, names(sub))

	one, err := im.List("drivers/deep/er/a long file name.data")
	require.NoError(t, err)
	assert.Equal(t, []Entry{{Name: "a long file name.data", Size: int64(len(big)), ModTime: one[0].ModTime}}, one)

	_, err = im.ReadFile("/drivers")
	assert.ErrorContains(t, err, "is a directory")
	_, err = im.ReadFile("/missing")
	assert.ErrorContains(t, err, img)
	assert.ErrorContains(t, err, "/missing: no such file")
	_, err = im.List("/nodir")
	assert.ErrorContains(t, err, "/nodir: no such file")
	require.NoError(t, im.Close())
}

func TestOverwrite(t *testing.T) {
	img := newImage(t)
	im, err := Open(img, true)
	require.NoError(t, err)
	defer im.Close()
	require.NoError(t, im.WriteFile("f", bytes.Repeat([]byte{'x'}, 5000)))
	require.NoError(t, im.WriteFile("f", []byte("short")))
	got, err := im.ReadFile("f")
	require.NoError(t, err)
	assert.Equal(t, "short", string(got))

	assert.ErrorContains(t, im.WriteFile("f/g", nil), "/f is a file")
	require.NoError(t, im.WriteFile("d/x", nil))
	assert.ErrorContains(t, im.WriteFile("d", nil), "/d is a directory")
	assert.ErrorContains(t, im.WriteFile("/", nil), "no file name")
}

func TestOpenBadImage(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.img")
	require.NoError(t, os.WriteFile(junk, bytes.Repeat([]byte{0xa5}, 1<<20), 0o644))
	_, err := Open(junk, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), junk)
	assert.Contains(t, err.Error(), "not a SimpleOS disk image")

	empty := filepath.Join(dir, "empty.img")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err = Open(empty, false)
	assert.ErrorContains(t, err, empty)

	_, err = Open(filepath.Join(dir, "missing.img"), false)
	assert.ErrorContains(t, err, "missing.img")

	_, err = Open(dir, false)
	assert.ErrorContains(t, err, "not a regular file")
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"64M": 64 << 20, "64m": 64 << 20, "64MiB": 64 << 20, "64MB": 64 << 20,
		"1G": 1 << 30, "512K": 512 << 10, "67108864": 64 << 20, "2T": 2 << 40,
	} {
		got, err := ParseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "M", "-1M", "0", "12X", "1.5G", "99999999999T"} {
		_, err := ParseSize(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "64M", FormatSize(64<<20))
	assert.Equal(t, "33M", FormatSize(MinSize))
	assert.Equal(t, "1000", FormatSize(1000))
}

// TestMtoolsReadsTheImage checks the image with an independent FAT implementation, mtools.
func TestMtoolsReadsTheImage(t *testing.T) {
	if _, err := exec.LookPath("mdir"); err != nil {
		t.Skip("mdir (mtools) not installed: scripts/deps test installs it")
	}
	img := newImage(t)
	im, err := Open(img, true)
	require.NoError(t, err)
	require.NoError(t, im.WriteFile("/drivers/C-00000291-00000002.sys", []byte("from go-diskfs\n")))
	require.NoError(t, im.Close())

	mtools := func(args ...string) string {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=0")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", strings.Join(args, " "), out)
		return string(out)
	}
	out := mtools("mdir", "-i", img, "::/drivers")
	assert.Contains(t, out, "C-00000291-00000002.sys")
	assert.Equal(t, "from go-diskfs\n", mtools("mtype", "-i", img, "::/drivers/C-00000291-00000002.sys"))
	assert.NotContains(t, mtools("minfo", "-i", img, "::"), "FAT16")

	// And the other way: a file mtools wrote reads back here.
	host := filepath.Join(t.TempDir(), "from-mtools.txt")
	require.NoError(t, os.WriteFile(host, []byte("from mtools\n"), 0o644))
	mtools("mcopy", "-i", img, host, "::/from-mtools.txt")
	im, err = Open(img, false)
	require.NoError(t, err)
	defer im.Close()
	got, err := im.ReadFile("/from-mtools.txt")
	require.NoError(t, err)
	assert.Equal(t, "from mtools\n", string(got))
}

func TestFAT32Layout(t *testing.T) {
	bad := 0
	for _, size := range []int64{MinSize, 40 << 20, DefaultSize, 100 << 20, 260 << 20, 261 << 20, 1 << 30, 8 << 30, 100 << 30} {
		if !fatCovers(layoutOf(size/sectorSize, sectorsPerCluster(size))) {
			bad++ // go-diskfs's own layout for the whole image
		}
		fs := fat32Size(size)
		l := layoutOf(fs/sectorSize, sectorsPerCluster(size))
		assert.True(t, fatCovers(l), "size %s", FormatSize(size))
		assert.GreaterOrEqual(t, l.clusters(), int64(65525), "size %s", FormatSize(size))
		assert.LessOrEqual(t, size-fs, int64(64*sectorSize), "size %s: at most a few sectors unused", FormatSize(size))
	}
	assert.Positive(t, bad, "go-diskfs's layout was fixed: fat32Size may be dropped")

	for _, size := range []int64{MinSize, 300 << 20} {
		img := filepath.Join(t.TempDir(), "disk.img")
		require.NoError(t, Create(img, size), FormatSize(size))
		f, err := os.Open(img)
		require.NoError(t, err)
		assert.NoError(t, checkFAT32(f), FormatSize(size))
		require.NoError(t, f.Close())
	}
}
