package vfs

// A task's working directory in a snapshot (package snapshot): its root and grants come from
// its policy, as for any instance, but it may have changed directory before it was ready.
// Open files keep a task from being snapshotted (package files says so).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/task"
)

var savedCwd [mm.MaxSnapshots]Path

// Save records t's working directory under snapshot slot snap.
//
//go:nosplit
func Save(t *task.Task, snap int) { savedCwd[snap&(mm.MaxSnapshots-1)] = views.Of(t).cwd }

// Restore gives t, just admitted, the working directory recorded under snapshot slot snap.
//
//go:nosplit
func Restore(t *task.Task, snap int) { views.Of(t).cwd = savedCwd[snap&(mm.MaxSnapshots-1)] }
