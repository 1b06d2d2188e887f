package vfs

// Resolving a system call's path argument: relative to a directory descriptor or the working
// directory, in the task's view, then under its root — the server's path.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// scratch holds each thread's raw path while it is resolved.
type scratch struct{ raw [abi.FSPathMax + 1]byte }

var raws sched.PerThread[scratch]

// fileOf returns the description descriptor d names, or -1 if it is not an open file.
//
//go:nosplit
func fileOf(d *task.FD) int32 {
	if d == nil || d.Kind != task.FDFile {
		return -1
	}
	f := file(d.Obj)
	if !f.used || f.orphan || f.gen != d.Gen {
		return -1
	}
	return d.Obj
}

// resolve reads the path at va and resolves it relative to dirfd (abi.AT_FDCWD: the working
// directory): view is the path as the task sees it, srv the server's path. It returns an
// errno.
//
//go:nosplit
func resolve(c task.Call, dirfd uint64, va uintptr, view, srv *Path) int {
	raw := &raws.Of(c.Slot).raw
	n := readUser(c.Space(), va, raw)
	if n < 0 {
		return int(-n)
	}
	t := c.Task()
	v := views.Of(t)
	if raw[0] == '/' {
		view.setRoot()
	} else if int32(dirfd) == abi.AT_FDCWD {
		*view = v.cwd
	} else {
		d := t.FDs.Get(dirfd)
		if d == nil {
			return abi.EBADF
		}
		i := fileOf(d)
		if i < 0 || !file(i).isDir() {
			return abi.ENOTDIR
		}
		*view = file(i).path
	}
	if e := view.walk(raw, n); e != 0 {
		return e
	}
	if !srv.join(&v.root, view) {
		return abi.ENAMETOOLONG
	}
	return 0
}
