// Package files serves file descriptors: the console (0-2), pipes, the epoll instances and
// eventfds the Go runtime's netpoller needs, and files — which it hands to package vfs, the
// file ABI forwarded to the file-system server (descriptors of kind task.FDFile: this package
// is the front door of every call on a descriptor, vfs of every call on a path). The
// descriptor table is the task's
// (task.FDTable); the objects are here, in tables each task has a share of (its reservation
// and limit: the pools), and a descriptor names its object's slot and generation, so a slot
// reused for another object is never reached through an old descriptor. A call that waits
// runs again from the start when woken: it looks its descriptor up afresh, and finds it
// closed if a sibling thread closed it meanwhile.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.
package files

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
	"github.com/simpleos/simpleos/core/kernel/vfs"
)

const (
	fGetfd = 1
	fSetfd = 2
	fGetfl = 3
	fSetfl = 4

	oRdwr     = abi.O_RDWR
	oNonblock = abi.O_NONBLOCK
)

// The tables' sizes, the core's reserve of each, and each task's reservation and limit.
const (
	maxPipes, corePipes, taskPipesMin, taskPipesMax             = 128, 4, 2, 16
	maxEpolls, coreEpolls, taskEpollsMin, taskEpollsMax         = 128, 4, 2, 8 // a Go runtime's netpoller needs one
	maxEventfds, coreEventfds, taskEventfdsMin, taskEventfdsMax = 128, 4, 2, 8 // ... and one eventfd
)

var (
	pipePool    = mm.Pool{Total: maxPipes, Keep: corePipes}
	epollPool   = mm.Pool{Total: maxEpolls, Keep: coreEpolls}
	eventfdPool = mm.Pool{Total: maxEventfds, Keep: coreEventfds}
)

// shares is a task's share of each table.
type shares struct {
	pipes, epolls, eventfds mm.Share
}

var quota task.Attached[shares]

// share returns t's share of pool pl (nil for the core, whose entries come out of everything
// not promised to a task).
//
//go:nosplit
func share(t *task.Task, pl *mm.Pool) *mm.Share {
	if t.IsCore() {
		return nil
	}
	q := quota.Of(t)
	switch pl {
	case &pipePool:
		return &q.pipes
	case &epollPool:
		return &q.epolls
	}
	return &q.eventfds
}

// Admit has the tables promise task t its minimums, all or none (its start hook; interrupts
// off).
//
//go:nosplit
func Admit(t *task.Task) bool {
	q := quota.Of(t)
	*q = shares{}
	if !pipePool.Admit(&q.pipes, taskPipesMin, taskPipesMax) {
		return false
	}
	if !epollPool.Admit(&q.epolls, taskEpollsMin, taskEpollsMax) {
		pipePool.Release(&q.pipes)
		return false
	}
	if !eventfdPool.Admit(&q.eventfds, taskEventfdsMin, taskEventfdsMax) {
		epollPool.Release(&q.epolls)
		pipePool.Release(&q.pipes)
		return false
	}
	if !vfs.Admit(t) {
		eventfdPool.Release(&q.eventfds)
		epollPool.Release(&q.epolls)
		pipePool.Release(&q.pipes)
		return false
	}
	return true
}

// TaskEnded closes every descriptor of an ended task, frees its objects and withdraws its
// reservations (its teardown hook, after its threads are gone).
//
//go:nosplit
func TaskEnded(t *task.Task) {
	for i := range t.FDs {
		closeFD(t, &t.FDs[i])
	}
	for i := range epolls {
		if epolls[i].used && epolls[i].owner == t.Slot() {
			freeEpoll(int32(i))
		}
	}
	for i := range eventfds {
		if eventfds[i].used && eventfds[i].owner == t.Slot() {
			freeEventfd(int32(i))
		}
	}
	vfs.TaskClosed(t)
	vfs.TaskEnded(t)
	q := quota.Of(t)
	eventfdPool.Release(&q.eventfds)
	epollPool.Release(&q.epolls)
	pipePool.Release(&q.pipes)
}

// gen returns the generation of object obj of kind: it changes every time the table slot is
// given to a new object.
//
//go:nosplit
func gen(kind task.FDKind, obj int32) uint32 {
	switch kind {
	case task.FDPipeRead, task.FDPipeWrite:
		return pipes[obj&(maxPipes-1)].gen
	case task.FDEpoll:
		return epolls[obj&(maxEpolls-1)].gen
	case task.FDEventfd:
		return eventfds[obj&(maxEventfds-1)].gen
	case task.FDFile:
		return vfs.Gen(obj)
	}
	return 0
}

// lookup returns descriptor n of t if it is open and its object is still the one it was
// opened on, or nil.
//
//go:nosplit
func lookup(t *task.Task, n uint64) *task.FD {
	d := t.FDs.Get(n)
	if d == nil || gen(d.Kind, d.Obj) != d.Gen {
		return nil
	}
	return d
}

// held is the descriptor a thread waits on (in a read, a write, epoll_wait): its number and
// what it referred to when the wait began.
type heldFD struct {
	n  uint64
	fd task.FD
}

var held sched.PerThread[heldFD]

// lookupFor returns descriptor n for call c. A call run again after a wait must find the very
// descriptor it waited on: a sibling thread may have closed it meanwhile, and its number or its
// object's slot may be another object's now (EBADF then, as nil).
//
//go:nosplit
func lookupFor(c task.Call, n uint64) *task.FD {
	d := lookup(c.Task(), n)
	if c.Again {
		h := held.Of(c.Slot)
		if d == nil || h.n != n || d.Kind != h.fd.Kind || d.Obj != h.fd.Obj || d.Gen != h.fd.Gen {
			return nil
		}
	}
	return d
}

// waitOn puts the calling thread to wait on q (until deadline, 0 = none; the call then returns
// 0), holding descriptor n: the call runs again when woken, and finds out whether n is still
// that descriptor.
//
//go:nosplit
func waitOn(c task.Call, n uint64, d *task.FD, q *sched.Queue, deadline int64) task.Result {
	*held.Of(c.Slot) = heldFD{n, *d}
	return task.Waiting(sched.Block(q, deadline, 0, sched.ResumeRetry))
}

// alloc gives object obj of kind the lowest free descriptor of t, or returns -1.
//
//go:nosplit
func alloc(t *task.Task, kind task.FDKind, obj int32) int {
	return t.FDs.Alloc(kind, obj, gen(kind, obj))
}

// closeFD closes one descriptor and lets go of its object.
//
//go:nosplit
func closeFD(t *task.Task, d *task.FD) {
	switch d.Kind {
	case task.FDEpoll:
		freeEpoll(d.Obj)
	case task.FDEventfd:
		freeEventfd(d.Obj)
	case task.FDPipeRead, task.FDPipeWrite:
		closePipeEnd(t, d)
	case task.FDFile:
		vfs.Release(d.Obj)
	}
	*d = task.FD{}
}

// writeConsole prints up to console.MaxWrite of the n bytes of user memory at va.
//
//go:nosplit
func writeConsole(t *task.Task, as *mm.AddressSpace, va, n uintptr) int64 {
	if !mm.RangeOK(va, n) {
		return -abi.EFAULT
	}
	if n > console.MaxWrite {
		n = console.MaxWrite
	}
	done := uintptr(0)
	for done < n {
		k, ok := as.UserPage(va+done, false)
		if !ok {
			if done == 0 {
				return -abi.EFAULT
			}
			break
		}
		chunk := mm.PageSize - (va+done)&(mm.PageSize-1)
		if chunk > n-done {
			chunk = n - done
		}
		console.Write(t, k, int(chunk))
		done += chunk
	}
	return int64(done)
}

// Write is write(fd, buf, n).
//
//go:nosplit
func Write(c task.Call) task.Result {
	d := lookupFor(c, c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	switch d.Kind {
	case task.FDConsole:
		return task.Ret(writeConsole(c.Task(), c.Space(), c.Ptr(1), c.Size(2)))
	case task.FDEventfd:
		return task.Ret(eventfdWrite(c, d.Obj, c.Ptr(1), c.Size(2)))
	case task.FDPipeWrite:
		return pipeWrite(c, c.FD(0), d, c.Ptr(1), c.Size(2))
	case task.FDFile:
		return vfs.Transfer(c, d, c.Ptr(1), c.Size(2), -1, true)
	}
	return task.Err(abi.EBADF)
}

// Writev is writev(fd, iov, n): the console only.
//
//go:nosplit
func Writev(c task.Call) task.Result {
	d := lookup(c.Task(), c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	if d.Kind == task.FDFile || d.Kind == task.FDPipeWrite {
		return vectored(c, d, true)
	}
	if d.Kind != task.FDConsole {
		return task.Err(abi.EINVAL)
	}
	return writevConsole(c)
}

// writevConsole is writev on the console: every buffer, up to console.MaxWrite in all.
//
//go:nosplit
func writevConsole(c task.Call) task.Result {
	as := c.Space()
	iov, cnt := c.Ptr(1), c.Arg(2)
	if cnt > 1024 {
		return task.Err(abi.EINVAL)
	}
	var total int64
	for i := uint64(0); i < cnt && total < console.MaxWrite; i++ {
		base, ok1 := as.Read64(iov + uintptr(i)*16)
		n, ok2 := as.Read64(iov + uintptr(i)*16 + 8)
		if !ok1 || !ok2 {
			if total > 0 {
				break
			}
			return task.Err(abi.EFAULT)
		}
		if left := uint64(console.MaxWrite - total); n > left {
			n = left
		}
		r := writeConsole(c.Task(), as, uintptr(base), uintptr(n))
		if r < 0 {
			if total > 0 {
				break
			}
			return task.Ret(r)
		}
		total += r
		if uint64(r) < n {
			break // a short write ends the call, as Linux's writev does
		}
	}
	return task.Ret(total)
}

// Readv is readv(fd, iov, n): files and pipes.
//
//go:nosplit
func Readv(c task.Call) task.Result {
	d := lookup(c.Task(), c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	return vectored(c, d, false)
}

// vectored serves readv and writev on a file or a pipe with the first non-empty buffer of the
// vector: a short transfer, which readv(2) and writev(2) may return and callers loop on.
//
//go:nosplit
func vectored(c task.Call, d *task.FD, write bool) task.Result {
	as := c.Space()
	iov, cnt := c.Ptr(1), c.Arg(2)
	if cnt > 1024 {
		return task.Err(abi.EINVAL)
	}
	for i := uint64(0); i < cnt; i++ {
		base, ok1 := as.Read64(iov + uintptr(i)*16)
		n, ok2 := as.Read64(iov + uintptr(i)*16 + 8)
		if !ok1 || !ok2 {
			return task.Err(abi.EFAULT)
		}
		if n == 0 {
			continue
		}
		switch d.Kind {
		case task.FDFile:
			return vfs.Transfer(c, d, uintptr(base), uintptr(n), -1, write)
		case task.FDPipeWrite:
			if write {
				return pipeWrite(c, c.FD(0), d, uintptr(base), uintptr(n))
			}
		case task.FDPipeRead:
			if !write {
				return pipeRead(c, c.FD(0), d, uintptr(base), uintptr(n))
			}
		}
		return task.Err(abi.EBADF)
	}
	return task.Ret(0)
}

// Read is read(fd, buf, n).
//
//go:nosplit
func Read(c task.Call) task.Result {
	d := lookupFor(c, c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	switch d.Kind {
	case task.FDConsole:
		return task.Ret(0) // no console input yet: end of file
	case task.FDEventfd:
		return task.Ret(eventfdRead(c, d.Obj, c.Ptr(1), c.Size(2)))
	case task.FDPipeRead:
		return pipeRead(c, c.FD(0), d, c.Ptr(1), c.Size(2))
	case task.FDFile:
		return vfs.Transfer(c, d, c.Ptr(1), c.Size(2), -1, false)
	}
	return task.Err(abi.EBADF)
}

// Close is close(fd).
//
//go:nosplit
func Close(c task.Call) task.Result {
	d := c.Task().FDs.Get(c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	if d.Kind == task.FDFile {
		return vfs.Close(c, d)
	}
	closeFD(c.Task(), d)
	return task.Ret(0)
}

// Fstat is fstat(fd, buf): mode, nlink and block size.
//
//go:nosplit
func Fstat(c task.Call) task.Result {
	return fstat(c, c.FD(0), c.Ptr(1), false)
}

// fstat serves fstat, fstatat(AT_EMPTY_PATH) and statx(AT_EMPTY_PATH) on a descriptor: files
// through the server, the console and pipes here.
//
//go:nosplit
func fstat(c task.Call, fd uint64, st uintptr, statx bool) task.Result {
	d := lookup(c.Task(), fd)
	if d == nil {
		return task.Err(abi.EBADF)
	}
	if d.Kind == task.FDFile {
		return vfs.Fstat(c, d, st, statx)
	}
	if statx {
		return statxOther(c, d, st)
	}
	// struct stat is 144 bytes; report a character device for the console.
	as := c.Space()
	if !as.ZeroOut(st, 144) {
		return task.Err(abi.EFAULT)
	}
	mode := uint32(0o600)
	if d.Kind == task.FDConsole {
		mode |= 0o020000
	}
	as.Write32(st+24, mode)
	as.Write64(st+16, 1) // nlink
	as.Write64(st+56, 4096)
	return task.Ret(0)
}

// Newfstatat is fstatat(dirfd, path, buf, flags): with AT_EMPTY_PATH and an empty path (C
// libraries' fstat) on the descriptor, else on the path (package vfs).
//
//go:nosplit
func Newfstatat(c task.Call) task.Result {
	if c.Arg(3)&abi.AT_EMPTY_PATH != 0 && emptyPath(c, c.Ptr(1)) {
		return fstat(c, c.FD(0), c.Ptr(2), false)
	}
	return vfs.Newfstatat(c)
}

// Statx is statx(dirfd, path, flags, mask, buf), as Newfstatat.
//
//go:nosplit
func Statx(c task.Call) task.Result {
	if c.Arg(2)&abi.AT_EMPTY_PATH != 0 && emptyPath(c, c.Ptr(1)) {
		return fstat(c, c.FD(0), c.Ptr(4), true)
	}
	return vfs.Statx(c)
}

// emptyPath reports whether the path argument at va is "" (or NULL, which Linux takes for ""
// with AT_EMPTY_PATH).
//
//go:nosplit
func emptyPath(c task.Call, va uintptr) bool {
	if va == 0 {
		return true
	}
	b, ok := c.Space().Read32(va &^ 3)
	if !ok {
		return false
	}
	return byte(b>>(8*(va&3))) == 0
}

// statxOther is statx of the console or a pipe: its type and block size.
//
//go:nosplit
func statxOther(c task.Call, d *task.FD, st uintptr) task.Result {
	as := c.Space()
	if !as.ZeroOut(st, 256) {
		return task.Err(abi.EFAULT)
	}
	mode := uint32(0o600 | abi.S_IFIFO)
	if d.Kind == task.FDConsole {
		mode = 0o600 | abi.S_IFCHR
	}
	as.Write32(st, 0x7ff)
	as.Write32(st+4, 4096)
	as.Write32(st+16, 1)
	as.Write32(st+28, mode)
	return task.Ret(0)
}

// Fcntl is fcntl(fd, cmd, arg): duplication, descriptor and status flags.
//
//go:nosplit
func Fcntl(c task.Call) task.Result {
	const fDupfd, fDupfdCloexec = 0, 1030
	t := c.Task()
	d := lookup(t, c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	switch c.Arg(1) {
	case fDupfd, fDupfdCloexec:
		if c.Arg(2) >= task.MaxFDs {
			return task.Err(abi.EINVAL)
		}
		for n := c.Arg(2); n < task.MaxFDs; n++ {
			if t.FDs[n].Kind == task.FDNone {
				return dupTo(t, d, n, c.Arg(1) == fDupfdCloexec)
			}
		}
		return task.Err(abi.EMFILE)
	case fGetfd:
		if vfs.Cloexec(d) {
			return task.Ret(1)
		}
		return task.Ret(0)
	case fSetfd:
		vfs.SetCloexec(d, c.Arg(2)&1 != 0)
		return task.Ret(0)
	case fSetfl:
		d.Flags = d.Flags&^oNonblock | uint32(c.Arg(2))&oNonblock
		vfs.SetStatusFlags(d, c.Arg(2))
		return task.Ret(0)
	case fGetfl:
		nb := int64(d.Flags & oNonblock)
		switch d.Kind {
		case task.FDPipeRead:
			return task.Ret(nb)
		case task.FDPipeWrite:
			return task.Ret(nb | 1) // O_WRONLY
		case task.FDEpoll, task.FDEventfd:
			return task.Ret(oRdwr | oNonblock)
		case task.FDFile:
			return task.Ret(vfs.StatusFlags(d))
		}
		return task.Ret(oRdwr | nb)
	}
	return task.Err(abi.EINVAL)
}

// dupTo makes descriptor n of t name what d names (n must be free); FD_CLOEXEC is not
// copied. Epoll instances and eventfds are not shared between descriptors here: EINVAL.
//
//go:nosplit
func dupTo(t *task.Task, d *task.FD, n uint64, cloexec bool) task.Result {
	switch d.Kind {
	case task.FDPipeRead:
		pipes[d.Obj&(maxPipes-1)].readers++
	case task.FDPipeWrite:
		pipes[d.Obj&(maxPipes-1)].writers++
	case task.FDFile:
		vfs.Dup(d.Obj)
	case task.FDConsole:
	default:
		return task.Err(abi.EINVAL)
	}
	nd := &t.FDs[n&(task.MaxFDs-1)]
	*nd = *d
	vfs.SetCloexec(nd, cloexec)
	return task.Ret(int64(n))
}

// Dup is dup(fd): the lowest free descriptor.
//
//go:nosplit
func Dup(c task.Call) task.Result {
	t := c.Task()
	d := lookup(t, c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	for n := uint64(0); n < task.MaxFDs; n++ {
		if t.FDs[n].Kind == task.FDNone {
			return dupTo(t, d, n, false)
		}
	}
	return task.Err(abi.EMFILE)
}

// Dup3 is dup3(old, new, flags) and dup2(old, new) (dup2=true: old == new is allowed): new is
// closed first if open. A file's close then does not wait for the server: its description,
// if that was its last descriptor, is left for Reap.
//
//go:nosplit
func Dup3(c task.Call) task.Result { return dup3(c, c.Arg(2), false) }

// Dup2 is dup2(old, new).
//
//go:nosplit
func Dup2(c task.Call) task.Result { return dup3(c, 0, true) }

//go:nosplit
func dup3(c task.Call, flags uint64, dup2 bool) task.Result {
	t := c.Task()
	d := lookup(t, c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	n := c.FD(1)
	if n >= task.MaxFDs || flags&^abi.O_CLOEXEC != 0 {
		if n >= task.MaxFDs {
			return task.Err(abi.EBADF)
		}
		return task.Err(abi.EINVAL)
	}
	if n == c.FD(0) {
		if dup2 {
			return task.Ret(int64(n))
		}
		return task.Err(abi.EINVAL)
	}
	if d.Kind != task.FDConsole && d.Kind != task.FDPipeRead && d.Kind != task.FDPipeWrite && d.Kind != task.FDFile {
		return task.Err(abi.EINVAL)
	}
	if old := &t.FDs[n]; old.Kind != task.FDNone {
		closeFD(t, old)
	}
	return dupTo(t, d, n, flags&abi.O_CLOEXEC != 0)
}

// fileDesc returns descriptor fd (nil if it is not open) and whether it is a file.
//
//go:nosplit
func fileDesc(c task.Call, fd uint64) (*task.FD, bool) {
	d := lookup(c.Task(), fd)
	return d, d != nil && d.Kind == task.FDFile
}

// Pread64 is pread64(fd, buf, n, offset).
//
//go:nosplit
func Pread64(c task.Call) task.Result { return positioned(c, false) }

// Pwrite64 is pwrite64(fd, buf, n, offset).
//
//go:nosplit
func Pwrite64(c task.Call) task.Result { return positioned(c, true) }

//go:nosplit
func positioned(c task.Call, write bool) task.Result {
	d, isFile := fileDesc(c, c.FD(0))
	switch {
	case d == nil:
		return task.Err(abi.EBADF)
	case !isFile:
		return task.Err(abi.ESPIPE)
	case int64(c.Arg(3)) < 0:
		return task.Err(abi.EINVAL)
	}
	return vfs.Transfer(c, d, c.Ptr(1), c.Size(2), int64(c.Arg(3)), write)
}

// Lseek is lseek(fd, offset, whence).
//
//go:nosplit
func Lseek(c task.Call) task.Result {
	d, isFile := fileDesc(c, c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	if !isFile {
		return task.Err(abi.ESPIPE)
	}
	return vfs.Lseek(c, d, int64(c.Arg(1)), c.Arg(2))
}

// Getdents64 is getdents64(fd, buf, n).
//
//go:nosplit
func Getdents64(c task.Call) task.Result {
	d, isFile := fileDesc(c, c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	if !isFile {
		return task.Err(abi.ENOTDIR)
	}
	return vfs.Getdents(c, d, c.Ptr(1), c.Size(2))
}

// Ftruncate is ftruncate(fd, size).
//
//go:nosplit
func Ftruncate(c task.Call) task.Result {
	d, isFile := fileDesc(c, c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	if !isFile {
		return task.Err(abi.EINVAL)
	}
	return vfs.Ftruncate(c, d, int64(c.Arg(1)))
}

// Fsync is fsync(fd) and fdatasync(fd).
//
//go:nosplit
func Fsync(c task.Call) task.Result {
	d, isFile := fileDesc(c, c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	if !isFile {
		return task.Err(abi.EINVAL)
	}
	return vfs.Fsync(c, d)
}

// Fchdir is fchdir(fd).
//
//go:nosplit
func Fchdir(c task.Call) task.Result {
	d, isFile := fileDesc(c, c.FD(0))
	if d == nil {
		return task.Err(abi.EBADF)
	}
	if !isFile {
		return task.Err(abi.ENOTDIR)
	}
	return vfs.Fchdir(c, d)
}

// Ioctl is ioctl(fd, ...): no descriptor here is a terminal.
//
//go:nosplit
func Ioctl(c task.Call) task.Result {
	if lookup(c.Task(), c.FD(0)) == nil {
		return task.Err(abi.EBADF)
	}
	return task.Err(abi.ENOTTY)
}

// InUse counts the pipes, epoll instances and eventfds in use, the core's and the tasks'.
func InUse() (pipes, epolls, eventfds int64) {
	return pipePool.Used(), epollPool.Used(), eventfdPool.Used()
}
