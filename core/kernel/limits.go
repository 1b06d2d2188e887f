package kernel

import "github.com/simpleos/simpleos/core/kernel/mm"

// Limits of the shared tables (entries): the core's reserve, and each task's reservation and
// limit unless its policy says otherwise.
const (
	taskReserveFrames = 1024 // 4 MiB promised to every task (its quota when smaller): a Go runtime runs in 2-3

	coreThreads    = 32
	taskThreadsMin = 6 // a Go runtime's main thread, sysmon and a few Ms
	taskThreadsMax = 48

	corePipes, taskPipesMin, taskPipesMax          = 4, 2, 16
	coreEpolls, taskEpollsMin, taskEpollsMax       = 4, 2, 8 // a Go runtime's netpoller needs one
	coreEventfds, taskEventfdsMin, taskEventfdsMax = 4, 2, 8 // ... and one eventfd
)

var (
	threadPool  = mm.Pool{Total: maxThreads - 1, Keep: coreThreads} // slot 0 is the idle thread
	pipePool    = mm.Pool{Total: maxPipes, Keep: corePipes}
	epollPool   = mm.Pool{Total: maxEpolls, Keep: coreEpolls}
	eventfdPool = mm.Pool{Total: maxEventfds, Keep: coreEventfds}
)

// shareIn returns process p's share of table pl (nil for the core, whose entries come out of
// everything not promised to a task).
//
//go:nosplit
func shareIn(pl *mm.Pool, p int32) *mm.Share {
	if p == coreProc {
		return nil
	}
	pr := &procs[p&(maxProcs-1)]
	switch pl {
	case &threadPool:
		return &pr.threads
	case &pipePool:
		return &pr.pipes
	case &epollPool:
		return &pr.epolls
	case &eventfdPool:
		return &pr.eventfds
	case &mm.FramePool:
		return mm.Space(p).Mem()
	}
	return nil
}
