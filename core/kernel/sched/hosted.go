package sched

// The scheduler on a host, for tests, in two modes. UseHost: a switch is its bookkeeping only —
// the running thread is the one switched to, and the test goes on as that thread. UseHostThreads:
// each thread is a goroutine (HostThread), and a switch hands the one CPU from the running
// thread's goroutine to the next one's and parks the first until it is switched back to, so
// the kernel's own dispatcher, waits and fast paths run unchanged; the test's goroutine is
// the idle thread (HostIdle). Kernel stacks, and the trap frames on them, are ordinary
// memory; the host clock stands still (arch.Nanotime is 0) and HostIdle reaches each deadline
// by expiring it.

import (
	"runtime"
	"strconv"
	"unsafe"

	"github.com/simpleos/simpleos/core/kernel/mm"
)

var (
	hosted      bool
	hostThreads bool
	hostMemory  []byte  // the kernel stacks, kept alive here
	hostStacks  uintptr // their first byte
	// hostCPU[i] is how thread i's goroutine is handed the CPU (nil: i has none).
	hostCPU [MaxThreads]chan struct{}
)

// UseHost starts afresh on a host: every slot free, no queue, thread 0 (idle) running, kernel
// stacks in ordinary memory, a switch only bookkeeping. For host tests; never on the machine.
func UseHost() {
	hosted, hostThreads = true, false
	if hostMemory == nil {
		hostMemory = make([]byte, (MaxThreads+1)*mm.KernelStackSize)
		hostStacks = uintptr(unsafe.Pointer(unsafe.SliceData(hostMemory)))
	}
	threads = [MaxThreads]Thread{}
	runq, timerHead, current, nextTID = Queue{}, 0, 0, 1
	ThreadPool = Pool()
	threads[0].state = Runnable
	hostCPU = [MaxThreads]chan struct{}{}
}

// UseHostThreads is UseHost with threads that are goroutines: the calling goroutine is the idle
// thread from now on.
func UseHostThreads() {
	UseHost()
	hostThreads = true
	hostCPU[0] = make(chan struct{}, 1)
}

// Pool returns the thread pool as it is at boot: slot 0 is the idle thread's, the core keeps 32.
func Pool() mm.Pool { return mm.Pool{Total: MaxThreads - 1, Keep: 32} }

// HostThread makes body thread i's code: a goroutine that starts when i is first switched to.
// body must end its thread (an exit system call) rather than return.
func HostThread(i int, body func()) {
	cpu := make(chan struct{}, 1)
	hostCPU[i] = cpu
	go func() {
		<-cpu
		body()
		panic("sched: the code of thread " + strconv.Itoa(i) + " returned without ending its thread")
	}()
}

// hostSwitch hands the CPU from thread prev's goroutine to next's, and parks prev's until it
// runs again; an ended thread's goroutine exits. core/trapcheck does not follow it (it never
// runs on the machine).
//
//go:noinline
func hostSwitch(prev, next int) {
	wait, ended := hostCPU[prev], prev != 0 && threads[prev].state == Zombie
	to := hostCPU[next]
	if to == nil {
		panic("sched: thread " + strconv.Itoa(next) + " has no code on this host (HostThread)")
	}
	to <- struct{}{}
	if ended {
		runtime.Goexit()
	}
	<-wait
}

// HostIdle is the idle thread's loop on a host, run by the test's goroutine: it schedules until
// no thread is runnable, reaching each pending deadline in turn, and returns when nothing
// more can happen (every thread ended or waiting with no deadline).
func HostIdle() {
	for {
		ReapZombies()
		switch {
		case !runq.Empty():
			Schedule()
		case timerHead != 0:
			first, _ := timerFirst()
			timerExpire(first)
		default:
			return
		}
	}
}
