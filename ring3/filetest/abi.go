package main

// The abi mode: every call of the file ABI, through os and syscall as Go programs make them,
// with the errno each failure must give.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"

	"github.com/simpleos/simpleos/abi"
)

type checker struct {
	dir       string
	n, failed int
}

func (c *checker) ok(cond bool, format string, a ...any) {
	c.n++
	if !cond {
		c.failed++
		fmt.Printf("filetest: FAIL "+format+"\n", a...)
	}
}

// errno checks that err is the system error want.
func (c *checker) errno(err error, want syscall.Errno, what string) {
	var got syscall.Errno
	if !errors.As(err, &got) {
		c.ok(false, "%s: %v, want %v", what, err, want)
		return
	}
	c.ok(got == want, "%s: %v, want %v", what, got, want)
}

func (c *checker) nil(err error, what string) bool {
	c.ok(err == nil, "%s: %v", what, err)
	return err == nil
}

func (c *checker) p(name string) string { return filepath.Join(c.dir, name) }

func (c *checker) run() {
	base := c.p("abi")
	os.RemoveAll(base)
	if !c.nil(os.Mkdir(base, 0o755), "mkdir "+base) {
		return
	}
	c.dir = base
	c.openFlags()
	c.readWrite()
	c.positioned()
	c.directories()
	c.renames()
	c.descriptors()
	c.workingDirectory()
	c.stats()
	c.threads()
	c.nil(os.RemoveAll(base), "remove all of "+base)
	_, err := os.Stat(base)
	c.errno(err, syscall.ENOENT, "stat after remove all")
}

func (c *checker) openFlags() {
	f := c.p("flags")
	_, err := os.Open(f)
	c.errno(err, syscall.ENOENT, "open a missing file")
	fd, err := syscall.Open(f, syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY|syscall.O_CLOEXEC, 0o644)
	c.nil(err, "O_CREAT|O_EXCL")
	syscall.Write(fd, []byte("hello"))
	syscall.Close(fd)
	_, err = syscall.Open(f, syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY, 0o644)
	c.errno(err, syscall.EEXIST, "O_EXCL on an existing file")
	_, err = syscall.Open(f, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	c.errno(err, syscall.ENOTDIR, "O_DIRECTORY on a file")
	_, err = syscall.Open(c.dir, syscall.O_WRONLY, 0)
	c.errno(err, syscall.EISDIR, "a directory opened for writing")
	_, err = syscall.Open(c.p("flags/x"), syscall.O_RDONLY, 0)
	c.errno(err, syscall.ENOTDIR, "a path through a file")
	fd, err = syscall.Open(f, syscall.O_WRONLY|syscall.O_APPEND, 0)
	c.nil(err, "O_APPEND")
	syscall.Write(fd, []byte(" world"))
	syscall.Close(fd)
	b, _ := os.ReadFile(f)
	c.ok(string(b) == "hello world", "O_APPEND wrote %q", b)
	fd, err = syscall.Open(f, syscall.O_RDWR|syscall.O_TRUNC, 0)
	c.nil(err, "O_TRUNC")
	var st syscall.Stat_t
	c.nil(syscall.Fstat(fd, &st), "fstat")
	c.ok(st.Size == 0 && st.Mode&syscall.S_IFMT == syscall.S_IFREG, "after O_TRUNC: size %d mode %o", st.Size, st.Mode)
	syscall.Close(fd)
	_, err = syscall.Open("", syscall.O_RDONLY, 0)
	c.errno(err, syscall.ENOENT, "an empty path")
	long := "/" + string(bytes.Repeat([]byte("a"), 300))
	_, err = syscall.Open(long, syscall.O_RDONLY, 0)
	c.errno(err, syscall.ENAMETOOLONG, "a 300-byte name")
	_, err = syscall.Open(string(bytes.Repeat([]byte("/ab"), 1500)), syscall.O_RDONLY, 0)
	c.errno(err, syscall.ENAMETOOLONG, "a 4500-byte path")
	r1, _, e := syscall.Syscall(syscall.SYS_OPENAT, uintptr(^uint(99)), 0x10, 0) // a bad pointer
	c.ok(e == syscall.EFAULT, "openat with a bad path pointer: %d %v", int(r1), e)
	_, err = os.Open(c.p("../../../../../../nope"))
	c.ok(err != nil, "dot-dot past the root")
}

func (c *checker) readWrite() {
	f, err := os.Create(c.p("rw"))
	if !c.nil(err, "create rw") {
		return
	}
	big := make([]byte, 300_000) // more than one request's 64 KiB: short writes looped by os
	for i := range big {
		big[i] = byte(i * 7)
	}
	n, err := f.Write(big)
	c.ok(err == nil && n == len(big), "write 300000: %d %v", n, err)
	off, err := f.Seek(0, io.SeekCurrent)
	c.ok(off == int64(len(big)), "offset after write: %d %v", off, err)
	off, err = f.Seek(-10, io.SeekEnd)
	c.ok(off == int64(len(big))-10, "SEEK_END: %d %v", off, err)
	_, err = f.Seek(-1, io.SeekStart)
	c.errno(err, syscall.EINVAL, "a negative offset")
	f.Seek(0, io.SeekStart)
	back, err := io.ReadAll(f)
	c.ok(err == nil && bytes.Equal(back, big), "read back: %d bytes, %v", len(back), err)
	n, err = f.Read(make([]byte, 10))
	c.ok(n == 0 && err == io.EOF, "read at the end: %d %v", n, err)
	c.nil(f.Sync(), "fsync")
	c.nil(syscall.Fdatasync(int(f.Fd())), "fdatasync")
	c.nil(f.Truncate(1000), "ftruncate")
	st, _ := f.Stat()
	c.ok(st.Size() == 1000, "size after ftruncate: %d", st.Size())
	c.nil(f.Truncate(5000), "ftruncate to grow")
	b := make([]byte, 10)
	n, _ = f.ReadAt(b, 4000)
	c.ok(n == 10 && bytes.Equal(b, make([]byte, 10)), "a grown file reads zeros: %v", b)
	f.Close()
	_, err = f.Write([]byte("x"))
	c.ok(err != nil, "write after close")
	_, err = syscall.Write(1000, []byte("x"))
	c.errno(err, syscall.EBADF, "write to a descriptor never opened")
	ro, _ := os.Open(c.p("rw"))
	_, err = ro.Write([]byte("x"))
	c.errno(err, syscall.EBADF, "write to a read-only descriptor")
	c.errno(syscall.Ftruncate(int(ro.Fd()), 0), syscall.EINVAL, "ftruncate of a read-only descriptor")
	_, err = syscall.Read(int(ro.Fd()), nil)
	c.nil(err, "read of 0 bytes")
	_, _, e := syscall.Syscall(syscall.SYS_READ, ro.Fd(), uintptr(^uint(0)-4095), 100)
	c.ok(e == syscall.EFAULT, "read into a kernel address: %v", e)
	// readv and writev: a short transfer of the first buffer, which os loops over.
	iov := [2]syscall.Iovec{{Base: &b[0], Len: 5}, {Base: &b[5], Len: 5}}
	_, _, e = syscall.Syscall(syscall.SYS_READV, ro.Fd(), uintptr(unsafePointer(&iov[0])), 2)
	c.ok(e == 0, "readv: %v", e)
	ro.Close()
}

func (c *checker) positioned() {
	f, err := os.OpenFile(c.p("pos"), os.O_RDWR|os.O_CREATE, 0o644)
	if !c.nil(err, "create pos") {
		return
	}
	defer f.Close()
	n, err := f.WriteAt([]byte("abcdef"), 10)
	c.ok(n == 6 && err == nil, "pwrite64: %d %v", n, err)
	off, _ := f.Seek(0, io.SeekCurrent)
	c.ok(off == 0, "pwrite64 leaves the offset: %d", off)
	b := make([]byte, 4)
	n, err = f.ReadAt(b, 12)
	c.ok(n == 4 && string(b) == "cdef", "pread64: %q %v", b[:n], err)
	_, err = f.ReadAt(b, -1)
	c.ok(err != nil, "pread64 at a negative offset")
	r, w, _ := os.Pipe()
	_, err = r.Seek(0, io.SeekStart)
	c.errno(err, syscall.ESPIPE, "lseek on a pipe")
	_, err = syscall.Pread(int(r.Fd()), b, 0)
	c.errno(err, syscall.ESPIPE, "pread64 on a pipe")
	r.Close()
	w.Close()
}

func (c *checker) directories() {
	d := c.p("dir")
	c.nil(os.Mkdir(d, 0o755), "mkdir")
	c.errno(syscall.Mkdir(d, 0o755), syscall.EEXIST, "mkdir of an existing directory")
	c.errno(syscall.Mkdir(c.p("missing/sub"), 0o755), syscall.ENOENT, "mkdir under a missing directory")
	names := []string{"b", "a", "a-long-file-name-with-mixed-Case.txt", "c"}
	for _, n := range names {
		os.WriteFile(filepath.Join(d, n), []byte(n), 0o644)
	}
	os.Mkdir(filepath.Join(d, "sub"), 0o755)
	ents, err := os.ReadDir(d)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	want := append(slices.Clone(names), "sub")
	slices.Sort(want)
	slices.Sort(got)
	c.ok(err == nil && slices.Equal(got, want), "readdir: %v %v, want %v", got, err, want)
	for _, e := range ents {
		if e.Name() == "sub" {
			c.ok(e.IsDir(), "sub is a directory")
		}
	}
	c.errno(syscall.Rmdir(d), syscall.ENOTEMPTY, "rmdir of a full directory")
	c.errno(syscall.Unlink(filepath.Join(d, "sub")), syscall.EISDIR, "unlink of a directory")
	c.errno(syscall.Rmdir(filepath.Join(d, "a")), syscall.ENOTDIR, "rmdir of a file")
	c.errno(syscall.Unlink(filepath.Join(d, "zz")), syscall.ENOENT, "unlink of a missing file")
	c.nil(unlinkat(filepath.Join(d, "sub"), abi.AT_REMOVEDIR), "unlinkat AT_REMOVEDIR")
	dirf, err := os.Open(d)
	if c.nil(err, "open a directory") {
		_, err = dirf.Read(make([]byte, 10))
		c.errno(err, syscall.EISDIR, "read of a directory")
		// openat relative to a directory descriptor.
		fd, err := syscall.Openat(int(dirf.Fd()), "a", syscall.O_RDONLY, 0)
		if c.nil(err, "openat relative to a directory") {
			b := make([]byte, 4)
			n, _ := syscall.Read(fd, b)
			c.ok(string(b[:n]) == "a", "openat read %q", b[:n])
			syscall.Close(fd)
		}
		fd, _ = syscall.Open(filepath.Join(d, "a"), syscall.O_RDONLY, 0)
		_, err = syscall.Openat(fd, "x", syscall.O_RDONLY, 0)
		c.errno(err, syscall.ENOTDIR, "openat relative to a file")
		syscall.Close(fd)
		dirf.Close()
	}
	_, err = syscall.Getdents(1, make([]byte, 100))
	c.errno(err, syscall.ENOTDIR, "getdents64 on the console")
}

func (c *checker) renames() {
	a, b := c.p("ren-a"), c.p("ren-b")
	os.WriteFile(a, []byte("A"), 0o644)
	os.WriteFile(b, []byte("B"), 0o644)
	c.errno(renameat2(a, b, 1), syscall.EEXIST, "renameat2 RENAME_NOREPLACE onto a file")
	c.errno(renameat2(a, b, 2), syscall.EINVAL, "renameat2 RENAME_EXCHANGE")
	c.nil(os.Rename(a, b), "rename over a file")
	got, _ := os.ReadFile(b)
	c.ok(string(got) == "A", "renamed file holds %q", got)
	_, err := os.Stat(a)
	c.errno(err, syscall.ENOENT, "the old name after rename")
	c.errno(syscall.Rename(c.p("none"), b), syscall.ENOENT, "rename of a missing file")
	os.Mkdir(c.p("ren-d"), 0o755)
	c.nil(os.Rename(b, c.p("ren-d/b")), "rename into a directory")
	c.nil(os.Rename(c.p("ren-d"), c.p("ren-e")), "rename a directory")
	got, _ = os.ReadFile(c.p("ren-e/b"))
	c.ok(string(got) == "A", "file in a renamed directory holds %q", got)
}

func (c *checker) descriptors() {
	f, _ := os.Create(c.p("dup"))
	fd := int(f.Fd())
	d, err := syscall.Dup(fd)
	c.nil(err, "dup")
	syscall.Write(fd, []byte("12345"))
	off, _ := syscall.Seek(d, 0, io.SeekCurrent)
	c.ok(off == 5, "a dup shares the offset: %d", off)
	c.nil(syscall.Dup3(fd, 40, syscall.O_CLOEXEC), "dup3")
	flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, 40, syscall.F_GETFD, 0)
	c.ok(e == 0 && flags == syscall.FD_CLOEXEC, "dup3 O_CLOEXEC: %d %v", flags, e)
	c.errno(syscall.Dup3(fd, fd, 0), syscall.EINVAL, "dup3 onto itself")
	c.errno(syscall.Dup3(fd, 5000, 0), syscall.EBADF, "dup3 beyond the table")
	nfd, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 30)
	c.ok(e == 0 && nfd >= 30, "F_DUPFD_CLOEXEC: %d %v", nfd, e)
	fl, _, _ := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	c.ok(fl&syscall.O_ACCMODE == syscall.O_RDWR, "F_GETFL of os.Create: %#x", fl)
	syscall.Close(d)
	syscall.Close(40)
	syscall.Close(int(nfd))
	_, err = syscall.Write(fd, []byte("6"))
	c.nil(err, "the first descriptor works after its dups closed")
	f.Close()
	c.errno(syscall.Close(fd), syscall.EBADF, "close twice")
	b, _ := os.ReadFile(c.p("dup"))
	c.ok(string(b) == "123456", "dup'd writes: %q", b)
	c.errno(syscall.Fsync(1), syscall.EINVAL, "fsync of the console")
}

func (c *checker) workingDirectory() {
	old, err := os.Getwd()
	c.nil(err, "getwd")
	c.nil(os.Chdir(c.dir), "chdir")
	wd, _ := os.Getwd()
	c.ok(wd == c.dir, "getwd after chdir: %q", wd)
	os.WriteFile("rel", []byte("r"), 0o644)
	b, err := os.ReadFile(filepath.Join(c.dir, "rel"))
	c.ok(err == nil && string(b) == "r", "a relative path is under the working directory: %q %v", b, err)
	c.errno(syscall.Chdir(filepath.Join(c.dir, "rel")), syscall.ENOTDIR, "chdir to a file")
	c.errno(syscall.Chdir(filepath.Join(c.dir, "nope")), syscall.ENOENT, "chdir to nothing")
	d, _ := os.Open(old)
	c.nil(syscall.Fchdir(int(d.Fd())), "fchdir")
	d.Close()
	wd, _ = os.Getwd()
	c.ok(wd == old, "getwd after fchdir: %q, want %q", wd, old)
	buf := make([]byte, 2)
	_, err = syscall.Getcwd(buf)
	c.errno(err, syscall.ERANGE, "getcwd into 2 bytes")
}

func (c *checker) stats() {
	f := c.p("st")
	os.WriteFile(f, make([]byte, 1234), 0o644)
	st, err := os.Stat(f)
	c.ok(err == nil && st.Size() == 1234 && st.Mode().IsRegular(), "stat: %v %v", st, err)
	lst, err := os.Lstat(f)
	c.ok(err == nil && lst.Size() == 1234, "lstat: %v", err)
	c.ok(os.SameFile(st, lst), "stat and lstat are the same file")
	var sx syscall.Stat_t
	c.nil(syscall.Stat(c.dir, &sx), "stat a directory")
	c.ok(sx.Mode&syscall.S_IFMT == syscall.S_IFDIR, "a directory's mode: %o", sx.Mode)
	_, err = os.Readlink(f)
	c.errno(err, syscall.EINVAL, "readlink of a file")
	_, err = os.Readlink(c.p("nope"))
	c.errno(err, syscall.ENOENT, "readlink of nothing")
	c.nil(syscall.Access(f, 4), "access R_OK")
	c.errno(syscall.Access(c.p("nope"), 0), syscall.ENOENT, "access of nothing")
	c.errno(syscall.Faccessat(abi.AT_FDCWD, f, 8, 0), syscall.EINVAL, "faccessat with a bad mode")
	var stx statx
	r, _, e := syscall.Syscall6(abi.SysStatx, atFDCWD, uintptr(unsafePointer(cstr(f))), 0, 0x7ff, uintptr(unsafePointer(&stx)), 0)
	c.ok(r == 0 && e == 0 && stx.Size == 1234 && stx.Mode&syscall.S_IFMT == syscall.S_IFREG, "statx: %d %v size %d mode %o", r, e, stx.Size, stx.Mode)
	var st2 syscall.Stat_t
	c.errno(syscall.Stat(c.p("st/x"), &st2), syscall.ENOTDIR, "stat through a file")
}

// threads: several OS threads append to one descriptor and write their own files at once.
func (c *checker) threads() {
	const writers, each = 4, 50
	f, err := os.OpenFile(c.p("shared"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if !c.nil(err, "open shared") {
		return
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			line := []byte(fmt.Sprintf("writer %d line\n", w))
			own, err := os.Create(c.p(fmt.Sprintf("own-%d", w)))
			if err != nil {
				errs <- err
				return
			}
			for i := 0; i < each; i++ {
				if _, err := f.Write(line); err != nil {
					errs <- err
					return
				}
				if _, err := own.Write(line); err != nil {
					errs <- err
					return
				}
			}
			errs <- own.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		c.nil(err, "a writer thread")
	}
	f.Close()
	b, _ := os.ReadFile(c.p("shared"))
	lines := bytes.Count(b, []byte("\n"))
	c.ok(lines == writers*each && len(b) == writers*each*len("writer 0 line\n"), "appends from %d threads: %d lines, %d bytes", writers, lines, len(b))
	for w := 0; w < writers; w++ {
		b, _ := os.ReadFile(c.p(fmt.Sprintf("own-%d", w)))
		c.ok(len(b) == each*len("writer 0 line\n"), "writer %d's own file: %d bytes", w, len(b))
	}
}
