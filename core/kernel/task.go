package kernel

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// Tasks: Go programs (or any static ELF that keeps to the supported system calls) running in
// ring 1, 2 or 3, each a process with its own address space. A task's address space maps its
// own memory in the lower half and only the entry area (entry.go) in the upper half: none of
// the core's memory. The core reaches task memory through its direct map after checking every
// address against the task's regions (uaccess.go).
//
// When a task ends — it exits, its runtime dies, a fault goes unhandled, or the supervisor
// kills it — endTask tears it down completely (threads, every frame, its files) and queues an
// event for the supervisor, which runs in the core's Go program (task_api.go).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// Why a task ended.
const (
	endExited   = 1 // exit_group(code)
	endFaulted  = 2 // an exception its runtime did not handle (or died of): vector, rip, addr
	endPanicked = 3 // its Go runtime died of a panic or fatal error (no fault)
	endSignaled = 4 // a signal whose default action ends the process
	endKilled   = 5 // killed by the supervisor (watchdog, request)
)

const noVector = 0xffff

// Why the kernel ended a task, beyond the reason (see WhyText in task_api.go).
const (
	whyNone       = iota
	whyMemory     // memory quota exceeded or memory exhausted
	whyNoHandler  // fault with no handler (or blocked)
	whySignal     // killed by a signal's default action
	whyBadFrame   // could not write or read a signal frame
	whySupervisor // killed by the supervisor
	whyNoMemory   // beyond its reservation, no frame was left that it may take
)

// taskEnd is what the supervisor learns about a task's end.
type taskEnd struct {
	pid        int32
	slot       int32
	reason     int32
	code       int64
	vector     uint64
	rip, addr  uint64
	timeNs     int64
	cpuNs      int64
	startNs    int64
	outputNs   int64
	why        int32 // why* code
	msg        [160]byte
	msgLen     int
	fn         [96]byte
	fnLen      int
	framesFree uint64
}

const maxEvents = 64

var events struct {
	ring       [maxEvents]taskEnd
	head, tail uint64 // head: next to read; tail: next to write
	dropped    uint64
}

var nextPID int32 = 2

// Why newTask could not make a task.
const (
	newTaskOK       = iota
	newTaskNoSlot   // every process slot is taken
	newTaskNoMemory // the frame mm.Pool cannot promise its memory reservation
	newTaskNoTables // the thread, pipe, epoll or eventfd mm.Pool cannot promise its reservation
)

// newTask claims a process slot for a task on ring, has every pool promise it its
// reservation (mm/pool.go) — memReserve of its memLimit frames, and the thread, pipe, epoll and
// eventfd minimums — and builds its address space. The caller holds interrupts off.
//
//go:nosplit
func newTask(ring int, name string, memReserve, memLimit uint64) (int, int) {
	reapZombies()
	p := 1
	for ; p < maxProcs && (procs[p].live || procBusy(p)); p++ {
	}
	if p >= maxProcs {
		return 0, newTaskNoSlot
	}
	pr := &procs[p&(maxProcs-1)]
	*pr = Process{}
	if !admitTables(pr) {
		return 0, newTaskNoTables
	}
	if _, ok := mm.NewSpace(int32(p), ring, memReserve, memLimit); !ok {
		releaseTables(pr)
		return 0, newTaskNoMemory
	}
	pr.pid = nextPID
	nextPID++
	pr.live = true
	pr.ring = int32(ring)
	pr.space = int32(p)
	pr.name.Len = uint8(copy(pr.name.Bytes[:], name))
	pr.rng.seed()
	pr.startNs = arch.Nanotime()
	for i := 0; i < 3; i++ {
		pr.fds[i] = fileDesc{kind: fdConsole}
	}
	return p, newTaskOK
}

// admitTables has the thread, pipe, epoll and eventfd pools promise a new task its minimum;
// all or none.
//
//go:nosplit
func admitTables(pr *Process) bool {
	if !threadPool.Admit(&pr.threads, taskThreadsMin, taskThreadsMax) {
		return false
	}
	if !pipePool.Admit(&pr.pipes, taskPipesMin, taskPipesMax) {
		threadPool.Release(&pr.threads)
		return false
	}
	if !epollPool.Admit(&pr.epolls, taskEpollsMin, taskEpollsMax) {
		pipePool.Release(&pr.pipes)
		threadPool.Release(&pr.threads)
		return false
	}
	if !eventfdPool.Admit(&pr.eventfds, taskEventfdsMin, taskEventfdsMax) {
		epollPool.Release(&pr.epolls)
		pipePool.Release(&pr.pipes)
		threadPool.Release(&pr.threads)
		return false
	}
	return true
}

// releaseTables withdraws what admitTables promised, once the task has given back every entry.
//
//go:nosplit
func releaseTables(pr *Process) {
	eventfdPool.Release(&pr.eventfds)
	epollPool.Release(&pr.epolls)
	pipePool.Release(&pr.pipes)
	threadPool.Release(&pr.threads)
}

// procBusy reports whether some thread of process p has not been reaped yet (a zombie still
// running its last instructions cannot lose its slot).
//
//go:nosplit
func procBusy(p int) bool {
	for i := 1; i < maxThreads; i++ {
		if int(threads[i].proc) == p && threads[i].state != threadFree {
			return true
		}
	}
	return false
}

// startTaskThread creates process p's first thread at rip with stack pointer rsp.
//
//go:nosplit
func startTaskThread(p int, rip, rsp uint64) bool {
	t, ok := newThread(p)
	if !ok {
		return false
	}
	tf := frameOf(t)
	tf.RIP, tf.RSP = rip, rsp
	tf.CS, tf.SS = arch.SelectorsForRing(int(procs[p&(maxProcs-1)].ring))
	tf.RFLAGS = 0x202 // IF; IOPL 0: ports only through the I/O bitmap
	thread(t).fsBase = 0
	thread(t).state = threadRunnable
	return true
}

// taskThreads counts process p's live threads.
//
//go:nosplit
func taskThreads(p int) int {
	n := 0
	for i := 1; i < maxThreads; i++ {
		if int(threads[i].proc) == p && (threads[i].state == threadRunnable || threads[i].state == threadBlocked) {
			n++
		}
	}
	return n
}

// endTask records why task p ends, in place in its process slot (a taskEnd is too big for
// the nosplit stack), and marks it ending. Its teardown — every thread, every frame, every
// descriptor — runs in finishEndedTasks, at the top of the trap path (handleTrap) or of the
// supervisor's call, never deep inside the call chain that ended it. The first end recorded
// is the one reported.
//
//go:nosplit
func endTask(p int, reason int32, code int64, vector, rip, addr uint64, why int32) {
	pr := &procs[p&(maxProcs-1)]
	if !pr.live || pr.ending {
		return
	}
	pr.ending = true
	endsPending++
	e := &pr.end
	*e = taskEnd{}
	e.pid, e.slot, e.reason, e.code = pr.pid, int32(p), reason, code
	e.vector, e.rip, e.addr, e.why = vector, rip, addr, why
	e.timeNs = arch.Nanotime()
	e.cpuNs = procCPU(p)
	e.startNs = pr.startNs
	e.outputNs = pr.outputNs
	e.msgLen = copy(e.msg[:], prefix(pr.crash.msg[:], pr.crash.msgLen))
	e.fnLen = copy(e.fn[:], prefix(pr.crash.fn[:], pr.crash.fnLen))
}

// endsPending counts tasks marked ending and not yet torn down.
var endsPending int

// finishEndedTasks tears down every task marked ending and queues its end for the
// supervisor. A thread of such a task never runs again: the caller schedules away from it.
//
//go:nosplit
func finishEndedTasks() {
	for p := 1; p < maxProcs && endsPending > 0; p++ {
		pr := &procs[p]
		if !pr.ending {
			continue
		}
		teardownTask(p)
		pr.ending = false
		endsPending--
		if events.tail-events.head == maxEvents {
			events.dropped++
			events.head++
		}
		e := &events.ring[events.tail%maxEvents]
		*e = pr.end
		e.framesFree = mm.Frames().Free
		events.tail++
	}
	wakeCore(abi.WaitTaskEnded)
}

// wakeCore wakes the core's threads waiting for kind.
//
//go:nosplit
func wakeCore(kind uintptr) {
	for i := 1; i < maxThreads; i++ {
		if t := &threads[i]; t.state == threadBlocked && t.waitOn == waitEvent && t.waitAddr == kind {
			wake(i, 0)
		}
	}
}

// teardownTask ends every thread of task p and frees its memory, files and shares of the
// kernel's tables.
//
//go:nosplit
func teardownTask(p int) {
	pr := &procs[p&(maxProcs-1)]
	ipcProcessEnded(p) // while its threads still show what they wait for
	irqsReleased(p)
	consoleDriverEnded(p)
	eventsEnded(p)
	filtersEnded(p)
	contentWriterEnded(p)
	for i := 1; i < maxThreads; i++ {
		t := &threads[i]
		if int(t.proc) == p && t.state != threadFree {
			endThread(i)
		}
	}
	for i := range pr.fds {
		if k := pr.fds[i].kind; k == fdPipeRead || k == fdPipeWrite {
			closePipeEnd(&pr.fds[i])
		}
		pr.fds[i] = fileDesc{}
	}
	for i := range epolls {
		if epolls[i].used && int(epolls[i].owner) == p {
			freeEpoll(int32(i))
		}
	}
	for i := range eventfds {
		if eventfds[i].used && int(eventfds[i].owner) == p {
			freeEventfd(int32(i))
		}
	}
	releaseTables(pr)
	mm.Space(p & (maxProcs - 1)).Destroy()
	pr.live = false
}

// exitTask handles exit_group from a task: a Go runtime that printed a panic and exits
// non-zero died of it (of the fault it took, if it reported a signal).
//
//go:nosplit
func exitTask(status int) {
	p := int(cur().proc)
	w := &procs[p&(maxProcs-1)].crash
	switch {
	case status != 0 && w.msgLen > 0 && w.fromFault():
		endTask(p, endFaulted, int64(status), w.faultVector, w.faultRIP, w.faultAddr, whyNone)
	case status != 0 && w.msgLen > 0:
		endTask(p, endPanicked, int64(status), noVector, 0, 0, whyNone)
	default:
		endTask(p, endExited, int64(status), noVector, 0, 0, whyNone)
	}
}

// sysWaitEvent(kind) blocks one of the core's goroutines until there is something of kind to
// do: a task event queued (coreWaitTasks) or a content write to decide (coreWaitContent).
// Tasks may not call it.
//
//go:nosplit
func sysWaitEvent(tf *arch.TrapFrame) int64 {
	if cur().proc != coreProc {
		return -abi.EPERM
	}
	kind := uintptr(tf.RDI)
	for {
		switch {
		case kind == abi.WaitTaskEnded && events.head != events.tail,
			kind == abi.WaitContentWrite && contentReq.busy && !contentReq.taken:
			return 0
		case kind > abi.WaitContentWrite:
			return -abi.EINVAL
		}
		if r := block(waitEvent, kind, 0); r == -abi.EINTR {
			return r
		}
	}
}

// sysHeartbeat records that the calling task is alive.
//
//go:nosplit
func sysHeartbeat(tf *arch.TrapFrame) int64 {
	curProc().lastBeat = arch.Nanotime()
	return 0
}

// addTaskRegion records a demand-zero region (the stack) in task p's space.
//
//go:nosplit
func addTaskRegion(p int, start, end uintptr, prot uint32) bool {
	return mm.Space(p&(maxProcs-1)).AddRegion(start, end, prot, mm.KindAnon)
}

// copyToTask copies n bytes from kernel address src to task p's address va.
//
//go:nosplit
func copyToTask(p int, va, src, n uintptr) bool {
	return mm.Space(p&(maxProcs-1)).CopyOut(va, src, n)
}
