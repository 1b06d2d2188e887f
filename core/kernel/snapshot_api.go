package kernel

// Snapshots through the task API (package snapshot has the mechanism): restore a module from
// its snapshot, drop one, read its figures, and check that no instance shares memory it may
// write. Goroutine context, interrupts off around every change to kernel state.

import (
	"errors"
	"fmt"
	"time"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/snapshot"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// Errors of RestoreTask when there is nothing to restore: the caller starts the task cold.
var (
	ErrNoSnapshot    = errors.New("kernel: the module has no snapshot")
	ErrSnapshotStale = errors.New("kernel: the module's snapshot is of another binary, policy or content (dropped)")
)

// RestoreTask starts the module spec.Name from its snapshot (package snapshot): a new task,
// pid and address space, whose memory, threads and kernel objects are the snapshot's. It
// returns ErrNoSnapshot if there is none, ErrSnapshotStale (and drops it) if it was taken of
// an instance with another spec.SnapshotKey, or why it could not be restored.
func RestoreTask(spec TaskSpec) (int, error) {
	if spec.Ring < 1 || spec.Ring > 3 {
		return 0, fmt.Errorf("task %s: ring %d: want 1, 2 or 3", spec.Name, spec.Ring)
	}
	name, ok := abi.MakeName(spec.Name)
	if !ok {
		return 0, fmt.Errorf("task %s: not a name", spec.Name)
	}
	interruptsOff()
	defer interruptsOn()
	k, key := snapshot.Find(&name)
	switch {
	case k < 0:
		return 0, ErrNoSnapshot
	case key != spec.SnapshotKey:
		snapshot.Drop(k)
		return 0, ErrSnapshotStale
	}
	t0 := arch.Nanotime()
	t, err := admit(&spec)
	if err != nil {
		return 0, err
	}
	t1 := arch.Nanotime()
	if why := snapshot.Restore(t, k); why != "" {
		discard(t)
		return 0, fmt.Errorf("task %s: restoring its snapshot: %s", spec.Name, why)
	}
	for _, port := range spec.Ports {
		t.Space().TSS().AllowPort(port)
	}
	c := snapshot.LastCost
	lastRestore = RestoreCost{
		Admit:   time.Duration(t1 - t0),
		Memory:  time.Duration(c.Memory),
		Objects: time.Duration(c.Objects),
		Threads: time.Duration(c.Threads),
		Total:   time.Duration(arch.Nanotime() - t0),
	}
	return int(t.PID()), nil
}

// RestoreCost is where RestoreTask's time went, on the kernel clock (guest instructions under
// -icount shift=0): admitting the task (its slot, address space, TSS, the start hooks), its
// memory, its kernel objects, its threads, and the whole call with interrupts off.
type RestoreCost struct{ Admit, Memory, Objects, Threads, Total time.Duration }

var lastRestore RestoreCost

// LastRestoreCost is the cost of the last successful RestoreTask.
func LastRestoreCost() RestoreCost {
	interruptsOff()
	defer interruptsOn()
	return lastRestore
}

// DropSnapshot lets the module's snapshot go (its binary, policy or content changed): its
// next start is cold. Instances restored from it run on.
func DropSnapshot(module string) {
	name, ok := abi.MakeName(module)
	if !ok {
		return
	}
	interruptsOff()
	defer interruptsOn()
	if k, _ := snapshot.Find(&name); k >= 0 {
		snapshot.Drop(k)
	}
}

// SnapshotStats describes a module's snapshot.
type SnapshotStats = snapshot.Stats

// SnapshotOf returns the figures of the module's snapshot; ok=false if it has none.
func SnapshotOf(module string) (SnapshotStats, bool) {
	name, ok := abi.MakeName(module)
	if !ok {
		return SnapshotStats{}, false
	}
	interruptsOff()
	defer interruptsOn()
	k, _ := snapshot.Find(&name)
	if k < 0 {
		return SnapshotStats{}, false
	}
	return snapshot.StatsOf(k), true
}

// WritableSharedPages counts the pages task pid may write whose frames another task's address
// space also maps, or a snapshot holds: memory no two instances may share. -1 if pid is not
// running. It copies the page tables it reads with interrupts off, then compares the copies.
func WritableSharedPages(pid int) int {
	mine := make([]mm.PageEntry, 1<<16)
	others := make([]mm.PageEntry, 1<<18)
	interruptsOff()
	i := task.ByPID(pid)
	if i < 0 {
		interruptsOn()
		return -1
	}
	n := min(mm.Space(i).Pages(mine), len(mine))
	m := 0
	for j := 1; j < task.Max; j++ {
		if t := task.Get(j); j != i && t.Live() {
			m += mm.Space(j).Pages(others[min(m, len(others)):])
		}
	}
	for k := 0; k < mm.MaxSnapshots; k++ {
		m += snapshot.Pages(k, others[min(m, len(others)):])
	}
	interruptsOn()
	held := make(map[uint64]bool, m)
	for _, e := range others[:min(m, len(others))] {
		held[e.PTE&mm.PTEAddrMask] = true
	}
	shared := 0
	for _, e := range mine[:n] {
		if e.PTE&mm.PTEWrite != 0 && held[e.PTE&mm.PTEAddrMask] {
			shared++
		}
	}
	return shared
}
