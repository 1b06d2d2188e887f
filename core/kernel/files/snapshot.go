package files

// A task's descriptors in a snapshot (package snapshot): the console, epoll instances with
// their interest lists and eventfds with their counters — a Go runtime's netpoller — so that
// an instance restored from the snapshot finds the same objects under the same numbers.
// Pipes and open files are not recorded: a task holding one is not snapshotted (the other end
// of a pipe, and the file server's handle, belong to someone else's state).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/task"
)

type savedEpoll struct {
	obj      int32 // its slot in the snapshotted task: descriptors sharing it share the copy
	interest [maxInterest]epollInterest
	n        int
}

type savedEventfd struct {
	obj   int32
	count uint64
}

type savedFiles struct {
	fds      task.FDTable
	epolls   [taskEpollsMax]savedEpoll
	eventfds [taskEventfdsMax]savedEventfd
	nep, nev int
}

var saved [mm.MaxSnapshots]savedFiles

// Save records t's descriptors under snapshot slot snap. It returns "" or what keeps t from
// being snapshotted.
//
//go:nosplit
func Save(t *task.Task, snap int) string {
	s := &saved[snap&(mm.MaxSnapshots-1)]
	s.fds, s.nep, s.nev = t.FDs, 0, 0
	for n := range s.fds {
		d := &s.fds[n]
		switch d.Kind {
		case task.FDNone, task.FDConsole:
		case task.FDEpoll:
			if s.findEpoll(d.Obj) >= 0 {
				continue
			}
			if s.nep == taskEpollsMax {
				return "too many epoll instances"
			}
			e := &epolls[d.Obj&(maxEpolls-1)]
			s.epolls[s.nep&(taskEpollsMax-1)] = savedEpoll{obj: d.Obj, interest: e.interest, n: e.n}
			s.nep++
		case task.FDEventfd:
			if s.findEventfd(d.Obj) >= 0 {
				continue
			}
			if s.nev == taskEventfdsMax {
				return "too many eventfds"
			}
			s.eventfds[s.nev&(taskEventfdsMax-1)] = savedEventfd{obj: d.Obj, count: eventfds[d.Obj&(maxEventfds-1)].count}
			s.nev++
		case task.FDPipeRead, task.FDPipeWrite:
			return "it has a pipe open"
		default:
			return "it has a file open"
		}
	}
	return ""
}

//go:nosplit
func (s *savedFiles) findEpoll(obj int32) int {
	for k := 0; k < s.nep; k++ {
		if s.epolls[k&(taskEpollsMax-1)].obj == obj {
			return k
		}
	}
	return -1
}

//go:nosplit
func (s *savedFiles) findEventfd(obj int32) int {
	for k := 0; k < s.nev; k++ {
		if s.eventfds[k&(taskEventfdsMax-1)].obj == obj {
			return k
		}
	}
	return -1
}

// Restore gives t, a task just admitted, the descriptors recorded under snapshot slot snap:
// new objects with the recorded state, under the recorded numbers. false if t's shares or the
// tables cannot have them (what it got is freed with it).
//
//go:nosplit
func Restore(t *task.Task, snap int) bool {
	s := &saved[snap&(mm.MaxSnapshots-1)]
	var epollObj [taskEpollsMax]int32
	var eventfdObj [taskEventfdsMax]int32
	for k := 0; k < s.nep; k++ {
		i := newEpoll(t)
		if i < 0 {
			return false
		}
		se := &s.epolls[k&(taskEpollsMax-1)]
		e := &epolls[i&(maxEpolls-1)]
		e.interest, e.n = se.interest, se.n
		epollObj[k&(taskEpollsMax-1)] = i
	}
	for k := 0; k < s.nev; k++ {
		i := newEventfd(t, s.eventfds[k&(taskEventfdsMax-1)].count)
		if i < 0 {
			return false
		}
		eventfdObj[k&(taskEventfdsMax-1)] = i
	}
	for n := range s.fds {
		d := s.fds[n]
		switch d.Kind {
		case task.FDEpoll:
			d.Obj = epollObj[s.findEpoll(d.Obj)&(taskEpollsMax-1)]
		case task.FDEventfd:
			d.Obj = eventfdObj[s.findEventfd(d.Obj)&(taskEventfdsMax-1)]
		}
		d.Gen = gen(d.Kind, d.Obj)
		t.FDs[n] = d
	}
	return true
}
