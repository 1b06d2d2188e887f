package sched

// Threads: every Linux thread of a Go runtime — the core's and every task's — is a kernel
// thread with its own 16 KiB kernel stack in the upper half. A thread's user context is the
// TrapFrame at the top of its kernel stack; its kernel context is the stack pointer saved by
// arch.SwitchContext.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"unsafe"

	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// MaxThreads is the size of the thread table. Slot 0 is the idle thread.
const MaxThreads = 256

// State is a thread's state.
type State uint32

const (
	Free     State = iota
	Runnable       // running, or on the run queue
	Blocked        // waiting, on a wait queue or for its deadline
	Zombie         // ended; its slot and kernel stack are reaped once it no longer runs
)

// FaultInfo describes a synchronous fault being turned into a signal (package signal).
type FaultInfo struct {
	Sig    int32
	Code   int32
	Addr   uint64
	Trapno uint64
	Err    uint64
}

// Signals is a thread's signal state (package signal delivers, sched only checks Pending
// against Mask when a thread would block).
type Signals struct {
	Mask, Pending  uint64
	AltSP, AltSize uintptr
	Fault          FaultInfo // the synchronous fault being delivered, if any
}

// Thread is one kernel thread.
type Thread struct {
	state     State
	task      int32 // the slot of the task it belongs to (0: the core)
	space     int32 // the address space it runs in (mm.Space)
	ring      int32 // the ring its code runs in: 0 for the core's runtime
	tid       int32
	serial    uint64  // unique to this thread since boot: never reused, unlike slots and (restored) tids
	savedSP   uintptr // kernel stack pointer saved by arch.SwitchContext
	resumable bool    // its kernel stack holds only its TrapFrame: savedSP enters arch's trapResume (handoff.go)
	kstackTop uintptr
	counted   bool // it holds an entry of ThreadPool (New), given back by End

	// FSBase is its TLS base (arch_prctl, clone).
	FSBase uint64
	// ClearTID is the address cleared and woken when it exits (set_tid_address, clone).
	ClearTID uintptr
	// Sig is its signal state.
	Sig Signals

	// Waiting (queue.go): the queue it is on (run queue or a wait queue) and its links.
	queue      uintptr
	next, prev int32
	deadline   int64 // monotonic ns; 0 = none
	tnext      int32 // the timer list, by deadline (timer.go)
	tprev      int32
	onTimer    bool
	timeout    int64  // the result when the deadline passes
	resume     Resume // what ending the wait does to its system call
	quiet      bool   // signals do not end the wait
	wakeResult int64
	again      bool // it was woken to run its system call again

	cpuNs     int64
	calls     uint32 // system calls made, signal returns not counted (NoteCall)
	sliceLeft int32
	ran       bool // it has run: a thread that never did starts from its frame (threadStart)

	// Wake-up preemption (sched.go): a core thread woken from a wait runs before the task
	// threads; the task thread it preempted resumes next, with what was left of its slice.
	coreWoken bool // a core thread, woken and not yet run since
	boosted   bool // it runs because it was woken: the round robin does not move past it
	preempted bool // a task thread taken off the CPU for a woken core thread
}

var threads [MaxThreads]Thread

var (
	current    int   // slot of the running thread (0 = idle)
	nextTID    int32 = 1
	nextSerial uint64
	runStart   int64
)

// T returns thread i. Every index of a kernel table is masked in trap context: the index is
// always in range, and a bounds check there could only panic with no goroutine to unwind.
//
//go:nosplit
func T(i int) *Thread { return &threads[i&(MaxThreads-1)] }

// Cur returns the running thread.
//
//go:nosplit
func Cur() *Thread { return &threads[current&(MaxThreads-1)] }

// Current returns the running thread's slot.
//
//go:nosplit
func Current() int { return current }

// Slot is the thread's index in the table.
//
//go:nosplit
func (t *Thread) Slot() int {
	return int((arch.Addr(t)-arch.Addr(&threads[0]))/unsafe.Sizeof(threads[0])) & (MaxThreads - 1)
}

// Task, Space, Ring, TID and State say whose the thread is and what it is doing.
//
//go:nosplit
func (t *Thread) Task() int32 { return t.task }

//go:nosplit
func (t *Thread) Space() *mm.AddressSpace { return mm.Space(t.space) }

//go:nosplit
func (t *Thread) Ring() int32 { return t.ring }

//go:nosplit
func (t *Thread) TID() int32 { return t.tid }

//go:nosplit
func (t *Thread) State() State { return t.state }

// Serial is the thread's number since boot: no other thread, before or after, has it.
//
//go:nosplit
func (t *Thread) Serial() uint64 { return t.serial }

// Live reports whether the thread runs or waits (it has not ended).
//
//go:nosplit
func (t *Thread) Live() bool { return t.state == Runnable || t.state == Blocked }

// CPU is the CPU time the thread has used.
//
//go:nosplit
func (t *Thread) CPU() int64 { return t.cpuNs }

// NoteCall counts a system call of the running thread. The watchdog samples the count with the
// CPU time: a thread whose CPU grew while the count did not is spinning.
//
//go:nosplit
func NoteCall() { Cur().calls++ }

// Calls is how many system calls the thread has made (NoteCall).
//
//go:nosplit
func (t *Thread) Calls() uint32 { return t.calls }

// Frame returns thread i's user context: the TrapFrame at the top of its kernel stack.
//
//go:nosplit
func Frame(i int) *arch.TrapFrame {
	return (*arch.TrapFrame)(arch.Pointer(threads[i&(MaxThreads-1)].kstackTop - arch.TrapFrameSize))
}

// ThreadPool is the accounting of thread slots: slot 0 is the idle thread; the core keeps 32.
var ThreadPool = mm.Pool{Total: MaxThreads - 1, Keep: 32}

// mapKernelStack backs slot i's kernel stack with frames, unless it still has them.
//
//go:nosplit
func mapKernelStack(i int) bool {
	if T(i).kstackTop != 0 {
		return true
	}
	if hosted {
		T(i).kstackTop = hostStacks + uintptr(i+1)*mm.KernelStackSize
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
	T(i).kstackTop = top
	return true
}

// ReapZombies frees the kernel stacks of ended threads (never the running one's: it may be a
// zombie still on its way out through Schedule).
//
//go:nosplit
func ReapZombies() {
	for i := 1; i < MaxThreads; i++ {
		t := &threads[i]
		if t.state != Zombie || i == current {
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

// New claims a free slot for a thread of task in address space space, running code of ring,
// with its kernel stack mapped and its frame zeroed; its entry of ThreadPool comes out of share
// (nil: the core's). The thread is not runnable until Start. ok=false when the share or
// memory is exhausted.
//
//go:nosplit
func New(task, space, ring int32, share *mm.Share) (int, bool) {
	ReapZombies()
	if !ThreadPool.Take(share) {
		return 0, false
	}
	for i := 1; i < MaxThreads; i++ {
		t := &threads[i]
		if t.state != Free {
			continue
		}
		if !mapKernelStack(i) {
			break
		}
		top := t.kstackTop
		*t = Thread{}
		t.kstackTop = top
		t.counted = true
		t.task, t.space, t.ring = task, space, ring
		t.tid = nextTID
		nextTID++
		nextSerial++
		t.serial = nextSerial
		tf := Frame(i)
		*tf = arch.TrapFrame{}
		tf.InitFX()
		// The first SwitchContext into this thread pops BP and returns to threadStart, which
		// restores the frame.
		sp := top - arch.TrapFrameSize - 16
		arch.Store64(sp, 0)
		arch.Store64(sp+8, uint64(arch.ThreadStartPC()))
		t.savedSP = sp
		return i, true
	}
	ThreadPool.Give(share)
	return 0, false
}

// Start makes a new thread runnable: it gets the CPU in its turn.
//
//go:nosplit
func Start(i int) {
	t := T(i)
	t.state = Runnable
	runq.push(i)
}

// End ends thread i — running, waiting, or made by New and never started: it leaves whatever
// queue it is on and becomes a zombie (its slot is reaped once it no longer runs), and gives
// its entry of ThreadPool back to share.
//
//go:nosplit
func End(i int, share *mm.Share) {
	t := T(i)
	if t.state == Zombie {
		return
	}
	dequeue(i)
	timerRemove(i)
	if t.counted {
		t.counted = false
		ThreadPool.Give(share)
	}
	t.state = Zombie
}

// SetTID gives thread i the thread id tid: a thread restored from a snapshot keeps the id its
// Go runtime knows it by (ids are per task: every lookup by id names the task too).
//
//go:nosplit
func SetTID(i int, tid int32) { T(i).tid = tid }

// InKernel reports whether thread i, not running, stopped inside a system call (waiting, or
// woken and not yet back) rather than being preempted in its own code. A thread that never
// ran is not: its frame is where it starts (a clone child's is its parent's system-call
// frame, returning 0), whatever its vector says.
//
//go:nosplit
func InKernel(i int) bool {
	t := T(i)
	return t.state == Blocked || t.ran && Frame(i).Vector == arch.VectorSyscall
}

// LiveOf counts task's live threads.
//
//go:nosplit
func LiveOf(task int32) int {
	n := 0
	for i := 1; i < MaxThreads; i++ {
		if t := &threads[i]; t.task == task && t.Live() {
			n++
		}
	}
	return n
}

// Busy reports whether some thread of task has not been reaped yet (a zombie still running its
// last instructions keeps its task's slot taken).
//
//go:nosplit
func Busy(task int32) bool {
	for i := 1; i < MaxThreads; i++ {
		if threads[i].task == task && threads[i].state != Free {
			return true
		}
	}
	return false
}

// CPUOf returns the CPU time task's live threads have used, the running one's slice so far
// included.
//
//go:nosplit
func CPUOf(task int32) int64 {
	var n int64
	for i := 1; i < MaxThreads; i++ {
		if t := &threads[i]; t.task == task && t.Live() {
			n += t.cpuNs
		}
	}
	if Cur().task == task {
		n += arch.Nanotime() - runStart
	}
	return n
}

// Find returns the slot of live thread tid of task, or -1.
//
//go:nosplit
func Find(task, tid int32) int {
	for i := 1; i < MaxThreads; i++ {
		if t := &threads[i]; t.tid == tid && t.task == task && t.Live() {
			return i
		}
	}
	return -1
}

// Next returns the first live thread of task after slot i (0 to start), or 0.
//
//go:nosplit
func Next(task int32, i int) int {
	for i++; i > 0 && i < MaxThreads; i++ {
		if t := T(i); t.task == task && t.Live() {
			return i
		}
	}
	return 0
}

// Count returns the number of live threads, idle excluded.
//
//go:nosplit
func Count() int {
	n := 0
	for i := 1; i < MaxThreads; i++ {
		if threads[i].Live() {
			n++
		}
	}
	return n
}

// KernelStacksOf counts the kernel-stack pages threads of task hold, reaped ones excepted.
//
//go:nosplit
func KernelStacksOf(task int32) uint64 {
	var n uint64
	for i := 0; i < MaxThreads; i++ {
		if threads[i].task == task && threads[i].kstackTop != 0 {
			n += mm.KernelStackSize / mm.PageSize
		}
	}
	return n
}

// PerThread is state a service keeps for every thread (the IPC call in progress, say): one
// T per thread slot, reached through the thread.
type PerThread[T any] [MaxThreads]T

// Of returns thread i's T.
//
//go:nosplit
func (p *PerThread[T]) Of(i int) *T { return &p[i&(MaxThreads-1)] }

// CPUOfRunning is the CPU time the running thread has used, its slice so far included.
//
//go:nosplit
func CPUOfRunning() int64 { return Cur().cpuNs + arch.Nanotime() - runStart }
