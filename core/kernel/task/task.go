package task

// The task table.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/rng"
	"github.com/simpleos/simpleos/core/kernel/sched"
)

// Max is the size of the task table; slot i uses address space i.
const Max = mm.MaxSpaces

// Core is the core's own slot: its Go runtime, pid 1, ring 0.
const Core = 0

// Task is one process: a group of threads sharing an address space, descriptors and signal
// dispositions.
type Task struct {
	slot   int32
	pid    int32
	live   bool
	ending bool // MarkEnding marked it; the kernel tears it down at the top of the trap path
	ring   int32
	name   abi.Name
	end    End // why it ends, for the supervisor

	// Threads is its share of the thread table (sched.ThreadPool).
	Threads mm.Share
	// FDs is its descriptor table (package files serves the objects).
	FDs FDTable
	// Actions are its signal dispositions (package signal delivers).
	Actions [65]SigAction
	// Grants is what its policy module lets it use.
	Grants Grants
	// RNG is its random-number generator (getrandom, AT_RANDOM).
	RNG rng.Generator
	// Crash follows what its runtime prints on the way down and the last fault it took.
	Crash CrashWatch

	// Accounting, monotonic ns.
	ExitedCPU int64 // CPU time of its threads that have exited
	SpinNs    int64 // CPU time its threads ran without a system call (the watchdog's samples)
	StartNs   int64
	// InheritedNs is a restored instance's age when its snapshot was taken: it resumes at
	// that point of its life (0 for a cold start).
	InheritedNs int64
	LastBeat    int64 // its last heartbeat (0: none)
	OutputNs    int64 // its first output (0: none)
}

// SigAction mirrors the kernel's struct sigaction for x86-64.
type SigAction struct {
	Handler, Flags, Restorer, Mask uint64
}

var tasks [Max]Task

var nextPID int32 = 2

// Get returns the task in slot i.
//
//go:nosplit
func Get[I ~int | ~int32](i I) *Task { return &tasks[int(i)&(Max-1)] }

// Of returns the task thread t belongs to.
//
//go:nosplit
func Of(t *sched.Thread) *Task { return Get(t.Task()) }

// Cur returns the task of the running thread.
//
//go:nosplit
func Cur() *Task { return Get(sched.Cur().Task()) }

// ByPID returns the slot of the live task pid (the core's never), or -1.
//
//go:nosplit
func ByPID(pid int) int {
	for i := 1; i < Max; i++ {
		if tasks[i].live && int(tasks[i].pid) == pid {
			return i
		}
	}
	return -1
}

// Slot, PID, Ring, Live and Ending say who the task is.
//
//go:nosplit
func (t *Task) Slot() int32 { return t.slot }

//go:nosplit
func (t *Task) PID() int32 { return t.pid }

//go:nosplit
func (t *Task) Ring() int32 { return t.ring }

//go:nosplit
func (t *Task) Live() bool { return t.live }

//go:nosplit
func (t *Task) Ending() bool { return t.ending }

// IsCore reports whether t is the core's own runtime (ring 0: the policy does not apply).
//
//go:nosplit
func (t *Task) IsCore() bool { return t.slot == Core }

// Name is the task's name, for messages (a string over the task's own bytes).
//
//go:nosplit
func (t *Task) Name() string { return arch.UnsafeString(&t.name.Bytes[0], int(t.name.Len)) }

// NameBytes is the task's name as the kernel stores names.
//
//go:nosplit
func (t *Task) NameBytes() *abi.Name { return &t.name }

// Space is the task's address space.
//
//go:nosplit
func (t *Task) Space() *mm.AddressSpace { return mm.Space(t.slot) }

// CPU is the CPU time the task has used: its exited threads and its live ones.
//
//go:nosplit
func (t *Task) CPU() int64 { return t.ExitedCPU + sched.CPUOf(t.slot) }

// Why New could not make a task.
const (
	NewOK       = iota
	NewNoSlot   // every task slot is taken
	NewNoMemory // the frame pool cannot promise its memory reservation
	NewNoTables // the thread pool cannot promise its minimum
)

// Thread counts a task may hold: a Go runtime's main thread, sysmon and a few Ms at least.
const (
	ThreadsMin = 6
	ThreadsMax = 48
)

// New claims a task slot for a program on ring, has the thread and frame pools promise it its
// reservations — ThreadsMin threads, memReserve of its memLimit frames — and builds its
// address space. The services attach their state afterwards. The caller holds interrupts off.
//
//go:nosplit
func New(ring int, name string, memReserve, memLimit uint64) (*Task, int) {
	sched.ReapZombies()
	i := 1
	for ; i < Max && (tasks[i].live || sched.Busy(int32(i))); i++ {
	}
	if i >= Max {
		return nil, NewNoSlot
	}
	t := Get(i)
	*t = Task{slot: int32(i)}
	if !sched.ThreadPool.Admit(&t.Threads, ThreadsMin, ThreadsMax) {
		return nil, NewNoTables
	}
	if _, ok := mm.NewSpace(int32(i), ring, memReserve, memLimit); !ok {
		sched.ThreadPool.Release(&t.Threads)
		return nil, NewNoMemory
	}
	t.pid = nextPID
	nextPID++
	t.live = true
	t.ring = int32(ring)
	t.name.Len = uint8(copy(t.name.Bytes[:], name))
	t.RNG.Seed()
	t.StartNs = arch.Nanotime()
	t.FDs.initConsole()
	return t, NewOK
}

// InitCore makes slot Core the core's own runtime: pid 1, ring 0, the core's address space.
//
//go:nosplit
func InitCore() *Task {
	t := Get(Core)
	*t = Task{slot: Core, pid: 1, live: true}
	t.RNG.Seed()
	t.FDs.initConsole()
	return t
}

// StartThread creates a thread of the task at rip with stack pointer rsp, in its ring, and
// makes it runnable; it returns its slot, 0 if the task may not have another.
//
//go:nosplit
func (t *Task) StartThread(rip, rsp uint64) int {
	i, ok := sched.New(t.slot, t.slot, t.ring, &t.Threads)
	if !ok {
		return 0
	}
	tf := sched.Frame(i)
	tf.RIP, tf.RSP = rip, rsp
	tf.CS, tf.SS = arch.SelectorsForRing(int(t.ring))
	tf.RFLAGS = 0x202 // IF; IOPL 0: ports only through the I/O bitmap
	sched.Start(i)
	return i
}

// EndThreads ends every thread of the task (teardown): none of them runs again.
//
//go:nosplit
func (t *Task) EndThreads() {
	for i := sched.Next(t.slot, 0); i != 0; i = sched.Next(t.slot, i) {
		t.ExitedCPU += sched.T(i).CPU()
		sched.End(i, &t.Threads)
	}
}

// Free gives back what the task held of the kernel itself, its threads gone: its address
// space (every frame, page table and loan) and its thread reservation. The slot is free.
//
//go:nosplit
func (t *Task) Free() {
	sched.ThreadPool.Release(&t.Threads)
	t.Space().Destroy()
	t.live = false
	t.ending = false
}
