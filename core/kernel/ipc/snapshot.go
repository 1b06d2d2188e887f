package ipc

// A task's endpoints in a snapshot (package snapshot): which it serves, so that an instance
// restored from the snapshot serves them again. The restored endpoint takes the slot it had
// (the handles in the restored memory name it) under a new generation: clients' handles from
// before fail with ECONNRESET and look the name up again, as after a cold restart, while the
// owner's own handle is still honoured (servedBy).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/filter"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// maxSavedEndpoints bounds the endpoints a snapshot records.
const maxSavedEndpoints = 8

type savedEndpoint struct {
	slot int32
	gen  uint32
	name abi.Name
}

type savedEndpoints struct {
	n   int
	eps [maxSavedEndpoints]savedEndpoint
}

var saved [mm.MaxSnapshots]savedEndpoints

// Save records t's endpoints under snapshot slot snap; false if it serves too many.
//
//go:nosplit
func Save(t *task.Task, snap int) bool {
	s := &saved[snap&(mm.MaxSnapshots-1)]
	s.n = 0
	for i := range endpoints {
		e := &endpoints[i]
		if !e.used || e.owner != t.Slot() {
			continue
		}
		if s.n == maxSavedEndpoints {
			return false
		}
		gen := e.gen
		if e.ownGen != 0 {
			gen = e.ownGen // t was itself restored: its memory holds the first generation
		}
		s.eps[s.n&(maxSavedEndpoints-1)] = savedEndpoint{slot: int32(i), gen: gen, name: e.name}
		s.n++
	}
	return true
}

// Restore registers for t the endpoints recorded under snapshot slot snap, each in the slot it
// had; false (and nothing registered) if a slot or a name has been taken meanwhile.
//
//go:nosplit
func Restore(t *task.Task, snap int) bool {
	s := &saved[snap&(mm.MaxSnapshots-1)]
	for k := 0; k < s.n; k++ {
		se := &s.eps[k&(maxSavedEndpoints-1)]
		if ep(int(se.slot)).used || byName(&se.name) >= 0 {
			return false
		}
	}
	for k := 0; k < s.n; k++ {
		se := &s.eps[k&(maxSavedEndpoints-1)]
		e := ep(int(se.slot))
		e.used, e.owner = true, t.Slot()
		e.gen++
		if e.gen == se.gen {
			e.gen++
		}
		e.ownGen = se.gen
		e.name = se.name
		e.callers = [len(e.callers)]uint64{}
		e.filter = filter.ForEndpoint(&se.name)
	}
	return true
}
