package main

// Restarts from snapshots (docs/snapshots.md): every module of the policy is started with a
// snapshot asked for, which the core takes when the module calls ipc.Ready; a restart then
// restores the snapshot (kernel.RestoreTask) and falls back to a cold start — loading the ELF
// and running the module's initialisation again — when there is none or it cannot be
// restored. A snapshot is keyed by what the instance was made of: its binary, ring, arguments,
// environment, memory and policy grants, and the current bytes of every content file it may
// read. When one of them changes the key does, and the next restart drops the old snapshot
// and starts cold (and that instance is snapshotted in turn).
//
// snapshot=off on the kernel command line turns snapshots off: every restart is cold (the
// benchmarks compare the two).

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/simpleos/simpleos/core/kernel"
	store "github.com/simpleos/simpleos/core/kernel/content"
)

// How an instance was started, for the supervisor's lines.
const (
	startCold     = "cold start"
	startSnapshot = "restored from its snapshot"
)

// snapshotKey is what spec's instance is made of, as a snapshot's key.
func (a *app) snapshotKey(spec *kernel.TaskSpec) uint64 {
	if a.imageSum == nil {
		sum := sha256.Sum256(a.image)
		a.imageSum = sum[:]
	}
	h := fnv.New64a()
	h.Write(a.imageSum)
	word := func(v uint64) { h.Write(binary.LittleEndian.AppendUint64(nil, v)) }
	list := func(ss []string) {
		word(uint64(len(ss)))
		for _, s := range ss {
			word(uint64(len(s)))
			h.Write([]byte(s))
		}
	}
	word(uint64(spec.Ring))
	word(spec.MemQuota)
	word(spec.MemReserve)
	list(spec.Args)
	list(spec.Env)
	list(spec.Serves)
	list(spec.Calls)
	list(spec.Events)
	list(spec.Publish)
	list(spec.Files)
	list([]string{spec.Root, spec.Cwd})
	for _, p := range spec.Ports {
		word(uint64(p))
	}
	for _, irq := range spec.IRQs {
		word(uint64(irq))
	}
	for _, f := range spec.Filters {
		list([]string{f.Event, string(f.Raw)})
	}
	for _, c := range spec.Content {
		h.Write([]byte(c))
		if s, ok := store.Get(c); ok {
			h.Write(s.Hash[:])
		}
	}
	return h.Sum64()
}

// startTask starts a's instance of spec: restored from its snapshot when it has a usable one,
// cold otherwise. It returns the pid and how it started.
func (st *supervisorState) startTask(a *app, spec kernel.TaskSpec, armed bool) (int, string, error) {
	// An instance started with a fault armed (-inject=...) is made of other arguments: it is
	// neither restored nor snapshotted, and the module's snapshot stays for the next restart.
	if !st.snapshots || a.module == nil || spec.Device != nil || armed {
		pid, err := kernel.StartTask(spec)
		return pid, startCold, err
	}
	spec.Snapshot = true
	spec.SnapshotKey = a.snapshotKey(&spec)
	if a.starts > 0 {
		pid, err := kernel.RestoreTask(spec)
		if err == nil {
			return pid, startSnapshot, nil
		}
		if !errors.Is(err, kernel.ErrNoSnapshot) {
			fmt.Printf("supervisor: %s: %v: cold start\n", a.spec.Name, err)
		}
	}
	pid, err := kernel.StartTask(spec)
	return pid, startCold, err
}
