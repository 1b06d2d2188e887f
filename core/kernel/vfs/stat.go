package vfs

// stat, lstat, newfstatat and statx; access and faccessat; readlink and readlinkat. FAT32
// has no symbolic links, so lstat is stat and readlink of anything that exists is EINVAL.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// pathCall prepares a request about the path at va (relative to dirfd), for writing or not,
// whose reply finishes as done: Send resolves the path and checks the grant, from the
// dispatcher's shallower stack, before it sends op with its first word w0.
//
//go:nosplit
//go:noinline
func pathCall(c task.Call, done, what uint8, dirfd uint64, va uintptr, write bool, op, w0 uint64) task.Result {
	p := begin(c, done)
	return pathReq(p, what, dirfd, va, write, op, w0)
}

//go:nosplit
//go:noinline
func pathReq(p *pending, what uint8, dirfd uint64, va uintptr, write bool, op, w0 uint64) task.Result {
	p.paths, p.what, p.write = 1, what, write
	p.dirfd[0], p.va[0] = dirfd, va
	p.req.Name, p.req.Msg = fsName, abi.Message{Label: op}
	p.req.Msg.Words[0] = w0
	p.noServer = abi.ENOENT
	return task.Result{Next: task.Forward}
}

// Newfstatat is fstatat(dirfd, path, buf, flags) for a path (package files serves
// AT_EMPTY_PATH with an empty path).
//
//go:nosplit
func Newfstatat(c task.Call) task.Result {
	p := begin(c, doneStat)
	p.buf = c.Ptr(2)
	return pathReq(p, whatStat, c.FD(0), c.Ptr(1), false, abi.FSStat, 0)
}

// Stat is stat(path, buf) and lstat(path, buf).
//
//go:nosplit
func Stat(c task.Call) task.Result {
	p := begin(c, doneStat)
	p.buf = c.Ptr(1)
	return pathReq(p, whatStat, fdcwd, c.Ptr(0), false, abi.FSStat, 0)
}

// Statx is statx(dirfd, path, flags, mask, buf) for a path.
//
//go:nosplit
func Statx(c task.Call) task.Result {
	p := begin(c, doneStatx)
	p.buf = c.Ptr(4)
	return pathReq(p, whatStat, c.FD(0), c.Ptr(1), false, abi.FSStat, 0)
}

// Faccessat is faccessat(dirfd, path, mode) and faccessat2(dirfd, path, mode, flags).
//
//go:nosplit
func Faccessat(c task.Call) task.Result {
	return accessAt(c, c.FD(0), c.Ptr(1), c.Arg(2))
}

// Access is access(path, mode).
//
//go:nosplit
func Access(c task.Call) task.Result {
	return accessAt(c, fdcwd, c.Ptr(0), c.Arg(1))
}

//go:nosplit
func accessAt(c task.Call, dirfd uint64, va uintptr, mode uint64) task.Result {
	const wOK = 2
	if mode&^7 != 0 {
		return task.Err(abi.EINVAL)
	}
	p := begin(c, doneAccess)
	p.arg = int64(mode)
	return pathReq(p, whatAccess, dirfd, va, mode&wOK != 0, abi.FSStat, 0)
}

// Readlinkat is readlinkat(dirfd, path, buf, n).
//
//go:nosplit
func Readlinkat(c task.Call) task.Result {
	return pathCall(c, doneReadlink, whatReadlink, c.FD(0), c.Ptr(1), false, abi.FSStat, 0)
}

// Readlink is readlink(path, buf, n).
//
//go:nosplit
func Readlink(c task.Call) task.Result {
	return pathCall(c, doneReadlink, whatReadlink, fdcwd, c.Ptr(0), false, abi.FSStat, 0)
}

// statBufs is where each thread's struct stat is built before one copy out.
var statBufs sched.PerThread[[256]byte]

//go:nosplit
func put64(b *[256]byte, off int, v uint64) {
	for i := 0; i < 8; i++ {
		b[(off+i)&255] = byte(v >> (8 * i))
	}
}

//go:nosplit
func put32(b *[256]byte, off int, v uint32) {
	for i := 0; i < 4; i++ {
		b[(off+i)&255] = byte(v >> (8 * i))
	}
}

// putStat writes a struct stat (or statx) for the reply m of FSStat/FSFstat at buf.
//
//go:nosplit
func putStat(c task.Call, buf uintptr, m *abi.Message, statx bool) task.Result {
	size, mode, mtime, ino := m.Words[0], m.Words[1], m.Words[2], m.Words[3]
	sec, nsec := mtime/1e9, mtime%1e9
	nlink := uint64(1)
	if mode&abi.S_IFMT == abi.S_IFDIR {
		nlink = 2
	}
	blocks := (size + 511) / 512
	b := statBufs.Of(c.Slot)
	*b = [256]byte{}
	n := uintptr(144)
	if !statx {
		put64(b, 0, 1) // st_dev
		put64(b, 8, ino)
		put64(b, 16, nlink)
		put32(b, 24, uint32(mode))
		put64(b, 48, size)
		put64(b, 56, 4096)
		put64(b, 64, blocks)
		for at := 72; at <= 104; at += 16 { // atime, mtime, ctime
			put64(b, at, sec)
			put64(b, at+8, nsec)
		}
	} else {
		const basicStats = 0x7ff
		n = 256
		put32(b, 0, basicStats)
		put32(b, 4, 4096)
		put32(b, 16, uint32(nlink))
		put32(b, 28, uint32(mode)&0xffff) // stx_mode is 16 bits; uid and gid stay 0
		put64(b, 32, ino)
		put64(b, 40, size)
		put64(b, 48, blocks)
		for at := 64; at <= 112; at += 16 { // atime, btime, ctime, mtime
			put64(b, at, sec)
			put32(b, at+8, uint32(nsec))
		}
		put32(b, 140, 1) // stx_dev_minor
	}
	if !c.Space().CopyOut(buf, arch.Addr(&b[0]), n) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(0)
}
