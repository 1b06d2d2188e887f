package fat_test

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot/disk"
	"github.com/simpleos/simpleos/fs"
	"github.com/simpleos/simpleos/fs/fat"
	"github.com/simpleos/simpleos/fs/internal/fstest"
)

// image returns a fresh boot/disk image's bytes (made once per test binary).
var imageBytes []byte

func image(t *testing.T) []byte {
	t.Helper()
	if imageBytes == nil {
		p := filepath.Join(t.TempDir(), "disk.img")
		require.NoError(t, disk.Create(p, disk.MinSize))
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		imageBytes = b
	}
	return append([]byte(nil), imageBytes...)
}

// memDev is a Device in memory that keeps unflushed writes apart and can crash.
type memDev struct {
	durable []byte
	pending map[uint64][]byte
	order   []uint64
	writes  int
	// ops counts WriteAt and Flush calls; once it reaches cutAt (when positive) the device
	// has lost power: every later call fails with EIO and changes nothing.
	ops, cutAt int
}

// dead counts one operation and reports whether power is gone.
func (d *memDev) dead() bool {
	d.ops++
	return d.cutAt > 0 && d.ops >= d.cutAt
}

func newMemDev(img []byte) *memDev { return &memDev{durable: img, pending: map[uint64][]byte{}} }

func (d *memDev) ReadAt(p []byte, sector uint64) error {
	for i := 0; i < len(p); i += 512 {
		s := sector + uint64(i/512)
		if b, ok := d.pending[s]; ok {
			copy(p[i:i+512], b)
		} else {
			copy(p[i:i+512], d.durable[s*512:])
		}
	}
	return nil
}

func (d *memDev) WriteAt(p []byte, sector uint64) error {
	if d.dead() {
		return syscall.EIO
	}
	if (sector+uint64(len(p)/512))*512 > uint64(len(d.durable)) {
		return syscall.EIO
	}
	for i := 0; i < len(p); i += 512 {
		s := sector + uint64(i/512)
		if _, ok := d.pending[s]; !ok {
			d.order = append(d.order, s)
		}
		d.pending[s] = append([]byte(nil), p[i:i+512]...)
		d.writes++
	}
	return nil
}

func (d *memDev) Flush() error {
	if d.dead() {
		return syscall.EIO
	}
	for s, b := range d.pending {
		copy(d.durable[s*512:], b)
	}
	clear(d.pending)
	d.order = d.order[:0]
	return nil
}

func (d *memDev) Sectors() uint64 { return uint64(len(d.durable)) / 512 }

// crash drops the unflushed writes, except for a random subset that reached the medium.
func (d *memDev) crash(rng *rand.Rand) {
	for s, b := range d.pending {
		if rng != nil && rng.Intn(2) == 0 {
			copy(d.durable[s*512:], b)
		}
	}
	clear(d.pending)
	d.order = d.order[:0]
}

func TestConformance(t *testing.T) {
	fstest.Run(t, func(t *testing.T) fs.FS {
		f, err := fat.Mount(newMemDev(image(t)))
		require.NoError(t, err)
		return f
	})
}

func TestMountRejects(t *testing.T) {
	_, err := fat.Mount(newMemDev(make([]byte, 1<<20)))
	assert.ErrorIs(t, err, syscall.EINVAL)
}

func TestENOSPC(t *testing.T) {
	f, err := fat.Mount(newMemDev(image(t)))
	require.NoError(t, err)
	h, err := f.Open("big", fs.O_RDWR|fs.O_CREAT, 0o644)
	require.NoError(t, err)
	_, _, err = h.WriteAt(make([]byte, 40<<20), 0)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	_, _, err = h.WriteAt(make([]byte, 1<<20), 0)
	require.NoError(t, err)
	require.NoError(t, h.Close())
	require.NoError(t, f.Unlink("big"))
	require.NoError(t, f.Sync())
	_, free, _ := f.Statfs()
	clusters, _, _ := f.Statfs()
	assert.Greater(t, free, clusters-10)
}

// TestBootDiskImage: what boot/disk writes, this package reads, and the other way round.
func TestBootDiskImage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, disk.Create(p, disk.MinSize))
	im, err := disk.Open(p, true)
	require.NoError(t, err)
	require.NoError(t, im.WriteFile("CrowdStrike/C-00000291-00000000-00000001.sys", []byte("channel file")))
	require.NoError(t, im.WriteFile("hello.txt", []byte("from boot/disk")))
	require.NoError(t, im.Close())

	// go-diskfs writes a subdirectory's ".." as the root's cluster number where FAT wants 0:
	// boot/disk formats with it but writes with this package, so its images pass fsck.fat.
	fsck(t, p, "boot/disk's image, before this package wrote")

	file, err := os.OpenFile(p, os.O_RDWR, 0)
	require.NoError(t, err)
	defer file.Close()
	f, err := fat.Mount(fat.FileDevice{F: file})
	require.NoError(t, err)
	assert.Equal(t, "channel file", fstest.ReadFile(t, f, "crowdstrike/C-00000291-00000000-00000001.sys"))
	assert.Equal(t, "from boot/disk", fstest.ReadFile(t, f, "hello.txt"))
	es, err := f.ReadDir("/")
	require.NoError(t, err)
	assert.Equal(t, []fs.DirEntry{{Name: "CrowdStrike", Dir: true}, {Name: "hello.txt"}}, es)

	// written here, read by boot/disk (go-diskfs) and by mtools
	require.NoError(t, f.Mkdir("data", 0o755))
	require.NoError(t, f.Mkdir("data/A Long Directory Name", 0o755))
	big := strings.Repeat("0123456789abcdef", 10000)
	fstest.WriteFile(t, f, "data/A Long Directory Name/big file.bin", big)
	fstest.WriteFile(t, f, "data/SHORT.TXT", "short")
	fstest.WriteFile(t, f, "data/lower.txt", "lower")
	require.NoError(t, f.Rename("hello.txt", "data/hello again.txt"))
	require.NoError(t, f.Unlink("CrowdStrike/C-00000291-00000000-00000001.sys"))
	require.NoError(t, f.Sync())

	im, err = disk.Open(p, false)
	require.NoError(t, err)
	got, err := im.ReadFile("data/A Long Directory Name/big file.bin")
	require.NoError(t, err)
	assert.Equal(t, big, string(got))
	got, err = im.ReadFile("data/hello again.txt")
	require.NoError(t, err)
	assert.Equal(t, "from boot/disk", string(got))
	require.NoError(t, im.Close())

	if _, err := exec.LookPath("mdir"); err != nil {
		t.Log("mtools not installed: mdir/mtype checks skipped")
	} else {
		mt := func(args ...string) string {
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=0")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%v: %s", args, out)
			return string(out)
		}
		out := mt("mdir", "-i", p, "::/data")
		assert.Contains(t, out, "A Long Directory Name")
		assert.Contains(t, out, "hello again.txt")
		assert.Contains(t, out, "lower.txt")
		assert.Equal(t, big, mt("mtype", "-i", p, "::/data/A Long Directory Name/big file.bin"))
		assert.Equal(t, "short", mt("mtype", "-i", p, "::/data/SHORT.TXT"))
		assert.Equal(t, "from boot/disk", mt("mtype", "-i", p, "::/data/hello again.txt"))
		out = mt("mdir", "-i", p, "::/CrowdStrike")
		assert.NotContains(t, out, "C-00000291")
	}
	if _, err := exec.LookPath("fsck.fat"); err == nil {
		out, err := exec.Command("fsck.fat", "-n", "-v", p).CombinedOutput()
		assert.NoError(t, err, "fsck.fat: %s", out)
	}
}

// TestCrash: fsynced data survives a crash at any point after the fsync; a file system that
// was not synced still mounts, and is consistent (fsck.fat when installed).
func TestCrash(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := range 20 {
		dev := newMemDev(image(t))
		f, err := fat.Mount(dev)
		require.NoError(t, err)
		require.NoError(t, f.Mkdir("keep", 0o755))
		synced := map[string]string{}
		for i := range 5 {
			name := "keep/synced file " + string(rune('a'+i))
			data := strings.Repeat(string(rune('A'+i)), 1000*(i+1)+round)
			h, err := f.Open(name, fs.O_RDWR|fs.O_CREAT, 0o644)
			require.NoError(t, err)
			_, _, err = h.WriteAt([]byte(data), 0)
			require.NoError(t, err)
			require.NoError(t, h.Sync())
			require.NoError(t, h.Close())
			synced[name] = data
		}
		// then unsynced work: new files, appends elsewhere, removals, renames, a directory
		for i := range 10 {
			fstest.WriteFile(t, f, "scratch"+string(rune('a'+i)), strings.Repeat("s", 3000*i))
		}
		require.NoError(t, f.Mkdir("tmpdir", 0o755))
		require.NoError(t, f.Rename("scratcha", "tmpdir/x"))
		require.NoError(t, f.Unlink("scratchb"))
		dev.crash(rng)
		g, err := fat.Mount(dev)
		require.NoError(t, err, "round %d: remount", round)
		for name, data := range synced {
			assert.Equal(t, data, fstest.ReadFile(t, g, name), "round %d: %s", round, name)
		}
		// the unsynced state is usable
		fstest.WriteFile(t, g, "after", "ok")
		require.NoError(t, g.Sync())
		checkFsck(t, dev)
	}
}

// TestCrashDuringSync: power is lost after each of the device operations a Sync makes in turn
// (its data flush, the FAT writes, the directory writes, the frees, and the flushes between),
// with a random part of what was not flushed reaching the medium. Every time, what was
// fsynced before is intact, the file system mounts, and fsck.fat finds nothing wrong.
func TestCrashDuringSync(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	work := func(f *fat.FS) {
		for i := range 6 {
			fstest.WriteFile(t, f, "new"+string(rune('a'+i)), strings.Repeat("n", 2500*i+1))
		}
		require.NoError(t, f.Mkdir("d", 0o755))
		require.NoError(t, f.Rename("newa", "d/moved"))
		require.NoError(t, f.Unlink("old0"))
		require.NoError(t, f.Truncate("old1", 10))
	}
	setup := func() (*memDev, *fat.FS, map[string]string) {
		dev := newMemDev(image(t))
		f, err := fat.Mount(dev)
		require.NoError(t, err)
		synced := map[string]string{}
		for i := range 3 {
			name := "old" + string(rune('0'+i))
			fstest.WriteFile(t, f, name, strings.Repeat(string(rune('A'+i)), 5000+i))
			synced[name] = strings.Repeat(string(rune('A'+i)), 5000+i)
		}
		require.NoError(t, f.Sync())
		synced["keep"] = "kept"
		fstest.WriteFile(t, f, "keep", "kept")
		require.NoError(t, f.Sync())
		return dev, f, synced
	}
	// How many device operations does the Sync after the work make?
	dev, f, _ := setup()
	work(f)
	before := dev.ops
	require.NoError(t, f.Sync())
	ops := dev.ops - before
	require.Greater(t, ops, 4, "a Sync writes data, FAT, directories and frees, with flushes between")

	for cut := 1; cut <= ops; cut++ {
		dev, f, synced := setup()
		work(f)
		dev.cutAt = dev.ops + cut
		assert.Error(t, f.Sync(), "cut after %d of %d operations", cut, ops)
		dev.cutAt = 0
		dev.crash(rng)
		g, err := fat.Mount(dev)
		require.NoError(t, err, "cut %d: remount", cut)
		delete(synced, "old0") // unlinked, and maybe durably so: either way is right
		delete(synced, "old1") // truncated: old or new length
		for name, data := range synced {
			assert.Equal(t, data, fstest.ReadFile(t, g, name), "cut %d: %s", cut, name)
		}
		if b, err := g.Stat("old1"); assert.NoError(t, err, "cut %d", cut) {
			assert.Contains(t, []int64{10, 5001}, b.Size, "cut %d: old1 has its old or its new length", cut)
		}
		fstest.WriteFile(t, g, "after", "ok")
		require.NoError(t, g.Sync())
		checkFsckAfterCut(t, dev, cut)
	}
}

// checkFsckAfterCut runs fsck.fat on a file system whose Sync was cut: what the ordering
// allows — clusters in use but in no file, a wrong free count, a chain longer than its file —
// is accepted; anything else (a chain shorter than its file, cross-links, bad entries) is not.
func checkFsckAfterCut(t *testing.T, dev *memDev, cut int) {
	t.Helper()
	if _, err := exec.LookPath("fsck.fat"); err != nil {
		return
	}
	p := filepath.Join(t.TempDir(), "crash.img")
	require.NoError(t, os.WriteFile(p, dev.durable, 0o644))
	out, _ := exec.Command("fsck.fat", "-n", p).CombinedOutput()
	sizes := regexp.MustCompile(`File size is (\d+) bytes, cluster chain length is (>? ?)(\d+) bytes`)
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "fsck.fat ") || strings.HasPrefix(line, "/") ||
			strings.HasPrefix(line, "Reclaimed ") || strings.HasPrefix(line, "Free cluster summary wrong") ||
			line == "Auto-correcting." || line == "Leaving filesystem unchanged." ||
			strings.HasPrefix(line, "Truncating file to ") || strings.Contains(line, " files, "):
		case sizes.MatchString(line):
			m := sizes.FindStringSubmatch(line)
			size, _ := strconv.Atoi(m[1])
			chain, _ := strconv.Atoi(m[3])
			assert.LessOrEqual(t, size, chain, "cut %d: a file longer than its cluster chain: %s", cut, line)
		default:
			t.Errorf("cut %d: fsck.fat: %s\n%s", cut, line, out)
		}
	}
}

func checkFsck(t *testing.T, dev *memDev) {
	t.Helper()
	if _, err := exec.LookPath("fsck.fat"); err != nil {
		return
	}
	p := filepath.Join(t.TempDir(), "crash.img")
	require.NoError(t, os.WriteFile(p, dev.durable, 0o644))
	out, err := exec.Command("fsck.fat", "-n", p).CombinedOutput()
	assert.NoError(t, err, "fsck.fat after a crash: %s", out)
}

// fsck checks image with fsck.fat -n (dosfstools), when installed.
func fsck(t *testing.T, image, what string) {
	t.Helper()
	if _, err := exec.LookPath("fsck.fat"); err != nil {
		t.Logf("fsck.fat (dosfstools) not installed: %s not checked", what)
		return
	}
	out, err := exec.Command("fsck.fat", "-n", image).CombinedOutput()
	assert.NoError(t, err, "fsck.fat on %s: %s", what, out)
}

// A directory whose chain in the FAT ends in a free cluster (a corrupt FAT: no crash leaves
// that) is EIO, not a shorter directory whose lost entries would look like deleted files.
func TestDirectoryChainIntoAFreeClusterIsEIO(t *testing.T) {
	dev := newMemDev(image(t))
	v, err := fat.Mount(dev)
	require.NoError(t, err)
	require.NoError(t, v.Mkdir("d", 0o755))
	for i := range 40 {
		h, err := v.Open(fmt.Sprintf("d/file-%02d", i), fs.O_RDWR|fs.O_CREAT, 0o644)
		require.NoError(t, err)
		require.NoError(t, h.Close())
	}
	require.NoError(t, v.Sync())
	require.NoError(t, dev.Flush())
	clusters, _, _ := v.Statfs()
	last := clusters + 1 // the last cluster: free on this nearly empty volume

	// Every link in the FAT (only d's chain has any: the files are empty) now leads to a free
	// cluster.
	corrupt := func(kind fat.ReadKind, p []byte, _ uint64) {
		if kind != fat.ReadFAT {
			return
		}
		n := len(p) / 4
		for i := 2; i < n; i++ {
			if x := binary.LittleEndian.Uint32(p[4*i:]) & 0x0FFFFFFF; x >= 2 && x < 0x0FFFFFF0 {
				binary.LittleEndian.PutUint32(p[4*i:], last)
			}
		}
	}
	v, err = fat.Mount(dev, fat.WithReadHook(corrupt))
	require.NoError(t, err)
	_, err = v.Stat("d/file-39")
	assert.ErrorIs(t, err, syscall.EIO)
	_, err = v.ReadDir("d")
	assert.ErrorIs(t, err, syscall.EIO)

	v, err = fat.Mount(dev)
	require.NoError(t, err)
	_, err = v.Stat("d/file-39")
	assert.NoError(t, err, "the disk itself is intact")
}
