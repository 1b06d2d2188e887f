package kernel

// Processes: an address space, a file table and signal dispositions shared by a group of
// threads. Process 0 is the core's own Go runtime (pid 1); the others are tasks (task.go),
// each in its own address space on ring 1, 2 or 3. Process p always uses mm.Space(p).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

const maxProcs = 32
const maxFDs = 64

// File-descriptor kinds.
const (
	fdNone = iota
	fdConsole
	fdEpoll
	fdEventfd
	fdPipeRead
	fdPipeWrite
)

type fileDesc struct {
	kind  uint32
	obj   int32  // index into the epoll, eventfd or pipe table
	gen   uint32 // the object's generation when the descriptor was made (objectGen)
	flags uint32 // O_NONBLOCK
}

// sigAction mirrors the kernel's struct sigaction for x86-64.
type sigAction struct {
	handler, flags, restorer, mask uint64
}

// Process is a group of threads sharing memory, files and signal handlers.
type Process struct {
	pid     int32
	live    bool
	ring    int32
	space   int32 // index into spaces (always the process's own index)
	fds     [maxFDs]fileDesc
	actions [65]sigAction

	name abi.Name // its task name

	// Limits and accounting (tasks). Its frames are its address space's share (mm.Space(p).Mem()).
	threads, pipes, epolls, eventfds mm.Share // its shares of the kernel's tables (mm.Pool.go)
	cpuNs                            int64    // CPU time of threads that have exited
	startNs                          int64
	lastBeat                         int64 // last heartbeat (private system call), monotonic ns
	outputNs                         int64 // first output of this instance, monotonic ns
	midLine                          bool  // console output: not at the start of a line

	crash  crashWatch // the runtime's panic output and the fault behind it
	ending bool       // endTask marked it; finishEndedTasks tears it down
	end    taskEnd    // why it ends, for the supervisor

	// What the policy lets it do with IPC (ipc.go): endpoint names it may serve and call.
	serves, calls nameList

	notifyBits uint64 // notifications (notify.go)
	rng        rng    // its random numbers (rng.go)
	audit      auditBucket
}

var procs [maxProcs]Process

const coreProc = 0 // the core's own Go runtime

//go:nosplit
func curProc() *Process { return &procs[cur().proc&(maxProcs-1)] }

//go:nosplit
func curSpace() *mm.AddressSpace { return mm.Space(curProc().space) }

//go:nosplit
func (p *Process) nameString() string {
	return arch.UnsafeString(&p.name.Bytes[0], int(p.name.Len))
}

// procCPU returns the CPU time used by process p: its exited threads plus its live ones.
//
//go:nosplit
func procCPU(p int) int64 {
	n := procs[p&(maxProcs-1)].cpuNs
	for i := 1; i < maxThreads; i++ {
		t := &threads[i]
		if int(t.proc) == p && (t.state == threadRunnable || t.state == threadBlocked) {
			n += t.cpuNs
		}
	}
	if int(cur().proc) == p {
		n += arch.Nanotime() - runStart
	}
	return n
}
