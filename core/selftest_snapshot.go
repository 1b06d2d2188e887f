package main

// selftest=snapshot:N — snapshots through the kernel's task API, with the snapshotee module
// (tests/testdata/apps/snapshotee, passed with --app): start it with a snapshot asked for and
// wait for the snapshot; restore a second instance beside the first and check that neither
// can write a frame the other or the snapshot holds; kill both, then restore and kill N
// times; check that a snapshot of another key (a changed binary) is dropped, not restored,
// and that the cold start works; drop the snapshot and check that the frames outside the core
// are back to their count before the first start. One line:
//
//	selftest snapshot restores=N shared-writable=0 leaked-frames=0 restore-us=P50 stale=dropped cold=ok

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/simpleos/simpleos/core/kernel"
)

func testSnapshot(arg string) error {
	n, err := intArg(arg, 1, 100_000)
	if err != nil {
		return err
	}
	var image []byte
	for _, m := range kernel.Modules() {
		if strings.Contains(m.Cmdline, "snapshotee") {
			image = m.Data
		}
	}
	if image == nil {
		return errors.New("no snapshotee module: pass it with --app")
	}
	before := kernel.FramesOutsideCore()
	spec := kernel.TaskSpec{Name: "snapshotee", Ring: 3, Image: image, Args: []string{"snapshotee", "-mb", "2"},
		Snapshot: true, SnapshotKey: 1}
	first, err := kernel.StartTask(spec)
	if err != nil {
		return err
	}
	if !waitFor(10*time.Second, func() bool { _, ok := kernel.SnapshotOf("snapshotee"); return ok }) {
		return errors.New("the first instance was never snapshotted")
	}
	second, err := kernel.RestoreTask(spec)
	if err != nil {
		return fmt.Errorf("restoring a second instance: %w", err)
	}
	time.Sleep(300 * time.Millisecond) // both check the snapshot's memory and write their own
	shared := max(kernel.WritableSharedPages(first), 0) + max(kernel.WritableSharedPages(second), 0)
	if err := killAndWait(first, second); err != nil {
		return err
	}

	var took []time.Duration
	var costs [5][]time.Duration // admit, memory, objects, threads, total: in the kernel
	for i := range n {
		t0 := time.Now()
		pid, err := kernel.RestoreTask(spec)
		if err != nil {
			return fmt.Errorf("restore %d: %w", i+1, err)
		}
		took = append(took, time.Since(t0))
		c := kernel.LastRestoreCost()
		for j, d := range []time.Duration{c.Admit, c.Memory, c.Objects, c.Threads, c.Total} {
			costs[j] = append(costs[j], d)
		}
		time.Sleep(time.Duration(i%4) * time.Millisecond) // killed at various points of its run
		if err := killAndWait(pid); err != nil {
			return err
		}
	}
	st, _ := kernel.SnapshotOf("snapshotee")

	stale := "restored"
	spec.SnapshotKey = 2 // what the supervisor's key says of a changed binary
	if _, err := kernel.RestoreTask(spec); errors.Is(err, kernel.ErrSnapshotStale) {
		if _, ok := kernel.SnapshotOf("snapshotee"); !ok {
			stale = "dropped"
		}
	}
	cold := "failed"
	spec.Snapshot = false
	if pid, err := kernel.StartTask(spec); err == nil {
		time.Sleep(100 * time.Millisecond)
		if killAndWait(pid) == nil {
			cold = "ok"
		}
	}
	kernel.DropSnapshot("snapshotee")
	after := kernel.FramesOutsideCore()
	slices.Sort(took)
	median := func(d []time.Duration) int64 { slices.Sort(d); return int64(d[len(d)/2]) }
	fmt.Printf("selftest snapshot restore-ns (medians, kernel clock) admit=%d memory=%d objects=%d threads=%d kernel=%d\n",
		median(costs[0]), median(costs[1]), median(costs[2]), median(costs[3]), median(costs[4]))
	fmt.Printf("selftest snapshot restores=%d shared-writable=%d leaked-frames=%d restore-us=%d stale=%s cold=%s pages=%d threads=%d\n",
		st.Restores, shared, int64(after)-int64(before), took[len(took)/2].Microseconds(), stale, cold, st.Pages, st.Threads)
	if shared != 0 || after != before || stale != "dropped" || cold != "ok" || st.Restores != uint64(n+1) {
		return errors.New("snapshots misbehaved (see the line above)")
	}
	return nil
}

// killAndWait kills the tasks and waits for their ends.
func killAndWait(pids ...int) error {
	for _, pid := range pids {
		if !kernel.KillTask(pid) {
			return fmt.Errorf("pid %d ended before it was killed", pid)
		}
	}
	for range pids {
		kernel.WaitTaskEvent()
	}
	return nil
}

// waitFor polls cond every millisecond until it holds or limit passes.
func waitFor(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
