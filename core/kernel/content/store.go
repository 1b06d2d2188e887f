// Package content is the content store: the data files security modules load (rules,
// signatures, channel files), kept by the core so that a module cannot lose them by crashing
// and the supervisor can roll them back. The launcher passes each file as a Multiboot module
// at boot ("the disk"); every change is recorded on the core's protocol channel, which the
// launcher applies to its copy, so the next boot starts from what this one left — which is
// how a bad file survives a reboot and makes a boot loop.
//
// A module reads and writes the content files its policy names (content PATH rollback PATH);
// the core (ring 0) may use any. Each file keeps its current bytes and its last-known-good
// copy. Reads are served here, in trap context. A write is decided by the core's content
// service in goroutine context (core/content.go): the writer's bytes are staged here, the
// writer waits, and the service fingerprints them (SHA-256 of their canonical form), refuses
// quarantined ones (EKEYREJECTED) or commits them (FinishWrite) and completes the write. The
// supervisor confirms new bytes once the module has run with them for a while, rolls them
// back to last-known-good when the module crashes first, and quarantines their fingerprint
// after repeated crashes.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (the API in api.go runs
// in goroutine context, interrupts off around every access to the store).
package content

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const (
	maxFiles = 4
	maxSize  = 64 << 10
)

type file struct {
	used      bool
	name      abi.Name
	cur, lkg  [maxSize]byte
	curLen    int
	lkgLen    int
	curHash   [32]byte // fingerprints, set by the core's content service
	lkgHash   [32]byte
	confirmed bool  // cur is proven (it came from disk at boot, or the supervisor confirmed it)
	writtenAt int64 // when cur was written, monotonic ns
	writer    int32 // pid that wrote cur, 0 = the boot disk
	gen       uint64
}

var files [maxFiles]file

// The one write being decided: staged by content_write, taken by the core's content service
// (NextWrite), completed by it (FinishWrite).
var stage struct {
	busy, taken bool
	seq         uint64 // of the write in the stage
	file        int
	n           int
	writer      int32 // thread slot of the writer
	writerTask  int32 // and its task's slot
	pid         int32
	orphan      bool        // the writer's task ended while the service held the write
	free        sched.Queue // writers waiting for the stage
	deciding    sched.Queue // the writer waiting for the decision
	service     sched.Queue // the content service, waiting for a write (wait_event)
	data        [maxSize]byte
}

//go:nosplit
func find(name *abi.Name) int {
	for i := range files {
		f := &files[i]
		if f.used && f.name.Equal(name) {
			return i
		}
	}
	return -1
}

// fileArg reads and checks the name argument of a content call: the file's index, or -errno.
//
//go:nosplit
func fileArg(c task.Call, what string) int {
	var name abi.Name
	if !task.ReadName(c.Space(), c.Ptr(0), c.Size(1), &name) {
		return -abi.EINVAL
	}
	if !c.Task().IsCore() && !c.Task().Grants.Content.Has(&name) {
		console.Deny(c.Task(), what, &name, "content")
		return -abi.EPERM
	}
	if i := find(&name); i >= 0 {
		return i
	}
	return -abi.ENOENT
}

// SysRead is content_read(name, len, buf, size): it copies up to size bytes of the current
// content of a file to buf and returns the file's length (larger than size: call again with
// more room).
//
//go:nosplit
func SysRead(c task.Call) task.Result {
	i := fileArg(c, "read content")
	if i < 0 {
		return task.Ret(int64(i))
	}
	f := &files[i&(maxFiles-1)]
	size := c.Size(3)
	if size > uintptr(f.curLen) {
		size = uintptr(f.curLen)
	}
	if size > 0 && !c.Space().CopyOut(c.Ptr(2), arch.Addr(&f.cur[0]), size) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(int64(f.curLen))
}

// SysWrite is content_write(name, len, buf, n): it stages n bytes at buf as the new content of
// a file and waits for the core's content service to decide them: 0, or -EKEYREJECTED for
// quarantined bytes. The waits ignore signals: the decision is made either way, and the
// writer learns it.
//
//go:nosplit
func SysWrite(c task.Call) task.Result {
	i := fileArg(c, "write content")
	if i < 0 {
		return task.Ret(int64(i))
	}
	size := c.Size(3)
	if size > maxSize {
		return task.Err(abi.EFBIG)
	}
	if stage.busy { // another write is being decided: wait for the stage, then try again
		sched.BlockQuiet(&stage.free, sched.ResumeRetry)
		return task.Result{Next: task.Wait}
	}
	// Copy in first: a bad pointer changes nothing.
	if size > 0 && !c.Space().CopyIn(arch.Addr(&stage.data[0]), c.Ptr(2), size) {
		return task.Err(abi.EFAULT)
	}
	stage.busy, stage.taken, stage.orphan = true, false, false
	stage.seq++
	stage.file, stage.n, stage.writer, stage.writerTask, stage.pid = i, int(size), int32(c.Slot), c.Task().Slot(), c.Task().PID()
	stage.service.WakeAll()
	sched.BlockQuiet(&stage.deciding, sched.ResumeResult) // FinishWrite wakes it with the result
	return task.Result{Next: task.Wait}
}

// Waiting reports whether a write waits for the content service, and the queue the service
// waits on (wait_event).
//
//go:nosplit
func Waiting() (bool, *sched.Queue) { return stage.busy && !stage.taken, &stage.service }

// TaskEnded lets go of a write whose writer's task t is ending: cancelled if the service has
// not taken it, else left for the service to finish on its own.
//
//go:nosplit
func TaskEnded(t *task.Task) {
	if !stage.busy || stage.writerTask != t.Slot() {
		return
	}
	if stage.taken {
		stage.orphan = true
		return
	}
	stage.busy = false
	stage.free.WakeAll()
}
