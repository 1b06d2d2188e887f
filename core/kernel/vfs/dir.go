package vfs

// mkdir, unlink, rmdir and rename (and their *at forms); getcwd, chdir and fchdir.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// Mkdirat is mkdirat(dirfd, path, mode).
//
//go:nosplit
func Mkdirat(c task.Call) task.Result {
	return pathCall(c, doneStatus, whatMkdir, c.FD(0), c.Ptr(1), true, abi.FSMkdir, c.Arg(2)&0o7777)
}

// Mkdir is mkdir(path, mode).
//
//go:nosplit
func Mkdir(c task.Call) task.Result {
	return pathCall(c, doneStatus, whatMkdir, fdcwd, c.Ptr(0), true, abi.FSMkdir, c.Arg(1)&0o7777)
}

// Unlinkat is unlinkat(dirfd, path, flags): AT_REMOVEDIR removes a directory.
//
//go:nosplit
func Unlinkat(c task.Call) task.Result {
	if c.Arg(2)&^abi.AT_REMOVEDIR != 0 {
		return task.Err(abi.EINVAL)
	}
	return pathCall(c, doneStatus, whatUnlink, c.FD(0), c.Ptr(1), true, abi.FSUnlink, c.Arg(2))
}

// Unlink is unlink(path).
//
//go:nosplit
func Unlink(c task.Call) task.Result {
	return pathCall(c, doneStatus, whatUnlink, fdcwd, c.Ptr(0), true, abi.FSUnlink, 0)
}

// Rmdir is rmdir(path).
//
//go:nosplit
func Rmdir(c task.Call) task.Result {
	return pathCall(c, doneStatus, whatRmdir, fdcwd, c.Ptr(0), true, abi.FSUnlink, abi.AT_REMOVEDIR)
}

// Renameat2 is renameat2(olddirfd, old, newdirfd, new, flags): RENAME_NOREPLACE is served;
// RENAME_EXCHANGE and the rest are EINVAL.
//
//go:nosplit
func Renameat2(c task.Call) task.Result {
	return renameAt(c, c.FD(0), c.Ptr(1), c.FD(2), c.Ptr(3), c.Arg(4))
}

// Renameat is renameat(olddirfd, old, newdirfd, new).
//
//go:nosplit
func Renameat(c task.Call) task.Result {
	return renameAt(c, c.FD(0), c.Ptr(1), c.FD(2), c.Ptr(3), 0)
}

// Rename is rename(old, new).
//
//go:nosplit
func Rename(c task.Call) task.Result {
	return renameAt(c, fdcwd, c.Ptr(0), fdcwd, c.Ptr(1), 0)
}

//go:nosplit
func renameAt(c task.Call, oldfd uint64, oldva uintptr, newfd uint64, newva uintptr, flags uint64) task.Result {
	if flags&^abi.RENAME_NOREPLACE != 0 {
		return task.Err(abi.EINVAL)
	}
	p := begin(c, doneStatus)
	r := pathReq(p, whatRename, oldfd, oldva, true, abi.FSRename, flags)
	p.paths, p.dirfd[1], p.va[1] = 2, newfd, newva
	return r
}

// Getcwd is getcwd(buf, size): the working directory in the task's view.
//
//go:nosplit
func Getcwd(c task.Call) task.Result {
	cwd := &views.Of(c.Task()).cwd
	size := c.Size(1)
	if size == 0 {
		return task.Err(abi.EINVAL)
	}
	if uintptr(cwd.n+1) > size {
		return task.Err(abi.ERANGE)
	}
	if !c.Space().CopyOut(c.Ptr(0), cwd.addr(), uintptr(cwd.n+1)) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(int64(cwd.n + 1))
}

// Chdir is chdir(path): the path must be a directory the task may read.
//
//go:nosplit
func Chdir(c task.Call) task.Result {
	return pathCall(c, doneChdir, whatChdir, fdcwd, c.Ptr(0), false, abi.FSStat, 0)
}

// Fchdir is fchdir(fd) on file descriptor d.
//
//go:nosplit
func Fchdir(c task.Call, d *task.FD) task.Result {
	i := fileOf(d)
	if i < 0 {
		return task.Err(abi.EBADF)
	}
	if !file(i).isDir() {
		return task.Err(abi.ENOTDIR)
	}
	views.Of(c.Task()).cwd = file(i).path
	return task.Ret(0)
}

// finish finishes the pending call p with the server's reply.
//
//go:nosplit
//go:noinline
func finish(c task.Call, p *pending) task.Result {
	m, r := ipcReply(c)
	done := p.done
	p.done = doneNone
	if p.locked {
		unlock(p.file)
	}
	if r != 0 {
		// The server died (or could not be reached) with the call in flight.
		switch done {
		case doneOpen:
			freeFile(p.file)
		case doneClose:
			return finishClose(p) // its handle went with it
		case doneReap:
			finishClose(p)
			return task.Ret(1)
		}
		return task.Err(abi.EIO)
	}
	res := int64(m.Label)
	switch done {
	case doneOpen:
		return finishOpen(c, p, m)
	case doneClose:
		return finishClose(p)
	case doneReap:
		finishClose(p)
		return task.Ret(1)
	case doneRead:
		return finishTransfer(p, m, false)
	case doneWrite:
		return finishTransfer(p, m, true)
	case doneSeekEnd:
		return finishSeekEnd(p, m)
	case doneReaddir:
		return finishReaddir(p, m)
	}
	if res < 0 {
		return task.Ret(res)
	}
	switch done {
	case doneStat:
		return putStat(c, p.buf, m, false)
	case doneStatx:
		return putStat(c, p.buf, m, true)
	case doneAccess:
		const wOK = 2
		if p.arg&wOK != 0 && m.Words[1]&0o200 == 0 {
			return task.Err(abi.EACCES) // a read-only file
		}
		return task.Ret(0)
	case doneReadlink:
		return task.Err(abi.EINVAL) // it exists, and nothing is a symbolic link
	case doneChdir:
		if m.Words[1]&abi.S_IFMT != abi.S_IFDIR {
			return task.Err(abi.ENOTDIR)
		}
		views.Of(c.Task()).cwd = p.view
		return task.Ret(0)
	}
	return task.Ret(res)
}
