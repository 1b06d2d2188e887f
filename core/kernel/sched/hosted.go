package sched

// The scheduler on a host, for tests: a switch is its bookkeeping only — the running thread
// is the one switched to, and the test goes on as that thread — and kernel stacks are
// ordinary memory. What a handler does (put its thread to wait, hand the CPU to another) and
// what waking does can then be tested without a machine.

import (
	"unsafe"

	"github.com/simpleos/simpleos/core/kernel/mm"
)

var (
	hosted     bool
	hostMemory []byte  // the kernel stacks, kept alive here
	hostStacks uintptr // their first byte
)

// UseHost starts afresh on a host: every slot free, no queue, thread 0 (idle) running, kernel
// stacks in ordinary memory. For host tests; never on the machine.
func UseHost() {
	hosted = true
	if hostMemory == nil {
		hostMemory = make([]byte, (MaxThreads+1)*mm.KernelStackSize)
		hostStacks = uintptr(unsafe.Pointer(unsafe.SliceData(hostMemory)))
	}
	threads = [MaxThreads]Thread{}
	runq, timerHead, current = Queue{}, 0, 0
	ThreadPool = Pool()
	threads[0].state = Runnable
}

// Pool returns the thread pool as it is at boot: slot 0 is the idle thread's, the core keeps 32.
func Pool() mm.Pool { return mm.Pool{Total: MaxThreads - 1, Keep: 32} }
