// Package disk reads and writes SimpleOS's disk image on the host: the raw file QEMU attaches
// as the virtio-blk disk (boot.Options.Disk). The image holds one FAT32 file system on the
// whole image, starting at sector 0, with no partition table (a "superfloppy"), so a driver
// finds the boot sector at LBA 0. `simpleos disk create|ls|cat|put|get` are this package's
// functions; github.com/diskfs/go-diskfs formats the image, fs/fat (SimpleOS's own FAT32 code)
// reads and writes it.
package disk

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/filesystem/fat32"

	sfs "github.com/simpleos/simpleos/fs"
	"github.com/simpleos/simpleos/fs/fat"
)

// Sizes an image may have.
const (
	DefaultSize = 64 << 20 // what `simpleos disk create` and `simpleos run`'s default disk get
	// MinSize is the smallest image that holds a FAT32 file system with 512-byte clusters:
	// FAT32 needs at least 65525 clusters (fewer would make it FAT16 to every reader).
	MinSize = 33 << 20
	MaxSize = 2 << 40 // FAT32's 2 TiB with 512-byte sectors
)

// sectorSize is the image's logical sector size (virtio-blk's, too).
const sectorSize = 512

// Label is the volume label Create writes.
const Label = "SIMPLEOS"

// Create makes a new image file of size bytes (sparse) holding an empty FAT32 file system. It
// refuses to overwrite an existing file.
func Create(image string, size int64) error {
	switch {
	case size < MinSize:
		return fmt.Errorf("disk: %s: size %s is below the %s a FAT32 file system needs", image, FormatSize(size), FormatSize(MinSize))
	case size > MaxSize:
		return fmt.Errorf("disk: %s: size %s is above FAT32's %s", image, FormatSize(size), FormatSize(MaxSize))
	case size%sectorSize != 0:
		return fmt.Errorf("disk: %s: size %d is not a whole number of %d-byte sectors", image, size, sectorSize)
	}
	if _, err := os.Lstat(image); err == nil {
		return fmt.Errorf("disk: %s already exists (remove it first to make a new one)", image)
	}
	d, err := diskfs.Create(image, size, diskfs.SectorSize512)
	if err != nil {
		return fmt.Errorf("disk: creating %s: %w", image, err)
	}
	fsys, err := fat32.Create(d.Backend, fat32Size(size), 0, sectorSize, Label, false)
	if err == nil {
		err = fsys.Close()
	}
	if err == nil {
		err = checkFAT32(d.Backend)
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(image)
		return fmt.Errorf("disk: making a FAT32 file system on %s: %w", image, err)
	}
	return nil
}

// Image is an open disk image. Files are read and written by SimpleOS's own FAT32 code
// (fs/fat), which keeps the file system consistent for fsck.fat: go-diskfs v1.9.4 writes a
// subdirectory's ".." entry wrongly, never frees a deleted file's clusters and has no
// truncate, so it only formats (Create).
type Image struct {
	path string
	file *os.File
	fat  *fat.FS
	rw   bool
}

// Open opens an image made by Create (or any whole-image FAT32 file system with 512-byte
// sectors) for reading, and for writing as well when writable is set.
func Open(image string, writable bool) (*Image, error) {
	st, err := os.Stat(image)
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("disk: %s is not a regular file", image)
	}
	mode := os.O_RDONLY
	if writable {
		mode = os.O_RDWR
	}
	f, err := os.OpenFile(image, mode, 0)
	if err != nil {
		return nil, fmt.Errorf("disk: opening %s: %w", image, err)
	}
	fsys, err := fat.Mount(fat.FileDevice{F: f})
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("disk: %s is not a SimpleOS disk image (FAT32 on the whole image; make one with `simpleos disk create`): %v", image, err)
	}
	return &Image{path: image, file: f, fat: fsys, rw: writable}, nil
}

// Close makes what was written durable (the image file fsynced) and closes it.
func (im *Image) Close() error {
	var err error
	if im.rw {
		err = im.fat.Sync()
	}
	if cerr := im.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("disk: %s: %w", im.path, err)
	}
	return nil
}

// Entry is one file or directory.
type Entry struct {
	Name    string
	Dir     bool
	Size    int64
	ModTime time.Time
}

// List returns the entries of directory dir sorted by name, or the one entry for dir when it
// names a file. Paths are slash-separated; a leading "/" is optional ("" and "/" are the root).
func (im *Image) List(dir string) ([]Entry, error) {
	p := clean(dir)
	info, err := im.stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []Entry{entryOf(info)}, nil
	}
	des, err := im.fat.ReadDir(p)
	if err != nil {
		return nil, im.errorf(p, err)
	}
	entries := make([]Entry, 0, len(des))
	for _, de := range des {
		info, err := im.fat.Stat(path.Join(p, de.Name))
		if err != nil {
			return nil, im.errorf(path.Join(p, de.Name), err)
		}
		entries = append(entries, entryOf(info))
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return entries, nil
}

// ReadFile returns the contents of file name.
func (im *Image) ReadFile(name string) ([]byte, error) {
	p := clean(name)
	info, err := im.stat(p)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, fmt.Errorf("disk: %s: /%s is a directory", im.path, strings.TrimPrefix(p, "."))
	}
	f, err := im.fat.Open(p, sfs.O_RDONLY, 0)
	if err != nil {
		return nil, im.errorf(p, err)
	}
	defer f.Close()
	data := make([]byte, info.Size)
	for off := 0; off < len(data); {
		n, err := f.ReadAt(data[off:], int64(off))
		if err != nil {
			return nil, im.errorf(p, err)
		}
		if n == 0 {
			return nil, im.errorf(p, errors.New("file shorter than its directory entry says"))
		}
		off += n
	}
	return data, nil
}

// WriteFile writes data to file name, replacing what it held and creating it and its parent
// directories as needed.
func (im *Image) WriteFile(name string, data []byte) error {
	p := clean(name)
	if p == "." {
		return fmt.Errorf("disk: %s: no file name given", im.path)
	}
	dir := "."
	for _, part := range strings.Split(path.Dir(p), "/") {
		if part == "." {
			break
		}
		dir = path.Join(dir, part)
		info, err := im.fat.Stat(dir)
		switch {
		case err == nil && !info.IsDir():
			return fmt.Errorf("disk: %s: /%s is a file, not a directory", im.path, dir)
		case err == syscall.ENOENT:
			if err := im.fat.Mkdir(dir, 0o755); err != nil {
				return im.errorf(dir, err)
			}
		case err != nil:
			return im.errorf(dir, err)
		}
	}
	if info, err := im.fat.Stat(p); err == nil && info.IsDir() {
		return fmt.Errorf("disk: %s: /%s is a directory", im.path, p)
	}
	f, err := im.fat.Open(p, sfs.O_CREAT|sfs.O_WRONLY|sfs.O_TRUNC, 0o644)
	if err != nil {
		return im.errorf(p, err)
	}
	if _, _, err := f.WriteAt(data, 0); err != nil {
		_ = f.Close()
		return im.errorf(p, err)
	}
	if err := f.Close(); err != nil {
		return im.errorf(p, err)
	}
	return nil
}

// Remove deletes the files matching pattern (path.Match syntax in its last element, e.g.
// /CrowdStrike/C-00000291*.sys, as the operators of 19 July 2024 were told to delete) and
// returns the paths removed; none matching is an error. Directories are not removed.
func (im *Image) Remove(pattern string) ([]string, error) {
	p := clean(pattern)
	dir, base := path.Dir(p), path.Base(p)
	if _, err := path.Match(base, ""); err != nil {
		return nil, fmt.Errorf("disk: %s: bad pattern %q: %w", im.path, pattern, err)
	}
	ents, err := im.fat.ReadDir(dir)
	if err != nil {
		return nil, im.errorf(dir, err)
	}
	var removed []string
	for _, e := range ents {
		if ok, _ := path.Match(strings.ToLower(base), strings.ToLower(e.Name)); !ok || e.Dir {
			continue // FAT names fold case, and so does the match
		}
		q := path.Join(dir, e.Name)
		if err := im.fat.Unlink(q); err != nil {
			return removed, im.errorf(q, err)
		}
		removed = append(removed, "/"+strings.TrimPrefix(q, "./"))
	}
	if len(removed) == 0 {
		return nil, fmt.Errorf("disk: %s: nothing matches /%s", im.path, strings.TrimPrefix(p, "./"))
	}
	return removed, nil
}

// stat is Stat, with a clear message for a missing path.
func (im *Image) stat(p string) (sfs.Stat, error) {
	info, err := im.fat.Stat(p)
	if err == syscall.ENOENT {
		return sfs.Stat{}, fmt.Errorf("disk: %s: /%s: no such file or directory", im.path, p)
	}
	if err != nil {
		return sfs.Stat{}, im.errorf(p, err)
	}
	return info, nil
}

func (im *Image) errorf(p string, err error) error {
	return fmt.Errorf("disk: %s: /%s: %w", im.path, strings.TrimPrefix(p, "."), err)
}

// clean turns a user's path into a file-system path: "a/b", or "." for the root.
func clean(p string) string {
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return "."
	}
	return c
}

func entryOf(info sfs.Stat) Entry {
	e := Entry{Name: info.Name, Dir: info.IsDir(), ModTime: info.ModTime}
	if !e.Dir {
		e.Size = info.Size
	}
	return e
}

// ParseSize reads a size such as "64M", "1G", "512K" or "67108864" (bytes). The suffixes are
// binary: K = 1024.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I") // 64MiB, 64MB, 64M
	shift := 0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			shift = 10
		case 'M':
			shift = 20
		case 'G':
			shift = 30
		case 'T':
			shift = 40
		}
		if shift != 0 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 || v > (1<<62)>>shift {
		return 0, fmt.Errorf("disk: bad size %q: want a positive number with an optional K, M, G or T suffix", s)
	}
	return v << shift, nil
}

// FormatSize writes n bytes the way ParseSize reads it when it is a whole number of KiB, MiB,
// GiB or TiB.
func FormatSize(n int64) string {
	for _, u := range []struct {
		shift  int
		suffix string
	}{{40, "T"}, {30, "G"}, {20, "M"}, {10, "K"}} {
		if n > 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
