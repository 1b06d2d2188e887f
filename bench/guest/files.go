package main

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/simpleos/simpleos/bench/measure"
	"github.com/simpleos/simpleos/bench/result"
)

// File-system benchmarks through the Linux file API (open, read, write, fsync, stat, unlink),
// the same calls on both systems: on SimpleOS the core's VFS forwards each to the ring-3
// file-system server; on Linux they are Linux's own. They run in every directory of -files
// (on SimpleOS /data, the FAT32 disk, and /tmp, memory; on Linux a vfat mount of the same
// image and a tmpfs), and each result is named files/LABEL/KIND, LABEL being the directory's
// base name ("data", "tmp"). Without -files they are skipped.
//
// Small files, 4 KiB each, in DIR/fbench (each an untimed warm-up batch and timed batches of
// n files; the figure is per file):
//
//   - create-4k: open(O_CREAT|O_TRUNC|O_WRONLY) a new file, write 4 KiB, close;
//   - read-4k: open, read the 4 KiB, close (the files create-4k made);
//   - stat: stat each file;
//   - unlink: remove each file (after it, the directory is empty again).
//
// Sequential throughput, one file of -files-mib MiB (default 16, 32 without -quick) per
// batch, in 64 KiB and in 1 MiB calls (a call asks for the whole chunk and loops while the
// system answers short, as SimpleOS does above 64 KiB); the figure is per chunk:
//
//   - seq-write-64k, seq-write-1m: open(O_CREAT|O_TRUNC|O_WRONLY), write the file, fsync,
//     close: fsync and the truncation of the previous batch's file are timed;
//   - seq-read-64k, seq-read-1m: open, read the file to its end, close. Before each batch,
//     untimed, posix_fadvise(POSIX_FADV_DONTNEED) drops the file from Linux's page cache, so
//     the data comes from the device (SimpleOS has no data cache; the call does nothing
//     there). The file is removed after the last batch.
//
// The small-file benchmarks are not made cold: Linux answers them from its page and dentry
// caches (its writes reach the disk later), SimpleOS's server writes file data to the device
// before it answers and reads it from there.

const (
	smallSize = 4 << 10
	smallDir  = "fbench"
	// posixFadvDontneed is POSIX_FADV_DONTNEED on Linux.
	posixFadvDontneed = 4
)

// fileKinds are the files benchmarks of the table, in the order they run in each directory.
var fileKinds = []string{"create-4k", "read-4k", "stat", "unlink", "seq-write-64k", "seq-read-64k", "seq-write-1m", "seq-read-1m"}

// filesState is the directories of this run (-files, -files-mib) and what the benchmarks
// left in each.
var filesState struct {
	dirs []*fileDir
	mib  int // the sequential file's size; 0: the default
}

// fileDir is one directory of -files.
type fileDir struct {
	path  string
	label string
	small int // small files that exist, named f00000 ... in order
}

var labelRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// parseFileDirs reads -files: comma-separated absolute directories with distinct base names.
func parseFileDirs(s string) ([]*fileDir, error) {
	var out []*fileDir
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("-files: %q is not an absolute path", p)
		}
		p = filepath.Clean(p)
		label := strings.ToLower(filepath.Base(p))
		if !labelRE.MatchString(label) {
			return nil, fmt.Errorf("-files: %q: its base name must be [a-z0-9_-]+ (it names the results)", p)
		}
		if seen[label] {
			return nil, fmt.Errorf("-files: two directories named %q", label)
		}
		seen[label] = true
		out = append(out, &fileDir{path: p, label: label})
	}
	return out, nil
}

// fileBenchName is the result name of benchmark files/KIND in d.
func fileBenchName(d *fileDir, table string) string {
	return "files/" + d.label + "/" + strings.TrimPrefix(table, "files/")
}

// filesSizes are the batches and operations per batch of the files benchmarks.
func filesSizes(name string, quick bool) (batches, n int) {
	kind := name[strings.LastIndex(name, "/")+1:]
	if chunk, ok := seqChunkOf(kind); ok {
		batches = 4
		if quick {
			batches = 2
		}
		return batches, seqMiB(quick) << 20 / chunk
	}
	if quick {
		return 10, 20 // 220 files
	}
	return 20, 50 // 1,050 files
}

// seqMiB is the size of the sequential file.
func seqMiB(quick bool) int {
	switch {
	case filesState.mib > 0:
		return filesState.mib
	case quick:
		return 16
	}
	return 32
}

// seqChunkOf is the call size of a sequential benchmark kind.
func seqChunkOf(kind string) (int, bool) {
	switch {
	case strings.HasSuffix(kind, "-64k") && strings.HasPrefix(kind, "seq-"):
		return 64 << 10, true
	case strings.HasSuffix(kind, "-1m") && strings.HasPrefix(kind, "seq-"):
		return 1 << 20, true
	}
	return 0, false
}

// fileBench runs one files benchmark in directory d.
func fileBench(d *fileDir, table string, count, n int) (result.Result, error) {
	if err := os.MkdirAll(filepath.Join(d.path, smallDir), 0o755); err != nil {
		return result.Result{}, err
	}
	name := fileBenchName(d, table)
	kind := strings.TrimPrefix(table, "files/")
	switch kind {
	case "create-4k":
		return smallCreate(d, name, count, n)
	case "read-4k":
		return smallRead(d, name, count, n)
	case "stat":
		return smallStat(d, name, count, n)
	case "unlink":
		return smallUnlink(d, name, count, n)
	}
	chunk, ok := seqChunkOf(kind)
	if !ok {
		return result.Result{}, fmt.Errorf("unknown files benchmark %q", kind)
	}
	if strings.HasPrefix(kind, "seq-write-") {
		return seqWrite(d, name, chunk, count, n)
	}
	return seqRead(d, name, chunk, count, n)
}

func (d *fileDir) smallPath(i int) string {
	return filepath.Join(d.path, smallDir, fmt.Sprintf("f%05d", i))
}

var smallData = func() []byte {
	b := make([]byte, smallSize)
	rand.New(rand.NewSource(3)).Read(b)
	return b
}()

// writeFile creates (or truncates) path, writes data and closes it.
func writeFile(path string, data []byte) error {
	fd, err := syscall.Open(path, syscall.O_CREAT|syscall.O_TRUNC|syscall.O_WRONLY|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := writeAll(fd, data); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syscall.Close(fd); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// writeAll writes p with as many write calls as the system needs.
func writeAll(fd int, p []byte) error {
	for len(p) > 0 {
		n, err := syscall.Write(fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return syscall.EIO
		}
		p = p[n:]
	}
	return nil
}

// readFull reads len(p) bytes or up to the end; it returns how many it read.
func readFull(fd int, p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := syscall.Read(fd, p[done:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		if n == 0 {
			break
		}
		done += n
	}
	return done, nil
}

// smallFiles makes sure files 0 .. want-1 exist (untimed: a benchmark run without
// create-4k).
func smallFiles(d *fileDir, want int) error {
	for ; d.small < want; d.small++ {
		if err := writeFile(d.smallPath(d.small), smallData); err != nil {
			return err
		}
	}
	return nil
}

func smallCreate(d *fileDir, name string, count, n int) (result.Result, error) {
	return measure.Batches(name, count, n, func(n int) error {
		for range n {
			if err := writeFile(d.smallPath(d.small), smallData); err != nil {
				return err
			}
			d.small++
		}
		return nil
	})
}

func smallRead(d *fileDir, name string, count, n int) (result.Result, error) {
	total := (count + 1) * n
	if err := smallFiles(d, total); err != nil {
		return result.Result{}, err
	}
	buf := make([]byte, smallSize)
	next := 0
	return measure.Batches(name, count, n, func(n int) error {
		for range n {
			p := d.smallPath(next % d.small)
			next++
			fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("open %s: %w", p, err)
			}
			got, err := readFull(fd, buf)
			syscall.Close(fd)
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			if got != smallSize {
				return fmt.Errorf("read %s: %d bytes, want %d", p, got, smallSize)
			}
		}
		return nil
	})
}

func smallStat(d *fileDir, name string, count, n int) (result.Result, error) {
	if err := smallFiles(d, (count+1)*n); err != nil {
		return result.Result{}, err
	}
	next := 0
	var st syscall.Stat_t
	return measure.Batches(name, count, n, func(n int) error {
		for range n {
			p := d.smallPath(next % d.small)
			next++
			if err := syscall.Stat(p, &st); err != nil {
				return fmt.Errorf("stat %s: %w", p, err)
			}
			if st.Size != smallSize {
				return fmt.Errorf("stat %s: size %d, want %d", p, st.Size, smallSize)
			}
		}
		return nil
	})
}

// smallUnlink removes the files from the first: (count+1)*n of them, all of them when
// create-4k ran with the same sizes.
func smallUnlink(d *fileDir, name string, count, n int) (result.Result, error) {
	if err := smallFiles(d, (count+1)*n); err != nil {
		return result.Result{}, err
	}
	next := 0
	r, err := measure.Batches(name, count, n, func(n int) error {
		for range n {
			p := d.smallPath(next)
			next++
			if err := syscall.Unlink(p); err != nil {
				return fmt.Errorf("unlink %s: %w", p, err)
			}
		}
		return nil
	})
	// The rest (if create-4k made more) goes too, untimed: the directory is empty again.
	for i := next; i < d.small; i++ {
		if err := syscall.Unlink(d.smallPath(i)); err != nil && !errors.Is(err, syscall.ENOENT) {
			return r, fmt.Errorf("unlink %s: %w", d.smallPath(i), err)
		}
	}
	d.small = 0
	return r, err
}

// seqPath is the sequential file of a chunk size.
func (d *fileDir) seqPath(chunk int) string {
	return filepath.Join(d.path, smallDir, fmt.Sprintf("seq-%dk", chunk>>10))
}

var seqBuf = func() []byte {
	b := make([]byte, 1<<20)
	rand.New(rand.NewSource(4)).Read(b)
	return b
}()

// writeSeq writes the sequential file: n chunks, fsync, close.
func writeSeq(path string, chunk, n int) error {
	fd, err := syscall.Open(path, syscall.O_CREAT|syscall.O_TRUNC|syscall.O_WRONLY|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	for range n {
		if err := writeAll(fd, seqBuf[:chunk]); err != nil {
			syscall.Close(fd)
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := syscall.Fsync(fd); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return syscall.Close(fd)
}

func seqWrite(d *fileDir, name string, chunk, count, n int) (result.Result, error) {
	path := d.seqPath(chunk)
	return measure.Batches(name, count, n, func(n int) error { return writeSeq(path, chunk, n) })
}

func seqRead(d *fileDir, name string, chunk, count, n int) (result.Result, error) {
	path := d.seqPath(chunk)
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil || st.Size != int64(chunk)*int64(n) {
		if err := writeSeq(path, chunk, n); err != nil { // seq-write did not run: untimed
			return result.Result{}, err
		}
	}
	defer syscall.Unlink(path)
	buf := make([]byte, chunk)
	c := measure.NewCollector(name, count)
	for i := -1; i < count; i++ { // batch -1 warms up
		if err := dropCache(path); err != nil {
			return result.Result{}, err
		}
		w := measure.Start()
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return result.Result{}, fmt.Errorf("open %s: %w", path, err)
		}
		for j := range n {
			got, err := readFull(fd, buf)
			if err == nil && got != chunk {
				err = fmt.Errorf("%d bytes at chunk %d, want %d", got, j, chunk)
			}
			if err != nil {
				syscall.Close(fd)
				return result.Result{}, fmt.Errorf("read %s: %w", path, err)
			}
		}
		syscall.Close(fd)
		ns, cycles := w.Stop()
		if i >= 0 {
			c.Add(n, ns, cycles)
		}
	}
	return c.Result(), nil
}

// dropCache asks the kernel to forget the file's cached pages (Linux: they are clean after
// the fsync, so they go; SimpleOS ignores the advice and has no data cache).
func dropCache(path string) error {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer syscall.Close(fd)
	_, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, uintptr(fd), 0, 0, posixFadvDontneed, 0, 0)
	if e != 0 {
		return fmt.Errorf("fadvise %s: %w", path, e)
	}
	return nil
}

// mountSpec is one -mount entry: TYPE:SOURCE:TARGET.
type mountSpec struct{ fstype, source, target string }

func parseMounts(s string) ([]mountSpec, error) {
	var out []mountSpec
	for _, m := range strings.Split(s, ",") {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		f := strings.Split(m, ":")
		if len(f) != 3 || f[0] == "" || f[1] == "" || !filepath.IsAbs(f[2]) {
			return nil, fmt.Errorf("-mount: %q is not TYPE:SOURCE:/TARGET", m)
		}
		out = append(out, mountSpec{f[0], f[1], f[2]})
	}
	return out, nil
}

// mountAll mounts what -mount asks for: as Linux's init, a block device's modules are loaded
// first (linuxDevices, which loads every module the initramfs carries: virtio, the FAT and NLS
// modules). A failure is a skip of the files benchmarks, as a missing disk is of the disk ones.
func mountAll(ms []mountSpec) error {
	for _, m := range ms {
		if strings.HasPrefix(m.source, "/dev/") && os.Getpid() == 1 {
			if err := linuxDevices(m.source); err != nil {
				return err
			}
		}
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return err
		}
		if err := syscall.Mount(m.source, m.target, m.fstype, 0, ""); err != nil {
			return fmt.Errorf("mount %s (%s) on %s: %v", m.source, m.fstype, m.target, err)
		}
		fmt.Printf("bench note files: mounted %s (%s) on %s\n", m.source, m.fstype, m.target)
	}
	return nil
}
