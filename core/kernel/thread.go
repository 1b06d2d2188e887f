package kernel

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/x86"
)

// Threads: every Linux thread of the Go runtime (and, later, of each task) is a kernel
// thread with its own 16 KiB kernel stack in the upper half. A thread's user context is the
// TrapFrame at the top of its kernel stack; its kernel context is the stack pointer saved by
// switchContext.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (threads and processes
// are referred to by index, never by stored pointers).

const maxThreads = 256

// Thread states.
const (
	threadFree = iota
	threadRunnable
	threadBlocked
	threadZombie // exited; its slot and kernel stack are reused by the next clone
)

// What a blocked thread waits for.
const (
	waitNone = iota
	waitFutex
	waitSleep
	waitEpoll
	waitEvent // the supervisor waits for a task event
	waitPipe
	waitIPCSend  // queued on an endpoint, message not yet taken
	waitIPCReply // message taken by the server, waiting for its reply
	waitIPCRecv  // a server waiting for a call
	waitNotify   // a task waiting for notification bits (waitAddr = mask)
	waitContent  // a content write waiting for the stage or its decision (content.go)
)

// Thread is one kernel thread.
type Thread struct {
	state     uint32
	proc      int32 // index into procs
	tid       int32
	savedSP   uintptr // kernel stack pointer saved by switchContext
	kstackTop uintptr
	fsBase    uint64

	waitOn     uint32
	waitAddr   uintptr
	deadline   int64 // monotonic ns; 0 = none
	wakeResult int64

	sigMask    uint64
	sigPending uint64
	altSP      uintptr
	altSize    uintptr
	fault      faultInfo // the synchronous fault being delivered, if any

	cpuNs     int64
	sliceLeft int32
	clearTID  uintptr
	counted   bool // it holds an entry of threadPool (newThread), given back by endThread

	ipc ipcThread // IPC state (ipc.go)
}

var threads [maxThreads]Thread

var (
	current  int   // index of the running thread (0 = idle)
	nextTID  int32 = 1
	runStart int64
)

func idleLoopAddr() uintptr

//go:nosplit
func cur() *Thread { return &threads[current&(maxThreads-1)] }

// thread returns slot i. Every index of a kernel table is masked in trap context: the index
// is always in range, and a bounds check there could only panic with no goroutine to unwind.
//
//go:nosplit
func thread(i int) *Thread { return &threads[i&(maxThreads-1)] }

//go:nosplit
func frameOf(i int) *arch.TrapFrame {
	return (*arch.TrapFrame)(arch.Pointer(threads[i&(maxThreads-1)].kstackTop - arch.TrapFrameSize))
}

// mapKernelStack backs slot i's kernel stack with frames, unless it still has them
// (reapZombies gives them back when the thread has exited).
//
//go:nosplit
func mapKernelStack(i int) bool {
	if thread(i).kstackTop != 0 {
		return true
	}
	top := uintptr(mm.KernelStackBase) + uintptr(i+1)*mm.KernelStackSlot
	for va := top - mm.KernelStackSize; va < top; va += mm.PageSize {
		f, ok := mm.AllocFrame()
		if !ok {
			return false
		}
		if !mm.KernelPML4.MapPage(va, f, mm.PTEWrite|mm.PTENX|mm.PTEOwned|mm.PTEGlobal, nil) {
			mm.FreeFrame(f)
			return false
		}
	}
	thread(i).kstackTop = top
	return true
}

// reapZombies frees the kernel stacks of exited threads (never the running one's: it may be
// a zombie still on its way out through schedule).
//
//go:nosplit
func reapZombies() {
	for i := 1; i < maxThreads; i++ {
		t := &threads[i]
		if t.state != threadZombie || i == current {
			continue
		}
		if t.kstackTop != 0 {
			for va := t.kstackTop - mm.KernelStackSize; va < t.kstackTop; va += mm.PageSize {
				mm.KernelPML4.UnmapPage(va, nil)
			}
		}
		*t = Thread{}
	}
}

// newThread claims a free slot for process proc, with its kernel stack mapped and its
// registers zeroed. ok=false when its share of the thread pool or memory is exhausted.
//
//go:nosplit
func newThread(proc int) (int, bool) {
	reapZombies()
	if !threadPool.Take(shareIn(&threadPool, int32(proc))) {
		return 0, false
	}
	for i := 1; i < maxThreads; i++ {
		t := &threads[i]
		if t.state != threadFree {
			continue
		}
		if !mapKernelStack(i) {
			break
		}
		top := t.kstackTop
		*t = Thread{}
		t.kstackTop = top
		t.counted = true
		t.proc = int32(proc)
		t.tid = nextTID
		nextTID++
		tf := frameOf(i)
		*tf = arch.TrapFrame{}
		tf.InitFX()
		// The first switchContext into this thread pops BP and returns to threadStart,
		// which restores the frame.
		sp := top - arch.TrapFrameSize - 16
		arch.Store64(sp, 0)
		arch.Store64(sp+8, uint64(arch.ThreadStartPC()))
		t.savedSP = sp
		return i, true
	}
	threadPool.Give(shareIn(&threadPool, int32(proc)))
	return 0, false
}

// endThread ends thread i: it becomes a zombie (its slot is reaped once it no longer runs) and
// gives its entry of the thread pool back.
//
//go:nosplit
func endThread(i int) {
	t := &threads[i&(maxThreads-1)]
	if t.counted {
		t.counted = false
		threadPool.Give(shareIn(&threadPool, t.proc))
	}
	t.state = threadZombie
}

// initIdle prepares slot 0: the idle thread, which runs idleLoop on its own kernel stack.
//
//go:nosplit
func initIdle() bool {
	if !mapKernelStack(0) {
		return false
	}
	t := &threads[0]
	t.state = threadRunnable
	t.tid = 0
	t.fsBase = bootFSBase()
	sp := t.kstackTop - 32
	arch.Store64(sp, 0)
	arch.Store64(sp+8, uint64(idleLoopAddr()))
	t.savedSP = sp
	return true
}

// idleLoop runs when no other thread can: it halts until the next interrupt.
//
//go:nosplit
func idleLoop() {
	for {
		reapZombies()
		if runnableExists() {
			schedule()
			continue
		}
		x86EnableAndHalt()
		x86Cli()
	}
}

//go:nosplit
func runnableExists() bool {
	for i := 1; i < maxThreads; i++ {
		if threads[i].state == threadRunnable {
			return true
		}
	}
	return false
}

// ThreadCount returns the number of live threads (runnable or blocked), idle excluded.
func ThreadCount() int {
	n := 0
	for i := 1; i < maxThreads; i++ {
		if s := threads[i].state; s == threadRunnable || s == threadBlocked {
			n++
		}
	}
	return n
}

// FramesOutsideCore returns the frames in use other than those serving the core's own Go
// runtime (its memory, the page tables of its half, its threads' kernel stacks): the kernel's
// fixed structures plus everything tasks hold. Once every task has ended it must come back to
// its value before the first one started.
func FramesOutsideCore() uint64 {
	x86.Cli()
	defer x86.Sti()
	reapZombies()
	coreStacks := uint64(0)
	for i := 0; i < maxThreads; i++ {
		if threads[i].proc == coreProc && threads[i].kstackTop != 0 {
			coreStacks += mm.KernelStackSize / mm.PageSize
		}
	}
	f := mm.Frames()
	return f.Total - f.Free - mm.Space(coreProc).Resident() - mm.CoreTablePages - coreStacks
}

// Frames returns the physical frame counters.
func Frames() mm.FrameStats { return mm.Frames() }
