package kernel

// eBPF filters on protected endpoints: the policy may attach a verified program to an
// endpoint name; every call to an endpoint of that name first runs it (core/bpfvm, the
// trap-safe interpreter) over a 64-byte context — the caller's badge, the endpoint handle, the
// label and the four inline words — and the call is refused (EPERM, one audit line) unless it
// returns 0.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (the filters are
// installed from ordinary goroutine context by SetEndpointFilter).

import (
	"errors"

	"github.com/simpleos/simpleos/core/bpfvm"
	"github.com/simpleos/simpleos/core/x86"
)

const maxFilters = 8

var filters struct {
	prog    [maxFilters]bpfvm.Program
	name    [maxFilters][32]byte
	nameLen [maxFilters]int
	n       int
	scratch bpfvm.Scratch
	ctx     [8]uint64
	runs    uint64
	insns   uint64
}

// filterFor returns 1 + the index of the filter attached to name, or 0.
//
//go:nosplit
func filterFor(name *[32]byte, n int) int32 {
	for i := 0; i < filters.n && i < maxFilters; i++ {
		if filters.nameLen[i] != n {
			continue
		}
		same := true
		for j := 0; j < n&31; j++ {
			if filters.name[i][j] != name[j] {
				same = false
				break
			}
		}
		if same {
			return int32(i + 1)
		}
	}
	return 0
}

// runFilter runs endpoint ep's filter over the call in msg; it reports whether the call may
// proceed and the verdict.
//
//go:nosplit
func runFilter(ep int, msg *ipcMsg) (bool, uint64) {
	f := int(endpoints[ep&(maxEndpoints-1)].filter) - 1
	if f < 0 {
		return true, 0
	}
	c := &filters.ctx
	c[0], c[1], c[2] = msg.badge, uint64(handleOf(ep&(maxEndpoints-1))), msg.label
	c[3], c[4], c[5], c[6], c[7] = msg.words[0], msg.words[1], msg.words[2], msg.words[3], 0
	r0, n, ok := runFilterProgram(f, c)
	filters.insns += uint64(n)
	return ok && r0 == 0, r0
}

// runFilterProgram runs filter f over the 64-byte context c.
//
//go:nosplit
func runFilterProgram(f int, c *[8]uint64) (uint64, int, bool) {
	filters.runs++
	return bpfvm.Run(&filters.prog[f&(maxFilters-1)], &filters.scratch, addrOf64(&c[0]), uint64(nanotime()))
}

// SetEndpointFilter attaches a program that policy/bpf has verified for the IPC-call hook to
// every endpoint registered under name. Call it before the tasks start.
func SetEndpointFilter(name string, raw []byte, maps []bpfvm.MapInfo) error {
	x86.Cli()
	defer x86.Sti()
	i, err := installFilter(raw, maps)
	if err != nil || len(name) == 0 || len(name) > 32 {
		return errors.New("kernel: too many filters, a bad endpoint name, or a program the kernel's interpreter does not run")
	}
	filters.nameLen[i] = copy(filters.name[i][:], name)
	filters.n++
	return nil
}

// installFilter installs a verified program in the next free slot (not yet counted).
func installFilter(raw []byte, maps []bpfvm.MapInfo) (int, error) {
	if filters.n == maxFilters {
		return 0, errors.New("too many filters")
	}
	i := filters.n
	if !bpfvm.Install(&filters.prog[i], raw, maps, 64) {
		return 0, errors.New("unsupported program")
	}
	return i, nil
}

// EventFilter is a verified program for the event hook, for one event a module subscribes to.
type EventFilter struct {
	Event string
	Raw   []byte
	Maps  []bpfvm.MapInfo
}

// FilterStats reports how many filter runs there were and how many instructions they took.
func FilterStats() (runs, insns uint64) { return filters.runs, filters.insns }
