package kernel

// The scheduler: preemptive round robin over runnable threads, driven by the local APIC
// timer. A thread runs for timeSlice ticks, then the next runnable thread (in slot order)
// gets the CPU. Blocked threads wait for a wake-up or their deadline; the timer tick checks
// deadlines. The kernel itself is not preemptible: it runs with interrupts disabled, except in
// the idle loop.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/x86"
)

var timeSlice int32 = 10 // ticks

var ticks uint64
var contextSwitches uint64

// schedule gives the CPU to the next runnable thread, or to idle. The caller has already set
// the current thread's state (runnable to be preempted, blocked, or zombie).
//
//go:nosplit
func schedule() {
	next := 0
	for n := 1; n <= maxThreads; n++ {
		i := (current + n) & (maxThreads - 1)
		if i != 0 && threads[i].state == threadRunnable {
			next = i
			break
		}
	}
	switchTo(next)
}

//go:nosplit
func switchTo(next int) { switchWithSlice(next, timeSlice) }

// donateTo switches to next and hands it what is left of the current thread's time slice
// instead of a fresh one, as seL4 does on its IPC fast path: a client and a server calling
// each other back and forth share one slice, so the pair is preempted like any other thread
// and cannot starve the rest of the system.
//
//go:nosplit
func donateTo(next int) {
	left := cur().sliceLeft
	if left <= 0 {
		left = 1
	}
	switchWithSlice(next, left)
}

//go:nosplit
func switchWithSlice(next int, slice int32) {
	now := arch.Nanotime()
	prev := current
	thread(prev).cpuNs += now - runStart
	runStart = now
	thread(next).sliceLeft = slice
	if next == prev {
		return
	}
	contextSwitches++
	current = next
	arch.SetKernelStack(thread(next).kstackTop)
	p := thread(next).proc
	mm.ShowEntryStacks(p)
	arch.SetReturn(thread(next).fsBase, uint64(mm.Space(p&(maxProcs-1)).Root()))
	fs := thread(next).fsBase
	if procs[p&(maxProcs-1)].ring != 0 {
		fs = bootFSBase() // a task's FS base is loaded on the way back to it (trapReturn)
	}
	x86.WriteMSR(x86.MSR_FS_BASE, fs)
	arch.SwitchContext(&thread(prev).savedSP, thread(next).savedSP)
}

// yield puts the current thread at the back of the round.
//
//go:nosplit
func yield() {
	schedule()
}

// block puts the current thread to sleep until wake or the deadline (monotonic ns, 0 = none)
// and returns the wake result (0, -ETIMEDOUT or -EINTR).
//
//go:nosplit
func block(on uint32, addr uintptr, deadline int64) int64 {
	t := cur()
	if t.sigPending&^t.sigMask != 0 {
		return -abi.EINTR
	}
	t.state = threadBlocked
	t.waitOn = on
	t.waitAddr = addr
	t.deadline = deadline
	t.wakeResult = 0
	schedule()
	return cur().wakeResult
}

//go:nosplit
func wake(i int, result int64) {
	t := thread(i)
	if t.state != threadBlocked {
		return
	}
	t.state = threadRunnable
	t.waitOn = waitNone
	t.wakeResult = result
}

// timerTick runs on every timer interrupt.
//
//go:nosplit
func timerTick() {
	arch.EOI()
	ticks++
	now := arch.Nanotime()
	for i := 1; i < maxThreads; i++ {
		t := &threads[i]
		if t.state == threadBlocked && t.deadline != 0 && now >= t.deadline {
			result := int64(-abi.ETIMEDOUT)
			if t.waitOn == waitSleep || t.waitOn == waitEpoll {
				result = 0
			}
			wake(i, result)
		}
	}
	if current == 0 {
		return // the idle loop schedules after HLT
	}
	t := cur()
	t.sliceLeft--
	if t.sliceLeft <= 0 {
		schedule()
	}
}

//go:nosplit
func x86EnableAndHalt() { x86.EnableAndHalt() }

//go:nosplit
func x86Cli() { x86.Cli() }

// SchedStats reports scheduler counters.
type SchedStats struct {
	Ticks, ContextSwitches uint64
	TickNs                 int64
	TimeSlice              int32
}

// Sched returns the scheduler counters.
func Sched() SchedStats {
	return SchedStats{Ticks: ticks, ContextSwitches: contextSwitches, TickNs: arch.TickNs(), TimeSlice: timeSlice}
}
