// Package filter holds the eBPF programs the policy attaches to the kernel's hooks, run in the
// kernel (core/bpfvm, the trap-safe interpreter) over a 64-byte context: on calls to an
// endpoint of a given name (package ipc: the call is refused, EPERM and one audit line,
// unless the program returns 0), and on events a security module subscribes to (package
// event). Endpoint filters are the core's, installed at boot; event filters belong to the task
// whose policy module attaches them and are freed when it ends, so a module that restarts
// takes no new slot for good.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (programs are installed
// from goroutine context, interrupts off).
package filter

import (
	"errors"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/bpfvm"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const maxFilters = 16

// slot holds one installed program.
type slot struct {
	used     bool
	owner    int32 // task.Core for endpoint filters, else the task the event filter is for
	endpoint bool  // an endpoint filter, matched by name; else an event filter
	name     abi.Name
	prog     bpfvm.Program
}

var filters struct {
	slot    [maxFilters]slot
	scratch bpfvm.Scratch
	ctx     [8]uint64
	runs    uint64
	insns   uint64
}

// ID names an installed filter: 1 + its slot, 0 = none.
type ID int32

// ForEndpoint returns the endpoint filter attached to name, or 0.
//
//go:nosplit
func ForEndpoint(name *abi.Name) ID {
	for i := range filters.slot {
		if f := &filters.slot[i]; f.used && f.endpoint && f.name.Equal(name) {
			return ID(i + 1)
		}
	}
	return 0
}

// Run runs filter f over the context words (the hook's layout); it reports whether the
// program allows what it screens (it returns 0) and its verdict.
//
//go:nosplit
func Run(f ID, c0, c1, c2, c3, c4, c5, c6 uint64) (bool, uint64) {
	if f <= 0 {
		return true, 0
	}
	c := &filters.ctx
	c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7] = c0, c1, c2, c3, c4, c5, c6, 0
	filters.runs++
	r0, n, ok := bpfvm.Run(&filters.slot[int(f-1)&(maxFilters-1)].prog, &filters.scratch, arch.Addr(&c[0]), uint64(arch.Nanotime()))
	filters.insns += uint64(n)
	return ok && r0 == 0, r0
}

// TaskEnded frees the event filters of an ended task.
//
//go:nosplit
func TaskEnded(t *task.Task) {
	for i := range filters.slot {
		if f := &filters.slot[i]; f.used && !f.endpoint && f.owner == t.Slot() {
			f.used = false
		}
	}
}

// Install installs a program that policy/bpf has verified, as the endpoint filter of name
// (endpoint) or as an event filter of task owner, in a free slot. The caller holds interrupts
// off.
func Install(owner int32, endpoint bool, name abi.Name, raw []byte, maps []bpfvm.MapInfo) (ID, error) {
	for i := range filters.slot {
		f := &filters.slot[i]
		if f.used {
			continue
		}
		if !bpfvm.Install(&f.prog, raw, maps, 64) {
			return 0, errors.New("kernel: a program the kernel's interpreter does not run")
		}
		f.used, f.owner, f.endpoint, f.name = true, owner, endpoint, name
		return ID(i + 1), nil
	}
	return 0, errors.New("kernel: every filter slot is in use")
}

// Stats reports how many filter runs there were and how many instructions they took.
func Stats() (runs, insns uint64) { return filters.runs, filters.insns }
