package vfs

// read, write and their positioned and vectored forms, lseek, getdents64, ftruncate, fsync
// and sync on file descriptors. The task's buffer goes to the server as a page grant (the
// pages that hold it, writable for a read); one request moves at most what abi.MaxGrantPages
// pages hold from the buffer's offset in its first page, so a larger transfer is short, as
// read(2) and write(2) may be, and the caller's loop asks again.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const maxGrantBytes = abi.MaxGrantPages * mm.PageSize

// grantOf fills m's grant for the n bytes at buf and returns n clipped to one request.
//
//go:nosplit
func grantOf(m *abi.Message, buf, n uintptr, write bool) uintptr {
	off := buf & (mm.PageSize - 1)
	if n > maxGrantBytes-off {
		n = maxGrantBytes - off
	}
	m.GrantAddr = uint64(buf - off)
	m.GrantPages = uint64((off + n + mm.PageSize - 1) / mm.PageSize)
	if write {
		m.GrantPages |= abi.GrantWrite
	}
	return n
}

// usable returns the description of file descriptor d for an operation, or an errno: EBADF
// for none, EIO for one whose server has restarted since it was opened.
//
//go:nosplit
func usable(d *task.FD) (int32, int) {
	i := fileOf(d)
	if i < 0 {
		return -1, abi.EBADF
	}
	if s := file(i).srv; s == 0 || s != server() {
		return -1, abi.EIO
	}
	return i, 0
}

// Transfer is read (write=false) or write of n bytes at buf through file descriptor d, at
// offset off, or at the description's offset (which it then moves) when off < 0.
//
//go:nosplit
func Transfer(c task.Call, d *task.FD, buf, n uintptr, off int64, write bool) task.Result {
	i, e := usable(d)
	if e != 0 {
		return task.Err(e)
	}
	f := file(i)
	if write && !f.writable() || !write && !f.readable() {
		return task.Err(abi.EBADF)
	}
	if f.isDir() {
		return task.Err(abi.EISDIR)
	}
	if !mm.RangeOK(buf, n) {
		return task.Err(abi.EFAULT)
	}
	if n == 0 {
		return task.Ret(0)
	}
	done := uint8(doneRead)
	if write {
		done = doneWrite
	}
	p := begin(c, done)
	p.file, p.gen = i, f.gen
	if off < 0 {
		if r, ok := lock(c, p, i); !ok {
			return r
		}
		p.offset = true
		off = f.offset
	}
	m := abi.Message{Label: abi.FSRead}
	if write {
		m.Label = abi.FSWrite
	}
	n = grantOf(&m, buf, n, !write)
	m.Words = [4]uint64{f.handle, uint64(off), uint64(n), uint64(buf & (mm.PageSize - 1))}
	return forward(c, p, &m, abi.EIO)
}

//go:nosplit
func finishTransfer(p *pending, m *abi.Message, write bool) task.Result {
	r := int64(m.Label)
	f := file(p.file)
	if p.offset && r > 0 && f.used && f.gen == p.gen {
		if write {
			f.offset = int64(m.Words[0]) // after the write: the end, for O_APPEND
		} else {
			f.offset += r
		}
	}
	return task.Ret(r)
}

// Lseek is lseek(fd, offset, whence) on file descriptor d.
//
//go:nosplit
func Lseek(c task.Call, d *task.FD, off int64, whence uint64) task.Result {
	const seekSet, seekCur, seekEnd = 0, 1, 2
	i, e := usable(d)
	if e != 0 {
		return task.Err(e)
	}
	f := file(i)
	switch whence {
	case seekSet:
		if off < 0 {
			return task.Err(abi.EINVAL)
		}
		f.offset = off
		return task.Ret(off)
	case seekCur:
		if f.offset+off < 0 {
			return task.Err(abi.EINVAL)
		}
		f.offset += off
		return task.Ret(f.offset)
	case seekEnd:
		if f.isDir() {
			return task.Err(abi.EINVAL)
		}
		p := begin(c, doneSeekEnd)
		p.file, p.gen, p.arg = i, f.gen, off
		if r, ok := lock(c, p, i); !ok {
			return r
		}
		m := abi.Message{Label: abi.FSFstat}
		m.Words[0] = f.handle
		return forward(c, p, &m, abi.EIO)
	}
	return task.Err(abi.EINVAL)
}

//go:nosplit
func finishSeekEnd(p *pending, m *abi.Message) task.Result {
	if r := int64(m.Label); r < 0 {
		return task.Ret(r)
	}
	pos := int64(m.Words[0]) + p.arg
	if pos < 0 {
		return task.Err(abi.EINVAL)
	}
	if f := file(p.file); f.used && f.gen == p.gen {
		f.offset = pos
	}
	return task.Ret(pos)
}

// Getdents is getdents64(fd, buf, n) on file descriptor d.
//
//go:nosplit
func Getdents(c task.Call, d *task.FD, buf, n uintptr) task.Result {
	i, e := usable(d)
	if e != 0 {
		return task.Err(e)
	}
	f := file(i)
	if !f.isDir() {
		return task.Err(abi.ENOTDIR)
	}
	if !mm.RangeOK(buf, n) || n == 0 {
		return task.Err(abi.EINVAL)
	}
	p := begin(c, doneReaddir)
	p.file, p.gen = i, f.gen
	if r, ok := lock(c, p, i); !ok {
		return r
	}
	p.offset = true
	m := abi.Message{Label: abi.FSReaddir}
	n = grantOf(&m, buf, n, true)
	m.Words = [4]uint64{f.handle, uint64(f.offset), uint64(n), uint64(buf & (mm.PageSize - 1))}
	return forward(c, p, &m, abi.EIO)
}

//go:nosplit
func finishReaddir(p *pending, m *abi.Message) task.Result {
	r := int64(m.Label)
	if f := file(p.file); r >= 0 && f.used && f.gen == p.gen {
		f.offset = int64(m.Words[0])
	}
	return task.Ret(r)
}

// Ftruncate is ftruncate(fd, size) on file descriptor d.
//
//go:nosplit
func Ftruncate(c task.Call, d *task.FD, size int64) task.Result {
	i, e := usable(d)
	if e != 0 {
		return task.Err(e)
	}
	f := file(i)
	if size < 0 || !f.writable() || f.isDir() {
		return task.Err(abi.EINVAL)
	}
	p := begin(c, doneStatus)
	m := abi.Message{Label: abi.FSTruncate}
	m.Words[0], m.Words[1] = f.handle, uint64(size)
	return forward(c, p, &m, abi.EIO)
}

// Fsync is fsync(fd) and fdatasync(fd) on file descriptor d: durable when it returns.
//
//go:nosplit
func Fsync(c task.Call, d *task.FD) task.Result {
	i, e := usable(d)
	if e != 0 {
		return task.Err(e)
	}
	p := begin(c, doneStatus)
	m := abi.Message{Label: abi.FSSync}
	m.Words[0] = file(i).handle
	return forward(c, p, &m, abi.EIO)
}

// Sync is sync(): everything the server holds made durable.
//
//go:nosplit
func Sync(c task.Call) task.Result {
	p := begin(c, doneStatus)
	m := abi.Message{Label: abi.FSSync}
	m.Words[0] = abi.FSSyncAll
	return forward(c, p, &m, 0) // no server: nothing to sync, and sync(2) cannot fail
}

// Fstat is fstat on file descriptor d, into a struct stat (statx=false) or a struct statx.
//
//go:nosplit
func Fstat(c task.Call, d *task.FD, buf uintptr, statx bool) task.Result {
	i, e := usable(d)
	if e != 0 {
		return task.Err(e)
	}
	done := uint8(doneStat)
	if statx {
		done = doneStatx
	}
	p := begin(c, done)
	p.buf = buf
	m := abi.Message{Label: abi.FSFstat}
	m.Words[0] = file(i).handle
	return forward(c, p, &m, abi.EIO)
}
