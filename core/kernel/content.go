package kernel

// The content store: the data files security modules load (rules, signatures, channel files),
// kept by the core so that a module cannot lose them by crashing and the supervisor can roll
// them back. The launcher passes each file as a Multiboot module at boot ("the disk"); every
// change is recorded on the core's protocol channel (ProtocolLine), which the launcher applies
// to its copy, so the next boot starts from what this one left — which is how a bad file
// survives a reboot and makes a boot loop.
//
// A module reads and writes the content files its policy names (content PATH rollback PATH);
// the core (ring 0) may use any. Each file keeps its current bytes and its last-known-good
// copy. Reads are served here, in trap context. A write is decided by the core's content
// service in goroutine context (core/content.go): the writer's bytes are staged here, the
// writer waits, and the service fingerprints them (SHA-256 of their canonical form), refuses
// quarantined ones (EKEYREJECTED) or commits them (CommitContent) and completes the write.
// The supervisor confirms new bytes once the module has run with them for a while, rolls them
// back to last-known-good when the module crashes first, and quarantines their fingerprint
// after repeated crashes.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (the API in
// content_api.go runs in goroutine context).

import (
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

const (
	maxContentFiles = 4
	maxContentSize  = 64 << 10
)

type contentFile struct {
	used      bool
	name      abi.Name
	cur, lkg  [maxContentSize]byte
	curLen    int
	lkgLen    int
	curHash   [32]byte // fingerprints, set by the core's content service
	lkgHash   [32]byte
	confirmed bool  // cur is proven (it came from disk at boot, or the supervisor confirmed it)
	writtenAt int64 // when cur was written, monotonic ns
	writer    int32 // pid that wrote cur, 0 = the boot disk
	gen       uint64
}

var contentFiles [maxContentFiles]contentFile

// contentAccess[p] lists the content files process p's policy module names.
var contentAccess [maxProcs]nameList

// The one write being decided: staged by content_write, taken by the core's content service
// (NextContentWrite), completed by it (FinishContentWrite).
var contentReq struct {
	busy, taken, done bool
	seq               uint64 // of the write in the stage
	file              int
	n                 int
	writer            int32 // thread slot of the writer
	pid               int32
	orphan            bool // the writer's task ended while the service held the write
	result            int64
	data              [maxContentSize]byte
}

//go:nosplit
func contentFind(name *abi.Name) int {
	for i := range contentFiles {
		f := &contentFiles[i]
		if f.used && f.name.Equal(name) {
			return i
		}
	}
	return -1
}

// contentAllowed reports whether the calling process may use the named file.
//
//go:nosplit
func contentAllowed(name *abi.Name) bool {
	p := cur().proc & (maxProcs - 1)
	return procs[p].ring == 0 || contentAccess[p].has(name)
}

// contentFileArg reads and checks the name argument of a content call: the file's index, or
// -errno.
//
//go:nosplit
func contentFileArg(tf *arch.TrapFrame, what string) int {
	var name abi.Name
	if !readName(uintptr(tf.RDI), uintptr(tf.RSI), &name) {
		return -abi.EINVAL
	}
	if !contentAllowed(&name) {
		audit(what, &name, "content")
		return -abi.EPERM
	}
	if i := contentFind(&name); i >= 0 {
		return i
	}
	return -abi.ENOENT
}

// sysContentRead(name, len, buf, size) copies up to size bytes of the current content of a
// file to buf and returns the file's length (larger than size: call again with more room).
//
//go:nosplit
func sysContentRead(tf *arch.TrapFrame) int64 {
	i := contentFileArg(tf, "read content")
	if i < 0 {
		return int64(i)
	}
	f := &contentFiles[i&(maxContentFiles-1)]
	size := uintptr(tf.R10)
	if size > uintptr(f.curLen) {
		size = uintptr(f.curLen)
	}
	if size > 0 && !curSpace().CopyOut(uintptr(tf.RDX), uintptr(unsafe.Pointer(&f.cur[0])), size) {
		return -abi.EFAULT
	}
	return int64(f.curLen)
}

// sysContentWrite(name, len, buf, n) stages n bytes at buf as the new content of a file and
// waits for the core's content service to decide them: 0, or -EKEYREJECTED for quarantined
// bytes. The wait ignores signals: the decision is made either way, and the writer learns it.
//
//go:nosplit
func sysContentWrite(tf *arch.TrapFrame) int64 {
	i := contentFileArg(tf, "write content")
	if i < 0 {
		return int64(i)
	}
	size := uintptr(tf.R10)
	if size > maxContentSize {
		return -abi.EFBIG
	}
	r := &contentReq
	for r.busy {
		blockQuiet(waitContent, 0) // another write is being decided
	}
	// Copy in first: a bad pointer changes nothing.
	if size > 0 && !curSpace().CopyIn(uintptr(unsafe.Pointer(&r.data[0])), uintptr(tf.RDX), size) {
		return -abi.EFAULT
	}
	r.busy, r.taken, r.done = true, false, false
	r.seq++
	r.file, r.n, r.writer, r.pid = i, int(size), int32(current), curProc().pid
	wakeCore(abi.WaitContentWrite)
	seq := r.seq
	for !(r.done && r.seq == seq) {
		blockQuiet(waitContent, uintptr(seq))
	}
	result := r.result
	r.busy = false
	wakeAll(waitContent)
	return result
}

// contentWriterEnded lets go of a write whose writer's task p is ending: cancelled if the
// service has not taken it, else left for the service to finish on its own.
//
//go:nosplit
func contentWriterEnded(p int) {
	r := &contentReq
	if !r.busy || int(threads[r.writer&(maxThreads-1)].proc) != p {
		return
	}
	if r.taken && !r.done {
		r.orphan = true
		return
	}
	r.busy = false
	wakeAll(waitContent)
}

// blockQuiet blocks the current thread on (on, addr) whatever signals are pending: for waits
// that must finish (a signal is delivered when the call returns).
//
//go:nosplit
func blockQuiet(on uint32, addr uintptr) {
	t := cur()
	t.state, t.waitOn, t.waitAddr, t.deadline, t.wakeResult = threadBlocked, on, addr, 0, 0
	schedule()
}

// wakeAll wakes every thread blocked on a wait kind.
//
//go:nosplit
func wakeAll(on uint32) {
	for i := 1; i < maxThreads; i++ {
		if threads[i].state == threadBlocked && threads[i].waitOn == on {
			wake(i, 0)
		}
	}
}

// sysInjectReport(outcome) records what a fault injected into the calling task did (package
// inject/fault): 1 handled, 2 breach. The core's campaign runner reads it.
//
//go:nosplit
func sysInjectReport(tf *arch.TrapFrame) int64 {
	if tf.RDI != abi.InjectHandled && tf.RDI != abi.InjectBreach {
		return -abi.EINVAL
	}
	injectReports[cur().proc&(maxProcs-1)] = tf.RDI
	return 0
}

var injectReports [maxProcs]uint64

// fuzzReports[p] is what the fuzzer in task p last reported: its batch, its calls so far and
// its findings so far (a task reports only on itself; the core's fuzz runner reads them).
var fuzzReports [maxProcs]struct{ batch, calls, findings, reports uint64 }

// sysFuzzReport(batch, calls, findings) records a fuzzer's progress (package inject/fuzz); the
// core's fuzz runner checks its canaries whenever a batch completes.
//
//go:nosplit
func sysFuzzReport(tf *arch.TrapFrame) int64 {
	r := &fuzzReports[cur().proc&(maxProcs-1)]
	r.batch, r.calls, r.findings = tf.RDI, tf.RSI, tf.RDX
	r.reports++
	return 0
}
