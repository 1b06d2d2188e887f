package vfs

// The call in flight on each thread: what it asked the server, and what the reply finishes
// when the thread runs again (Finish, called by the dispatcher). A thread waiting for a description's lock (an operation
// on its offset is in flight on another thread) is in flight too: its call then starts over.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/ipc"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// What a reply finishes.
const (
	doneNone = iota
	doneLockWait
	doneOpen
	doneClose
	doneRead
	doneWrite
	doneSeekEnd
	doneStat
	doneStatx
	doneAccess
	doneReadlink
	doneChdir
	doneStatus // mkdir, unlink, rename, truncate, fsync: the server's result is the call's
	doneReaddir
	doneReap // a close for Reap: the call returns 1
)

type pending struct {
	done      uint8
	tid       int32 // the thread it belongs to (a slot reused by a new thread has none)
	file      int32
	gen       uint32
	locked    bool    // it holds file's lock
	offset    bool    // the reply moves the description's offset
	fd        int32   // open: the descriptor flags
	buf       uintptr // where the result goes in the task (stat buffers)
	arg       int64
	view      Path      // open, chdir: the path in the task's view
	paths     int       // how many path arguments Send resolves: 0, 1 or 2 (rename)
	dirfd     [2]uint64 // ... relative to these directories
	va        [2]uintptr
	write     bool        // ... for writing
	what      uint8       // ... for this (the audit line's word)
	req       ipc.Request // the request, until the dispatcher sends it
	noServer  int         // the errno when nobody serves the file system
	wire      [2 * (abi.FSPathMax + 1)]byte
	wireBytes uintptr
}

var inFlight sched.PerThread[pending]

// expected is set when the system has a file-system server (ExpectServer): while it is
// absent (restarting), a path is EIO rather than ENOENT.
var expected bool

// ExpectServer says the system runs a file-system server (goroutine context, at boot).
func ExpectServer() { expected = true }

// fsName is the server's endpoint name (static data: valid before the runtime starts).
var fsName = abi.Name{Len: 2, Bytes: [abi.NameMax]byte{'f', 's'}}

//go:nosplit
func begin(c task.Call, done uint8) *pending {
	p := inFlight.Of(c.Slot)
	p.done, p.tid, p.locked, p.offset, p.wireBytes = done, c.Thread().TID(), false, false, 0
	p.paths = 0
	return p
}

// putPath copies path q into the request's wire slot k (0 or 1).
//
//go:nosplit
func (p *pending) putPath(k int, q *Path) {
	base := k * (abi.FSPathMax + 1)
	for i := 0; i <= q.n; i++ {
		p.wire[base+i] = q.b[i]
	}
	p.wireBytes = uintptr(base + q.n + 1)
}

// Finish finishes the calling thread's system call when its wait ended and the call is the
// VFS's (the dispatcher calls it before running a handler again, from its shallower stack):
// a reply to finish — the result —, or the end of a wait for a description's lock —
// task.Restart: the handler runs afresh —; task.Rerun when the call is not the VFS's.
//
//go:nosplit
func Finish(c task.Call) task.Result {
	p := inFlight.Of(c.Slot)
	if p.done == doneNone || p.tid != c.Thread().TID() {
		return task.Result{Next: task.Rerun}
	}
	if p.done == doneLockWait {
		p.done = doneNone
		return task.Result{Next: task.Restart}
	}
	return finish(c, p)
}

// forward has the dispatcher send request m (with the pending call's paths) to the server on
// the calling thread (Send); the call runs again with the reply.
//
//go:nosplit
//go:noinline
func forward(c task.Call, p *pending, m *abi.Message, noServer int) task.Result {
	p.req.Name, p.req.Msg = fsName, *m
	p.req.Extra, p.req.N = 0, 0
	p.noServer = noServer
	return task.Result{Next: task.Forward}
}

// Send sends the calling thread's prepared request (the dispatcher calls it for a handler
// that returned task.Forward): without a server, the call fails with ENOENT for a path, EIO
// for a descriptor whose server is gone.
//
//go:nosplit
func Send(c task.Call) task.Result {
	p := inFlight.Of(c.Slot)
	if p.paths > 0 {
		if e := resolvePaths(c, p); e != 0 {
			abort(p)
			return task.Err(e)
		}
		p.req.Extra, p.req.N = arch.Addr(&p.wire[0]), p.wireBytes
	}
	r, ok := ipc.KernelCall(c, &p.req)
	if !ok {
		abort(p)
		if p.noServer == abi.ENOENT && expected {
			return task.Err(abi.EIO) // the server is restarting: the file may well exist
		}
		return task.Err(p.noServer)
	}
	if r.Next == task.Return {
		abort(p)
	}
	return r
}

// abort ends a pending call that never reached the server.
//
//go:nosplit
//go:noinline
func abort(p *pending) {
	if p.locked {
		unlock(p.file)
	}
	switch p.done {
	case doneOpen:
		freeFile(p.file)
	case doneClose, doneReap:
		finishClose(p) // no server: nothing holds the handle any more
	}
	p.done = doneNone
}

// server is the handle of the server's endpoint now (0: none), which a description records
// when it is opened: one opened under a server that has since restarted is stale (EIO).
//
//go:nosplit
func server() int64 { return ipc.Current(&fsName) }

// lock takes description i's offset lock for the calling thread, or puts it to wait for it
// (ok=false: the call starts over when the holder is done).
//
//go:nosplit
func lock(c task.Call, p *pending, i int32) (task.Result, bool) {
	f := file(i)
	if f.busy {
		p.done = doneLockWait
		sched.BlockQuiet(&f.waiters, sched.ResumeAlways)
		return task.Result{Next: task.Wait}, false
	}
	f.busy = true
	p.locked = true
	return task.Result{}, true
}

//go:nosplit
func unlock(i int32) {
	f := file(i)
	f.busy = false
	f.waiters.WakeAll()
}

//go:nosplit
func ipcReply(c task.Call) (*abi.Message, int64) { return ipc.KernelReply(c) }

// What a path is resolved for, in audit lines.
const (
	whatOpen = iota
	whatStat
	whatAccess
	whatReadlink
	whatMkdir
	whatUnlink
	whatRmdir
	whatRename
	whatChdir
)

var whats = [...]string{"open", "stat", "access", "readlink", "mkdir", "unlink", "rmdir", "rename", "chdir"}

// resolvePaths resolves the pending call's paths, checks them against the task's grants and
// puts them in the request; it returns an errno.
//
//go:nosplit
func resolvePaths(c task.Call, p *pending) int {
	view := &p.view
	for k := 0; k < p.paths && k < 2; k++ {
		if k == 1 {
			view = &scratchView
		}
		if e := resolve(c, p.dirfd[k], p.va[k], view, &srvPath); e != 0 {
			return e
		}
		if srvPath.under(&procPath) || srvPath.under(&sysPath) {
			return abi.ENOENT // no such file systems here (the Go runtime looks, and copes)
		}
		if !allowed(c.Task(), whats[p.what%uint8(len(whats))], &srvPath, p.write) {
			return abi.EACCES
		}
		p.putPath(k, &srvPath)
	}
	return 0
}

// procPath and sysPath are Linux's virtual file systems, which SimpleOS does not have.
var (
	procPath = Path{n: 5, b: [abi.FSPathMax + 1]byte{'/', 'p', 'r', 'o', 'c'}}
	sysPath  = Path{n: 4, b: [abi.FSPathMax + 1]byte{'/', 's', 'y', 's'}}
)

// scratchView holds rename's second path in the task's view (one system call at a time).
var scratchView Path
