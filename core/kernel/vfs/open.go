package vfs

// open, openat, creat and close of files; dup's bookkeeping.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// Openat is openat(dirfd, path, flags, mode).
//
//go:nosplit
func Openat(c task.Call) task.Result {
	return openAt(c, c.FD(0), c.Ptr(1), c.Arg(2), c.Arg(3))
}

// Open is open(path, flags, mode).
//
//go:nosplit
func Open(c task.Call) task.Result {
	return openAt(c, fdcwd, c.Ptr(0), c.Arg(1), c.Arg(2))
}

// Creat is creat(path, mode): open(path, O_CREAT|O_WRONLY|O_TRUNC, mode).
//
//go:nosplit
func Creat(c task.Call) task.Result {
	return openAt(c, fdcwd, c.Ptr(0), abi.O_CREAT|abi.O_WRONLY|abi.O_TRUNC, c.Arg(1))
}

//go:nosplit
func openAt(c task.Call, dirfd uint64, va uintptr, flags, mode uint64) task.Result {
	t := c.Task()
	acc := flags & abi.O_ACCMODE
	if acc == abi.O_ACCMODE {
		return task.Err(abi.EINVAL)
	}
	if !hasFreeFD(t) {
		return task.Err(abi.EMFILE)
	}
	p := begin(c, doneOpen)
	i := newFile(t)
	if i < 0 {
		p.done = doneNone
		return task.Err(abi.ENFILE)
	}
	p.file, p.gen = i, file(i).gen
	p.fd = int32(flags)
	write := acc != 0 || flags&(abi.O_CREAT|abi.O_TRUNC) != 0
	r := pathReq(p, whatOpen, dirfd, va, write, abi.FSOpen, flags&^(abi.O_CLOEXEC|abi.O_NOCTTY|abi.O_NONBLOCK|abi.O_NOFOLLOW))
	p.req.Msg.Words[1] = mode & 0o7777
	return r
}

// srvPath is scratch for the server path of the call being started (interrupts are off in a
// system call: one at a time).
var srvPath Path

//go:nosplit
func hasFreeFD(t *task.Task) bool {
	for i := range t.FDs {
		if t.FDs[i].Kind == task.FDNone {
			return true
		}
	}
	return false
}

//go:nosplit
func finishOpen(c task.Call, p *pending, m *abi.Message) task.Result {
	r := int64(m.Label)
	f := file(p.file)
	if r < 0 {
		freeFile(p.file)
		return task.Ret(r)
	}
	f.srv, f.handle = server(), m.Words[0]
	f.flags = uint32(p.fd) & openFlagsKept &^ abi.O_DIRECTORY
	if m.Words[2]&abi.S_IFMT == abi.S_IFDIR {
		f.flags |= abi.O_DIRECTORY
	}
	f.path = p.view
	t := c.Task()
	n := t.FDs.Alloc(task.FDFile, p.file, f.gen)
	if n < 0 {
		Release(p.file) // a sibling took the last descriptor meanwhile
		return task.Err(abi.EMFILE)
	}
	if p.fd&abi.O_CLOEXEC != 0 {
		t.FDs[n&(task.MaxFDs-1)].Flags |= flagCloexec
	}
	t.FDs[n&(task.MaxFDs-1)].Flags |= uint32(p.fd) & abi.O_NONBLOCK
	return task.Ret(int64(n))
}

// Close closes descriptor d of a file: the last descriptor of its description closes the
// server's handle, and the calling thread waits for that.
//
//go:nosplit
func Close(c task.Call, d *task.FD) task.Result {
	i := d.Obj
	f := file(i)
	*d = task.FD{}
	if !f.used {
		return task.Ret(0)
	}
	f.refs--
	if f.refs > 0 {
		return task.Ret(0)
	}
	if f.srv == 0 || f.srv != server() {
		freeFile(i)
		return task.Ret(0)
	}
	p := begin(c, doneClose)
	p.file, p.gen = i, f.gen
	m := abi.Message{Label: abi.FSClose}
	m.Words[0] = f.handle
	f.orphan = true // no descriptor names it now; Reap would close it if this call failed
	orphans++
	return forward(c, p, &m, 0) // no server: closed all the same
}

//go:nosplit
func finishClose(p *pending) task.Result {
	f := file(p.file)
	if f.used && f.gen == p.gen {
		if f.orphan {
			orphans--
		}
		freeFile(p.file)
	}
	return task.Ret(0)
}

// Reap closes the server handle of one orphan description — left by a task that ended with
// files open, whose teardown could not wait for the server — on the calling thread (the
// core's). It returns 1 when it closed one, 0 when there are none.
//
//go:nosplit
func Reap(c task.Call) task.Result {
	if !c.Task().IsCore() {
		return task.Err(abi.EPERM)
	}
	for i := range open {
		f := &open[i]
		if !f.used || !f.orphan || f.busy {
			continue
		}
		if f.srv == 0 || f.srv != server() {
			orphans--
			freeFile(int32(i))
			return task.Ret(1)
		}
		p := begin(c, doneReap)
		p.file, p.gen = int32(i), f.gen
		m := abi.Message{Label: abi.FSClose}
		m.Words[0] = f.handle
		f.busy, p.locked = true, true // no other Reap takes it; abort and finish unlock it
		return forward(c, p, &m, 0)
	}
	return task.Ret(0)
}

// TaskClosed gives the descriptions task t still owns, orphans now, to the core, whose Reap
// closes them; t's share is released next (its teardown hook, after its descriptors).
//
//go:nosplit
func TaskClosed(t *task.Task) {
	for i := range open {
		f := &open[i]
		if f.used && f.owner == t.Slot() {
			openPool.Give(shares.Of(t))
			f.owner = task.Core
			if !openPool.Take(nil) {
				if f.orphan {
					orphans--
				}
				f.used = false // the core's reserve is gone: the server keeps a stale handle
			}
		}
	}
}

// Cloexec reports and sets descriptor flags (F_GETFD / F_SETFD) for any descriptor.
//
//go:nosplit
func Cloexec(d *task.FD) bool { return d.Flags&flagCloexec != 0 }

// SetCloexec sets or clears FD_CLOEXEC on d.
//
//go:nosplit
func SetCloexec(d *task.FD, on bool) {
	if on {
		d.Flags |= flagCloexec
	} else {
		d.Flags &^= flagCloexec
	}
}

// StatusFlags is F_GETFL of a file descriptor.
//
//go:nosplit
func StatusFlags(d *task.FD) int64 {
	i := fileOf(d)
	if i < 0 {
		return 0
	}
	f := file(i)
	return int64(f.flags&(abi.O_ACCMODE|abi.O_APPEND|abi.O_DIRECTORY)) | int64(d.Flags&abi.O_NONBLOCK)
}

// SetStatusFlags is F_SETFL of a file descriptor: O_APPEND and O_NONBLOCK.
//
//go:nosplit
func SetStatusFlags(d *task.FD, flags uint64) {
	if i := fileOf(d); i >= 0 {
		f := file(i)
		f.flags = f.flags&^abi.O_APPEND | uint32(flags)&abi.O_APPEND
	}
}

// fdcwd is AT_FDCWD as a descriptor argument.
const fdcwd = uint64(1<<32 + abi.AT_FDCWD)
