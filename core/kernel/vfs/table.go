package vfs

// Open file descriptions: what a descriptor of kind task.FDFile names (its Obj and Gen). One
// description may be shared by several descriptors (dup): they share its offset and status
// flags, and the server's handle is closed when the last one goes. The table is a pool
// (mm.Pool): each task is promised a few and may hold up to a limit, and the core keeps some.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const (
	maxOpen                            = 256
	coreOpen, taskOpenMin, taskOpenMax = 16, 4, 64
	flagCloexec                        = 1 << 31 // in task.FD.Flags: close-on-exec (F_GETFD)
	openFlagsKept                      = abi.O_ACCMODE | abi.O_APPEND | abi.O_NONBLOCK | abi.O_DIRECTORY
)

type openFile struct {
	used    bool
	orphan  bool   // no descriptor left: its server handle waits to be closed (Reap)
	gen     uint32 // changes every time the slot is given to a new description
	refs    int32  // descriptors naming it
	owner   int32  // task slot whose share it counts against
	srv     int64  // the server's endpoint handle when it was opened: a restarted server forgot it
	handle  uint64 // the server's handle (valid while srv is the server's endpoint handle)
	offset  int64
	flags   uint32      // access mode, O_APPEND, O_NONBLOCK, O_DIRECTORY (it is a directory)
	busy    bool        // an operation on its offset is in flight (Linux's f_pos lock)
	waiters sched.Queue // threads waiting for it
	path    Path        // in the owner's view: a directory's path resolves names relative to it
}

var (
	open     [maxOpen]openFile
	openPool = mm.Pool{Total: maxOpen, Keep: coreOpen}
	shares   task.Attached[mm.Share]
)

//go:nosplit
func file(i int32) *openFile { return &open[int(i)&(maxOpen-1)] }

//go:nosplit
func (f *openFile) isDir() bool { return f.flags&abi.O_DIRECTORY != 0 }

//go:nosplit
func (f *openFile) readable() bool { return f.flags&abi.O_ACCMODE != abi.O_WRONLY }

//go:nosplit
func (f *openFile) writable() bool { return f.flags&abi.O_ACCMODE != 0 }

//go:nosplit
func share(t *task.Task) *mm.Share {
	if t.IsCore() {
		return nil
	}
	return shares.Of(t)
}

// Admit promises task t its minimum of open files (its start hook; interrupts off).
//
//go:nosplit
func Admit(t *task.Task) bool {
	s := shares.Of(t)
	*s = mm.Share{}
	return openPool.Admit(s, taskOpenMin, taskOpenMax)
}

// TaskEnded withdraws t's reservation (its teardown hook, after its descriptors are closed).
//
//go:nosplit
func TaskEnded(t *task.Task) { openPool.Release(shares.Of(t)) }

// newFile takes a free description for t, or returns -1 (ENFILE/EMFILE: t's share is used).
//
//go:nosplit
func newFile(t *task.Task) int32 {
	for i := range open {
		if !open[i].used {
			if !openPool.Take(share(t)) {
				return -1
			}
			f := &open[i]
			g := f.gen + 1
			*f = openFile{used: true, gen: g, refs: 1, owner: t.Slot()}
			return int32(i)
		}
	}
	return -1
}

// freeFile gives description i back.
//
//go:nosplit
func freeFile(i int32) {
	f := file(i)
	if !f.used {
		return
	}
	f.used, f.orphan, f.busy = false, false, false
	f.waiters.WakeAll()
	openPool.Give(share(task.Get(f.owner)))
}

// Gen is the generation of description i, for descriptors (package files' gen).
//
//go:nosplit
func Gen(i int32) uint32 { return file(i).gen }

// Dup counts one more descriptor naming description i.
//
//go:nosplit
func Dup(i int32) { file(i).refs++ }

// Release drops a descriptor naming description i (close, or its task ended). The last one
// leaves the description an orphan: its server handle is closed by the next Reap, since a
// task's teardown cannot wait for the server.
//
//go:nosplit
func Release(i int32) {
	f := file(i)
	if !f.used {
		return
	}
	f.refs--
	if f.refs > 0 {
		return
	}
	if f.srv == 0 || f.srv != server() {
		freeFile(i)
		return
	}
	f.orphan = true
	orphans++
}

// orphans counts the orphan descriptions (Reap's work).
var orphans int
