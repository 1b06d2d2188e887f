package sched

// The scheduler: preemptive round robin, driven by the local APIC timer. A thread runs for its
// time slice (in ticks), then the runnable thread with the next slot after it runs: round robin
// in slot order, the order SimpleOS has always had (a first-in first-out pick starves the
// console driver, woken by every byte its UART sends, of its turns, and the sensor pipeline
// runs a third slower under it). The run queue holds the runnable threads, so a pick looks at
// those alone, never at the whole table, and a thread that yields with nothing else runnable
// finds an empty queue at once. The kernel itself is not preemptible: it runs with interrupts
// disabled, except in the idle loop.
//
// One exception to the round robin: a thread of the core woken from a wait (the supervisor
// told that a task ended, a timer it sleeps on, a reply to its call) runs first. It preempts
// the task thread whose trap woke it — a system call, an interrupt, the timer tick — on that
// trap's way back (PreemptForCore, at the end of every trap), instead of waiting for every
// runnable thread's 10 ms slice: the core's reaction to a crash is on the critical path of
// every restart. The task thread it preempted resumes right after it with the rest of its
// slice, and the round robin goes on from where it was, so tasks lose only the CPU time the
// core uses. A core thread that runs out of its slice takes its turn like any other: a busy
// core cannot starve tasks.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/x86"
)

// runq holds the runnable threads that are not running.
var runq Queue

var timeSlice int32 = 10 // ticks

var ticks, contextSwitches uint64

// coreWoken says a core thread was woken while a task thread ran: PreemptForCore, at the end
// of the trap that woke it, preempts that task thread.
var coreWoken bool

// cursor is where the round robin goes on from: the last thread it picked (a woken core
// thread's run does not move it).
var cursor int

// SetTimeSlice sets the time slice, in ticks (kernel command line timeslice=MS).
//
//go:nosplit
func SetTimeSlice(t int32) { timeSlice = t }

// Schedule gives the CPU to the next runnable thread in slot order after the running one, or
// to idle. The caller has already set the running thread's state: Runnable (it yields or is
// preempted, and runs again in its turn), Blocked, or Zombie. It returns when the thread runs
// again.
//
//go:nosplit
func Schedule() {
	cur := Cur()
	if current != 0 && cur.state == Runnable {
		runq.push(current)
	}
	if !cur.boosted {
		cursor = current
	}
	cur.boosted = false
	coreWoken = false
	next, dist := 0, 3*MaxThreads
	for i := runq.First(); i != 0; i = After(i) {
		t := T(i)
		d := (i - cursor) & (MaxThreads - 1)
		switch {
		case t.coreWoken:
			d -= 2 * MaxThreads // woken core threads first, in slot order
		case d == 0 && !t.preempted:
			d = MaxThreads // the thread the round robin is at, after its turn: last
		}
		if d < dist {
			next, dist = i, d
		}
	}
	slice := timeSlice
	if next != 0 {
		dequeue(next)
		n := T(next)
		n.boosted, n.coreWoken = n.coreWoken, false
		if n.preempted && n.sliceLeft > 0 {
			slice = n.sliceLeft // a preempted thread finishes its slice
		}
		n.preempted = false
	}
	switchTo(next, slice)
}

// Yield puts the running thread at the back of the run queue.
//
//go:nosplit
func Yield() { Schedule() }

// Donate switches straight to waiting thread to, which becomes runnable without a pass through
// the run queue, and hands it what is left of the running thread's time slice instead of a
// fresh one, as seL4 does on its IPC fast path: a client and a server calling each other back
// and forth share one slice, so the pair is preempted like any other thread and cannot starve
// the rest of the system. The running thread has been put to wait (Block) or stays runnable.
//
//go:nosplit
func Donate(to int) {
	t := T(to)
	dequeue(to)
	timerRemove(to)
	t.state, t.again, t.wakeResult = Runnable, false, 0 // its call returns 0, whatever its Resume
	left := Cur().sliceLeft
	if left <= 0 {
		left = 1
	}
	if current != 0 && Cur().state == Runnable {
		runq.push(current)
	}
	switchTo(to, left)
}

// switchTo is where every thread switch happens.
//
//go:nosplit
func switchTo(next int, slice int32) {
	now := arch.Nanotime()
	prev := current
	T(prev).cpuNs += now - runStart
	runStart = now
	n := T(next)
	n.sliceLeft = slice
	n.ran = true
	if next == prev {
		return
	}
	contextSwitches++
	current = next
	n.resumable = false // if it was, its savedSP resumes it as the handoff left it
	if hosted {
		if hostThreads {
			hostSwitch(prev, next)
		}
		return // on a host: the switch is the bookkeeping above and a goroutine's turn (hosted.go)
	}
	arch.SetKernelStack(n.kstackTop)
	as := mm.Space(n.space)
	arch.SetReturn(n.FSBase, as.CR3Word(), as.EntryStackAlias())
	fs := n.FSBase
	if n.ring != 0 {
		fs = arch.KernelFS() // a task's FS base is loaded on its way back to it (trapReturn)
	}
	x86.WriteMSR(x86.MSR_FS_BASE, fs)
	arch.SwitchContext(&T(prev).savedSP, n.savedSP)
}

// Resume says what happens to the system call a thread waits in when its wait ends.
type Resume uint8

const (
	// ResumeResult: the call returns what ended the wait — 0 for a Wake, the waker's value
	// for a WakeWith, the timeout result at the deadline, EINTR for a signal.
	ResumeResult Resume = iota
	// ResumeRetry: a Wake runs the call again (the thing waited for may have happened); the
	// rest end it as ResumeResult.
	ResumeRetry
	// ResumeAlways: every end of the wait runs the call again, which learns how it ended from
	// WokenWith (and cleans up after a timeout or a signal).
	ResumeAlways
)

// SignalPending reports whether the running thread has a signal it does not block: a wait it
// began would end at once with EINTR.
//
//go:nosplit
func SignalPending() bool {
	t := Cur()
	return t.Sig.Pending&^t.Sig.Mask != 0
}

// Block puts the running thread to wait on q (nil: on nothing but its deadline) until a wake,
// its deadline (monotonic ns, 0 = none; the wait then ends with result timeout) or a signal;
// how resumes says what then happens to its system call. The thread leaves the CPU at the
// next Schedule. Block returns false, without waiting, when a signal is already pending: the
// call ends with EINTR.
//
//go:nosplit
func Block(q *Queue, deadline, timeout int64, how Resume) bool {
	if SignalPending() {
		return false
	}
	block(Cur(), q, deadline, timeout, how, false)
	return true
}

// Park is Block for a caller that has just found no signal pending (SignalPending): the
// IPC fastpath, which blocks the thread and hands the CPU over at once.
//
//go:nosplit
func Park(q *Queue, deadline, timeout int64, how Resume) {
	block(Cur(), q, deadline, timeout, how, false)
}

// BlockQuiet is Block for waits that must finish whatever signals arrive (a signal is
// delivered when the call returns), with no deadline.
//
//go:nosplit
func BlockQuiet(q *Queue, how Resume) { block(Cur(), q, 0, 0, how, true) }

//go:nosplit
func block(t *Thread, q *Queue, deadline, timeout int64, how Resume, quiet bool) {
	t.state = Blocked
	t.deadline, t.timeout, t.resume, t.quiet = deadline, timeout, how, quiet
	t.wakeResult, t.again = 0, false
	if q != nil {
		q.push(current)
	}
	if deadline != 0 {
		timerInsert(current)
	}
}

// Wake ends thread i's wait with result 0 (see Resume).
//
//go:nosplit
func Wake(i int) {
	if t := T(i); t.state == Blocked {
		wake(i, 0, t.resume == ResumeRetry || t.resume == ResumeAlways)
	}
}

// WakeWith ends thread i's wait with result r: a reply, a decision, the death of a peer.
//
//go:nosplit
func WakeWith(i int, r int64) {
	if t := T(i); t.state == Blocked {
		wake(i, r, t.resume == ResumeAlways)
	}
}

// Interrupt ends thread i's wait with EINTR (a signal it does not block arrived), unless the
// wait must finish first.
//
//go:nosplit
func Interrupt(i int) {
	if t := T(i); t.state == Blocked && !t.quiet {
		wake(i, -abi.EINTR, t.resume == ResumeAlways)
	}
}

//go:nosplit
func wake(i int, r int64, again bool) {
	t := T(i)
	dequeue(i)
	timerRemove(i)
	t.state, t.wakeResult, t.again = Runnable, r, again
	runq.push(i)
	if t.task == 0 {
		t.coreWoken = true
		if current != 0 && Cur().task != 0 {
			coreWoken = true
		}
	}
}

// Requeue moves waiting thread i to queue q, its deadline kept: its wait goes on for another
// reason (an IPC call taken by a server now waits for the reply).
//
//go:nosplit
func Requeue(i int, q *Queue) {
	if T(i).state == Blocked {
		dequeue(i)
		q.push(i)
	}
}

// Resumed tells a thread that waited how its wait ended: again, run its system call again;
// else the call's result.
//
//go:nosplit
func Resumed() (again bool, result int64) {
	t := Cur()
	return t.again, t.wakeResult
}

// WokenWith is the result that ended the running thread's last wait (a call run again after
// it asks).
//
//go:nosplit
func WokenWith() int64 { return Cur().wakeResult }

// Deadline is the running thread's deadline: the one a call run again keeps.
//
//go:nosplit
func Deadline() int64 { return Cur().deadline }

// Waiting reports whether thread i waits on q.
//
//go:nosplit
func Waiting(i int, q *Queue) bool { return T(i).state == Blocked && T(i).queue == arch.Addr(q) }

// Tick runs on every timer interrupt: it ends the waits whose deadline has passed and
// preempts the running thread at the end of its slice.
//
//go:nosplit
func Tick() {
	ticks++
	timerExpire(arch.Nanotime())
	if current == 0 {
		return // the idle loop schedules after HLT
	}
	t := Cur()
	t.sliceLeft--
	if t.sliceLeft <= 0 {
		Schedule()
	}
}

// PreemptForCore gives the CPU to a core thread the current trap woke, on the trap's way back
// to the task thread it interrupted (which resumes next, with the rest of its slice): the
// core reacts at once, not at the next tick.
//
//go:nosplit
func PreemptForCore() {
	if t := Cur(); coreWoken && current != 0 && t.task != 0 && t.state == Runnable {
		t.preempted = true
		Schedule()
	}
}

// idleLoop runs when no other thread can: it halts until the next interrupt.
//
//go:nosplit
func idleLoop() {
	for {
		ReapZombies()
		if !runq.Empty() {
			Schedule()
			continue
		}
		x86.EnableAndHalt()
		x86.Cli()
	}
}

func idleLoopAddr() uintptr

// InitIdle prepares slot 0: the idle thread, which runs idleLoop on its own kernel stack with
// the kernel's FS base.
//
//go:nosplit
func InitIdle() bool {
	if !mapKernelStack(0) {
		return false
	}
	t := &threads[0]
	t.state = Runnable
	t.FSBase = arch.KernelFS()
	sp := t.kstackTop - 32
	arch.Store64(sp, 0)
	arch.Store64(sp+8, uint64(idleLoopAddr()))
	t.savedSP = sp
	return true
}

// Run abandons the boot stack for thread i (the core's first): it never returns.
//
//go:nosplit
func Run(i int) {
	t := T(i)
	t.state = Runnable
	current = i
	runStart = arch.Nanotime()
	if hosted {
		return // on a host: thread i is the running one from now on
	}
	arch.SetKernelStack(t.kstackTop)
	arch.EnterThread(t.savedSP)
}

// Stats are the scheduler's counters.
type Stats struct {
	Ticks, ContextSwitches uint64
	TimeSlice              int32
}

// Counters returns the scheduler's counters.
//
//go:nosplit
func Counters() Stats { return Stats{ticks, contextSwitches, timeSlice} }
