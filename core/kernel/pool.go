package kernel

import "github.com/simpleos/simpleos/core/kernel/arch"

// Shared tables and each task's share of them. Every table the core and the tasks draw from
// — physical frames, thread slots, pipes, epoll instances, eventfds — is a pool:
//
//   - the core keeps a reserve that no task can take (keep);
//   - each task is promised a reservation when it starts, and is refused if the pool cannot
//     promise it (admit): what a task was promised, no other task can take;
//   - beyond its reservation a task grows, up to its limit, out of what nobody was promised
//     and the core does not keep.
//
// So no task, and no group of tasks, can stop the core; and a task that stays within its
// reservation cannot be stopped by another. The core itself (a nil share) may take anything
// that is not promised to a task.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// pool is one table's accounting.
type pool struct {
	total    int64 // entries
	used     int64 // taken, by the core or by tasks
	promised int64 // reserved for tasks and not yet taken by them
	keep     int64 // the core's reserve: never lent to a task beyond its reservation
}

// share is one task's part of a pool.
type share struct {
	held, reserve, limit int64
}

// admit promises share s a reservation of reserve entries and sets its limit; ok=false (and
// nothing promised) if the pool cannot promise that many.
//
//go:nosplit
func (p *pool) admit(s *share, reserve, limit int64) bool {
	if reserve > limit || p.total-p.used-p.promised-p.keep < reserve {
		return false
	}
	*s = share{reserve: reserve, limit: limit}
	p.promised += reserve
	return true
}

// take takes one entry for share s (nil: the core); ok=false if s may not have one more.
//
//go:nosplit
func (p *pool) take(s *share) bool {
	free := p.total - p.used
	switch {
	case s == nil:
		if free-p.promised <= 0 {
			return false
		}
	case s.held >= s.limit:
		return false
	case s.held < s.reserve:
		p.promised-- // out of its own reservation
	default:
		if free-p.promised-p.keep <= 0 {
			return false
		}
	}
	p.used++
	if s != nil {
		s.held++
	}
	return true
}

// give returns one entry of share s (nil: the core).
//
//go:nosplit
func (p *pool) give(s *share) {
	p.used--
	if s != nil {
		s.held--
		if s.held < s.reserve {
			p.promised++
		}
	}
}

// release withdraws s's reservation when its task has ended and given every entry back.
//
//go:nosplit
func (p *pool) release(s *share) {
	if s.held != 0 {
		arch.Panic("a task's share was released while it still held entries:", uint64(s.held))
	}
	p.promised -= s.reserve
	*s = share{}
}

// headroom is how many entries a task beyond its reservation could still take.
//
//go:nosplit
func (p *pool) headroom() int64 {
	if n := p.total - p.used - p.promised - p.keep; n > 0 {
		return n
	}
	return 0
}

// Limits of the shared tables (entries): the core's reserve, and each task's reservation and
// limit unless its policy says otherwise.
const (
	coreFrames        = 4096 // 16 MiB: the core's own Go runtime, kernel stacks, page tables
	taskReserveFrames = 1024 // 4 MiB promised to every task (its quota when smaller): a Go runtime runs in 2-3

	coreThreads    = 32
	taskThreadsMin = 6 // a Go runtime's main thread, sysmon and a few Ms
	taskThreadsMax = 48

	corePipes, taskPipesMin, taskPipesMax          = 4, 2, 16
	coreEpolls, taskEpollsMin, taskEpollsMax       = 4, 2, 8 // a Go runtime's netpoller needs one
	coreEventfds, taskEventfdsMin, taskEventfdsMax = 4, 2, 8 // ... and one eventfd
)

var (
	framePool   = pool{keep: coreFrames}
	threadPool  = pool{total: maxThreads - 1, keep: coreThreads} // slot 0 is the idle thread
	pipePool    = pool{total: maxPipes, keep: corePipes}
	epollPool   = pool{total: maxEpolls, keep: coreEpolls}
	eventfdPool = pool{total: maxEventfds, keep: coreEventfds}
)

// shareIn returns process p's share of table pl (nil for the core, whose entries come out of
// everything not promised to a task).
//
//go:nosplit
func shareIn(pl *pool, p int32) *share {
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
	case &framePool:
		return &spaces[p&(maxProcs-1)].mem
	}
	return nil
}
