package kernel

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

// maxTaskThreads caps the threads of one task: a thread bomb gets EAGAIN from clone.
const maxTaskThreads = 48

// newTask claims a process slot for a task on ring and builds its address space. The caller
// holds interrupts off.
//
//go:nosplit
func newTask(ring int, name string, memQuotaPages uint64) (int, bool) {
	reapZombies()
	for p := 1; p < maxProcs; p++ {
		if procs[p].live || procBusy(p) {
			continue
		}
		root, ok := allocFrame()
		if !ok {
			return 0, false
		}
		as := &spaces[p]
		*as = AddressSpace{}
		as.root = pageTable(root)
		as.user = ring == 3
		as.quota = memQuotaPages
		code, stack := selectorsForRing(ring)
		if !as.buildEntryArea(false, code, stack) {
			as.Destroy()
			return 0, false
		}
		pr := &procs[p]
		*pr = Process{}
		pr.pid = nextPID
		nextPID++
		pr.live = true
		pr.ring = int32(ring)
		pr.space = int32(p)
		pr.nameLen = copy(pr.name[:], name)
		pr.memQuota = memQuotaPages
		pr.maxThreads = maxTaskThreads
		pr.startNs = nanotime()
		for i := 0; i < 3; i++ {
			pr.fds[i] = fileDesc{kind: fdConsole}
		}
		return p, true
	}
	return 0, false
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
	tf.CS, tf.SS = selectorsForRing(int(procs[p].ring))
	tf.RFLAGS = 0x202 // IF; IOPL 0: ports only through the I/O bitmap
	threads[t].fsBase = 0
	threads[t].state = threadRunnable
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

// endTask tears task p down and queues an event for the supervisor (written in place in the
// event ring: a taskEnd is too big for the nosplit stack). If the current thread belongs to p
// it never returns: the CPU goes to another thread.
//
//go:nosplit
func endTask(p int, reason int32, code int64, vector, rip, addr uint64, why int32) {
	pr := &procs[p&(maxProcs-1)]
	if !pr.live {
		return
	}
	if events.tail-events.head == maxEvents {
		events.dropped++
		events.head++
	}
	e := &events.ring[events.tail%maxEvents]
	*e = taskEnd{}
	e.pid, e.slot, e.reason, e.code = pr.pid, int32(p), reason, code
	e.vector, e.rip, e.addr, e.why = vector, rip, addr, why
	e.timeNs = nanotime()
	e.cpuNs = procCPU(p)
	e.startNs = pr.startNs
	e.outputNs = pr.outputNs
	e.msgLen = copy(e.msg[:], pr.crash.msg[:pr.crash.msgLen&255])
	e.fnLen = copy(e.fn[:], pr.crash.fn[:pr.crash.fnLen&127])
	self := teardownTask(p)
	e.framesFree = frames.Free
	events.tail++
	for i := 1; i < maxThreads; i++ {
		if threads[i].state == threadBlocked && threads[i].waitOn == waitEvent {
			wake(i, 0)
		}
	}
	if self {
		schedule()
		panicKernel("a torn-down task was scheduled again", uint64(p))
	}
}

// teardownTask ends every thread of task p and frees its memory and files. It reports
// whether the current thread was one of them.
//
//go:nosplit
func teardownTask(p int) bool {
	pr := &procs[p&(maxProcs-1)]
	self := int(threads[current].proc) == p
	ipcProcessEnded(p) // while its threads still show what they wait for
	irqsReleased(p)
	consoleDriverEnded(p)
	eventsEnded(p)
	for i := 1; i < maxThreads; i++ {
		t := &threads[i]
		if int(t.proc) == p && t.state != threadFree {
			t.state = threadZombie
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
			epolls[i].used = false
		}
	}
	for i := range eventfds {
		if eventfds[i].used && int(eventfds[i].owner) == p {
			eventfds[i].used = false
		}
	}
	// The core's entry area must stop showing this task's entry stacks before they are freed.
	if entryStackOwner == int32(p) {
		showEntryStacks(coreProc)
	}
	spaces[p&(maxProcs-1)].Destroy()
	pr.live = false
	return self
}

// exitTask handles exit_group from a task: a Go runtime that printed a panic and exits
// non-zero died of it (of the fault it took, if it reported a signal).
//
//go:nosplit
func exitTask(status int) {
	p := int(threads[current].proc)
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

// sysWaitEvent blocks the core's supervisor until a task event is queued. Tasks may not call
// it.
//
//go:nosplit
func sysWaitEvent(tf *TrapFrame) int64 {
	if cur().proc != coreProc {
		return -EPERM
	}
	for events.head == events.tail {
		if r := block(waitEvent, 0, 0); r == -EINTR {
			return r
		}
	}
	return 0
}

// sysHeartbeat records that the calling task is alive.
//
//go:nosplit
func sysHeartbeat(tf *TrapFrame) int64 {
	curProc().lastBeat = nanotime()
	return 0
}

// mapTaskSegment maps [va, va+memsz) into task p's address space with prot, copying filesz
// bytes from kernel address data; the rest is zero. Pages already mapped by a previous
// segment are shared with it (their protection widened).
//
//go:nosplit
func mapTaskSegment(p int, va, memsz uintptr, prot uint32, data, filesz uintptr) bool {
	as := &spaces[p&(maxProcs-1)]
	start, end := pageDown(va), pageUp(va+memsz)
	for page := start; page < end; page += pageSize {
		e := as.root.lookup(page)
		var f uint64
		if e&ptePresent != 0 {
			f = e & pteAddrMask
		} else {
			nf, ok := allocFrame()
			if !ok {
				return false
			}
			f = nf
			as.resident++
		}
		if !as.root.mapPage(page, f, as.pteFlags(prot)|pteOwned) {
			return false
		}
		// Copy the part of the file image that falls in this page.
		lo, hi := page, page+pageSize
		if lo < va {
			lo = va
		}
		if hi > va+filesz {
			hi = va + filesz
		}
		if hi > lo {
			memmove(directMap(f)+(lo-page), data+(lo-va), hi-lo)
		}
	}
	return as.addRegion(start, end, prot, vmaAnon)
}

// addTaskRegion records a demand-zero region (the stack) in task p's space.
//
//go:nosplit
func addTaskRegion(p int, start, end uintptr, prot uint32) bool {
	return spaces[p&(maxProcs-1)].addRegion(start, end, prot, vmaAnon)
}

// copyToTask copies n bytes from kernel address src to task p's address va.
//
//go:nosplit
func copyToTask(p int, va, src, n uintptr) bool {
	return spaces[p&(maxProcs-1)].copyOut(va, src, n)
}
