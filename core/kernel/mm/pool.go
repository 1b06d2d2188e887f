package mm

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

// Pool is one table's accounting.
type Pool struct {
	Total    int64 // entries
	Keep     int64 // the core's reserve: never lent to a task beyond its reservation
	used     int64 // taken, by the core or by tasks
	promised int64 // reserved for tasks and not yet taken by them
}

// Share is one task's part of a pool.
type Share struct {
	held, reserve, limit int64
}

// Admit promises share s a reservation of reserve entries and sets its limit; ok=false (and
// nothing promised) if the pool cannot promise that many.
//
//go:nosplit
func (p *Pool) Admit(s *Share, reserve, limit int64) bool {
	if reserve > limit || p.Total-p.used-p.promised-p.Keep < reserve {
		return false
	}
	*s = Share{reserve: reserve, limit: limit}
	p.promised += reserve
	return true
}

// Take takes one entry for share s (nil: the core); ok=false if s may not have one more.
//
//go:nosplit
func (p *Pool) Take(s *Share) bool {
	free := p.Total - p.used
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
		if free-p.promised-p.Keep <= 0 {
			return false
		}
	}
	p.used++
	if s != nil {
		s.held++
	}
	return true
}

// Give returns one entry of share s (nil: the core).
//
//go:nosplit
func (p *Pool) Give(s *Share) {
	p.used--
	if s != nil {
		s.held--
		if s.held < s.reserve {
			p.promised++
		}
	}
}

// Move moves one entry held by from to to: the entry stays taken, nothing more is promised.
// When from held it out of its reservation, the reservation goes with it (from's shrinks by
// one): to, which has none (a snapshot's), holds it as taken, and the pool's promises stay
// what they were — what a task's snapshot holds never counts twice.
//
//go:nosplit
func (p *Pool) Move(from, to *Share) {
	if from.held <= from.reserve {
		from.reserve--
	}
	from.held--
	to.held++
}

// Release withdraws s's reservation when its task has ended and given every entry back.
//
//go:nosplit
func (p *Pool) Release(s *Share) {
	if s.held != 0 {
		if p == &FramePool {
			arch.Panic("a task's frame Share was released while it still held frames:", uint64(s.held))
		}
		arch.Panic("a task's Share was released while it still held entries:", uint64(s.held))
	}
	p.promised -= s.reserve
	*s = Share{}
}

// Used is how many entries are taken, by the core and by tasks.
//
//go:nosplit
func (p *Pool) Used() int64 { return p.used }

// Headroom is how many entries a task beyond its reservation could still take.
//
//go:nosplit
func (p *Pool) Headroom() int64 {
	if n := p.Total - p.used - p.promised - p.Keep; n > 0 {
		return n
	}
	return 0
}

// The frame pool's reserve for the core: its own Go runtime, kernel stacks, page tables.
const coreFrames = 4096 // 16 MiB

// FramePool is the accounting of physical frames.
var FramePool = Pool{Keep: coreFrames}

// Held is how many entries the share holds.
//
//go:nosplit
func (s *Share) Held() int64 { return s.held }

// Limit is the most entries the share may hold.
//
//go:nosplit
func (s *Share) Limit() int64 { return s.limit }
