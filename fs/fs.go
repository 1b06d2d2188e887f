// Package fs is the interface every SimpleOS file system implements (fs/fat on a disk, fs/memfs
// in memory), so that a file-system server can mount several of them under paths. Paths are
// slash-separated and relative to the file system's root ("" and "/" and "." are the root; a
// leading "/" is ignored; ".." never leaves the root). Every error is a syscall.Errno.
package fs

import (
	iofs "io/fs"
	"path"
	"strings"
	"syscall"
	"time"
)

// Open flags: the Linux values (os.O_* on Linux), so a server passes a task's flags through.
const (
	O_RDONLY    = syscall.O_RDONLY
	O_WRONLY    = syscall.O_WRONLY
	O_RDWR      = syscall.O_RDWR
	O_ACCMODE   = syscall.O_ACCMODE
	O_CREAT     = syscall.O_CREAT
	O_EXCL      = syscall.O_EXCL
	O_TRUNC     = syscall.O_TRUNC
	O_APPEND    = syscall.O_APPEND
	O_DIRECTORY = syscall.O_DIRECTORY
)

// NameMax is the longest name of one path component, in bytes (Linux's NAME_MAX).
const NameMax = 255

// Stat describes a file or directory.
type Stat struct {
	Name    string        // the last path component ("/" for the root)
	Size    int64         // bytes (0 for a directory)
	Mode    iofs.FileMode // type bits (iofs.ModeDir) and permissions
	ModTime time.Time
}

// IsDir reports whether the Stat describes a directory.
func (s Stat) IsDir() bool { return s.Mode.IsDir() }

// DirEntry is one entry of a directory listing.
type DirEntry struct {
	Name string
	Dir  bool
}

// FS is a file system.
type FS interface {
	// Open opens name with the Linux flags flag; perm is the mode of a file O_CREAT makes
	// (file systems without permissions ignore it). O_CREAT|O_EXCL fails with EEXIST when
	// name exists; O_TRUNC empties a regular file opened for writing; O_DIRECTORY fails with
	// ENOTDIR unless name is a directory; a directory opened for writing is EISDIR.
	Open(name string, flag int, perm iofs.FileMode) (File, error)
	Stat(name string) (Stat, error)
	// ReadDir lists directory name sorted by name, without "." and "..".
	ReadDir(name string) ([]DirEntry, error)
	Mkdir(name string, perm iofs.FileMode) error
	Unlink(name string) error // a file; EISDIR for a directory
	Rmdir(name string) error  // an empty directory; ENOTDIR for a file, ENOTEMPTY
	// Rename moves oldname to newname, replacing newname when it is a file (or an empty
	// directory and oldname is a directory), as rename(2).
	Rename(oldname, newname string) error
	Truncate(name string, size int64) error
	// Sync makes everything written so far durable on the device.
	Sync() error
}

// File is an open file or directory. Handles are safe for concurrent use.
type File interface {
	// ReadAt reads at byte offset off; it returns 0, nil at or past the end of the file
	// (never io.EOF, so a server answers read(2) directly).
	ReadAt(p []byte, off int64) (int, error)
	// WriteAt writes at off, or at the end of the file when the file was opened O_APPEND
	// (as Linux's pwrite does); it returns the number of bytes written and the offset after
	// them.
	WriteAt(p []byte, off int64) (n int, end int64, err error)
	Stat() (Stat, error)
	Truncate(size int64) error
	// Sync makes the file's data and metadata durable (fsync(2)).
	Sync() error
	// ReadDir lists the directory the handle is open on (ENOTDIR for a file).
	ReadDir() ([]DirEntry, error)
	Close() error
}

// Split cleans name and returns its components (none for the root). A component longer than
// NameMax is ENAMETOOLONG; a NUL byte is EINVAL.
func Split(name string) ([]string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return nil, syscall.EINVAL
	}
	c := strings.TrimPrefix(path.Clean("/"+name), "/")
	if c == "" {
		return nil, nil
	}
	parts := strings.Split(c, "/")
	for _, p := range parts {
		if len(p) > NameMax {
			return nil, syscall.ENAMETOOLONG
		}
	}
	return parts, nil
}

// AccessMode returns the O_ACCMODE part of flag.
func AccessMode(flag int) int { return flag & O_ACCMODE }

// Writable reports whether flag opens for writing.
func Writable(flag int) bool { m := AccessMode(flag); return m == O_WRONLY || m == O_RDWR }

// Readable reports whether flag opens for reading.
func Readable(flag int) bool { m := AccessMode(flag); return m == O_RDONLY || m == O_RDWR }
