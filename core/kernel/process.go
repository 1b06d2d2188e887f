package kernel

// Processes: an address space, a file table and signal dispositions shared by a group of
// threads. For now the only process is the core's own Go runtime (pid 1).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const maxProcs = 4
const maxFDs = 64

// File-descriptor kinds.
const (
	fdNone = iota
	fdConsole
	fdEpoll
	fdEventfd
)

type fileDesc struct {
	kind uint32
	obj  int32 // index into the epoll or eventfd table
}

// sigAction mirrors the kernel's struct sigaction for x86-64.
type sigAction struct {
	handler, flags, restorer, mask uint64
}

// Process is a group of threads sharing memory, files and signal handlers.
type Process struct {
	pid     int32
	live    bool
	space   int32 // index into spaces
	fds     [maxFDs]fileDesc
	actions [65]sigAction
	name    [16]byte
}

var procs [maxProcs]Process
var spaces [maxProcs]AddressSpace

const coreProc = 0 // the core's own Go runtime

//go:nosplit
func curProc() *Process { return &procs[cur().proc&(maxProcs-1)] }

//go:nosplit
func curSpace() *AddressSpace { return &spaces[curProc().space&(maxProcs-1)] }
