package kernel

// eBPF filters. The policy may attach a verified program to an endpoint name — every call to
// an endpoint of that name first runs it (core/bpfvm, the trap-safe interpreter) over a
// 64-byte context: the caller's badge, the endpoint handle, the label and the four inline
// words, and the call is refused (EPERM, one audit line) unless it returns 0 — or to an event
// a security module subscribes to (events.go). Endpoint filters are the core's, installed at
// boot; event filters belong to the task whose policy module attaches them and are freed when
// it ends, so a module that restarts takes no new slot for good.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (the filters are
// installed from ordinary goroutine context by SetEndpointFilter and StartTask).

import (
	"errors"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/bpfvm"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/x86"
)

const maxFilters = 16

// filterSlot holds one installed program.
type filterSlot struct {
	used     bool
	owner    int32 // coreProc for endpoint filters, else the task the event filter is for
	endpoint bool  // an endpoint filter, matched by name; else an event filter
	name     abi.Name
	prog     bpfvm.Program
}

var filters struct {
	slot    [maxFilters]filterSlot
	scratch bpfvm.Scratch
	ctx     [8]uint64
	runs    uint64
	insns   uint64
}

// filterFor returns 1 + the index of the endpoint filter attached to name, or 0.
//
//go:nosplit
func filterFor(name *abi.Name) int32 {
	for i := range filters.slot {
		if f := &filters.slot[i]; f.used && f.endpoint && f.name.Equal(name) {
			return int32(i + 1)
		}
	}
	return 0
}

// runFilter runs endpoint ep's filter over the call in msg; it reports whether the call may
// proceed and the verdict.
//
//go:nosplit
func runFilter(ep int, msg *abi.Message) (bool, uint64) {
	f := int(endpoints[ep&(maxEndpoints-1)].filter) - 1
	if f < 0 {
		return true, 0
	}
	c := &filters.ctx
	c[0], c[1], c[2] = msg.Badge, uint64(handleOf(ep&(maxEndpoints-1))), msg.Label
	c[3], c[4], c[5], c[6], c[7] = msg.Words[0], msg.Words[1], msg.Words[2], msg.Words[3], 0
	r0, n, ok := runFilterProgram(f, c)
	filters.insns += uint64(n)
	return ok && r0 == 0, r0
}

// runFilterProgram runs filter f over the 64-byte context c.
//
//go:nosplit
func runFilterProgram(f int, c *[8]uint64) (uint64, int, bool) {
	filters.runs++
	return bpfvm.Run(&filters.slot[f&(maxFilters-1)].prog, &filters.scratch, arch.Addr(&c[0]), uint64(arch.Nanotime()))
}

// filtersEnded frees the event filters of an ended task.
//
//go:nosplit
func filtersEnded(p int) {
	for i := range filters.slot {
		if f := &filters.slot[i]; f.used && !f.endpoint && int(f.owner) == p {
			f.used = false
		}
	}
}

// SetEndpointFilter attaches a program that policy/bpf has verified for the IPC-call hook to
// every endpoint registered under name. Call it before the tasks start.
func SetEndpointFilter(name string, raw []byte, maps []bpfvm.MapInfo) error {
	n, ok := abi.MakeName(name)
	if !ok {
		return errors.New("kernel: " + abi.CheckName(name).Error())
	}
	x86.Cli()
	defer x86.Sti()
	_, err := installFilter(coreProc, true, n, raw, maps)
	return err
}

// installFilter installs a verified program in a free slot. The caller holds interrupts off.
func installFilter(owner int, endpoint bool, name abi.Name, raw []byte, maps []bpfvm.MapInfo) (int, error) {
	for i := range filters.slot {
		f := &filters.slot[i]
		if f.used {
			continue
		}
		if !bpfvm.Install(&f.prog, raw, maps, 64) {
			return 0, errors.New("kernel: a program the kernel's interpreter does not run")
		}
		f.used, f.owner, f.endpoint, f.name = true, int32(owner), endpoint, name
		return i, nil
	}
	return 0, errors.New("kernel: every filter slot is in use")
}

// EventFilter is a verified program for the event hook, for one event a module subscribes to.
type EventFilter struct {
	Event string
	Raw   []byte
	Maps  []bpfvm.MapInfo
}

// FilterStats reports how many filter runs there were and how many instructions they took.
func FilterStats() (runs, insns uint64) { return filters.runs, filters.insns }
