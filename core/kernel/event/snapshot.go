package event

// A task's subscriptions in a snapshot (package snapshot): an instance restored from it is
// subscribed to the same events, with the filters its policy module attaches (installed by
// its start hook, Attach, as for any instance). Events queued for the snapshotted instance are
// not: they were delivered to it.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/task"
)

type savedSubs struct {
	names [maxSubs]abi.Name
	n     int
}

var saved [mm.MaxSnapshots]savedSubs

// Save records t's subscriptions under snapshot slot snap.
//
//go:nosplit
func Save(t *task.Task, snap int) {
	s := &saved[snap&(mm.MaxSnapshots-1)]
	b := boxes.Of(t)
	s.n = 0
	for k := 0; k < b.nsubs && k < maxSubs; k++ {
		s.names[k&(maxSubs-1)] = b.subs[k&(maxSubs-1)].name
		s.n++
	}
}

// Restore subscribes t, just admitted, to the events recorded under snapshot slot snap.
//
//go:nosplit
func Restore(t *task.Task, snap int) {
	s := &saved[snap&(mm.MaxSnapshots-1)]
	for k := 0; k < s.n; k++ {
		subscribe(boxes.Of(t), &s.names[k&(maxSubs-1)])
	}
}
