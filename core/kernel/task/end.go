package task

// Why a task ended: one typed reason, decided by the kernel from what it saw — an exit
// status, a fault it delivered, a signal, a kill — and recorded once, by MarkEnding, in the
// task itself (an End is too big for the nosplit stack). What the task printed on its way
// down (CrashWatch) is passed along as its last words, and decides nothing.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
)

// Reason is why a task ended.
type Reason uint8

const (
	Exited   Reason = iota + 1 // it exited: Code is its status
	Faulted                    // a CPU fault it did not survive: Vector, RIP and Addr
	Signaled                   // a signal whose default action ends it: Code is the signal
	Killed                     // the kernel or the supervisor ended it: Cause says why
)

// Cause is what the kernel saw, beyond the reason.
type Cause uint8

const (
	NoCause        Cause = iota
	MemoryQuota          // it reached its memory quota
	NoMemory             // beyond its reservation, no frame was left that it may take
	NoHandler            // a fault with no handler (or blocked)
	BySignal             // a signal's default action
	BadSignalFrame       // its signal frame could not be written or read
	BySupervisor         // the supervisor killed it (watchdog, request)
	BlockedDMA           // the IOMMU blocked a DMA access of its device
)

// NoVector marks an End without a CPU fault.
const NoVector = 0xffff

// End is what the supervisor learns about a task's end.
type End struct {
	PID, Slot  int32
	Reason     Reason
	Cause      Cause
	Code       int64
	Vector     uint64
	RIP, Addr  uint64
	TimeNs     int64
	CPUNs      int64
	StartNs    int64
	OutputNs   int64
	Msg        [160]byte // the runtime's last words ("panic: ..."), if it printed them
	MsgLen     int
	Fn         [96]byte // the first user function of its goroutine trace
	FnLen      int
	FramesFree uint64
}

// MarkEnding records why t ends and marks it ending. The first end recorded is the one
// reported. Its teardown runs at the top of the trap path (the kernel's FinishEnded), never
// deep inside the call chain that ended it.
//
//go:nosplit
func (t *Task) MarkEnding(r Reason, c Cause, code int64, vector, rip, addr uint64) {
	if !t.live || t.ending || t.slot == Core {
		return
	}
	t.ending = true
	endsPending++
	e := &t.end
	*e = End{}
	e.PID, e.Slot, e.Reason, e.Cause, e.Code = t.pid, t.slot, r, c, code
	e.Vector, e.RIP, e.Addr = vector, rip, addr
	e.TimeNs = arch.Nanotime()
	e.CPUNs = t.CPU()
	e.StartNs, e.OutputNs = t.StartNs, t.OutputNs
	e.MsgLen = copy(e.Msg[:], prefix(t.Crash.msg[:], t.Crash.msgLen))
	e.FnLen = copy(e.Fn[:], prefix(t.Crash.fn[:], t.Crash.fnLen))
}

// Exit ends t with exit status code: a status that is not 0 after a fault the kernel
// delivered to it (its runtime turned the fault into a panic and died of it) is that fault.
//
//go:nosplit
func (t *Task) Exit(code int) {
	if f := &t.Crash; code != 0 && f.faultValid {
		t.MarkEnding(Faulted, NoCause, int64(code), f.faultVector, f.faultRIP, f.faultAddr)
		return
	}
	t.MarkEnding(Exited, NoCause, int64(code), NoVector, 0, 0)
}

// endsPending counts tasks marked ending and not yet torn down.
var endsPending int

// EndsPending reports whether some task waits to be torn down.
//
//go:nosplit
func EndsPending() bool { return endsPending > 0 }

// NextEnding returns a task marked ending, or nil.
//
//go:nosplit
func NextEnding() *Task {
	for i := 1; i < Max && endsPending > 0; i++ {
		if tasks[i].ending {
			return &tasks[i]
		}
	}
	return nil
}

// The ends waiting for the supervisor, oldest first.
const maxEnds = 64

var ends struct {
	ring       [maxEnds]End
	head, tail uint64 // head: next to read; tail: next to write
	dropped    uint64
	waiters    sched.Queue // the supervisor, in wait_event
}

// Finished queues the end of torn-down task t for the supervisor and wakes it; the slot is
// free (Free ran).
//
//go:nosplit
func (t *Task) Finished() {
	endsPending--
	if ends.tail-ends.head == maxEnds {
		ends.dropped++
		ends.head++
	}
	e := &ends.ring[ends.tail%maxEnds]
	*e = t.end
	e.FramesFree = mm.Frames().Free
	ends.tail++
	ends.waiters.WakeAll()
}

// NextEnd takes the oldest end not yet taken; ok=false if there is none. Goroutine context,
// interrupts off.
func NextEnd() (End, bool) {
	if ends.head == ends.tail {
		return End{}, false
	}
	e := ends.ring[ends.head%maxEnds]
	ends.head++
	return e, true
}

// EndQueued reports whether an end waits for the supervisor, and its wait queue.
//
//go:nosplit
func EndQueued() (bool, *sched.Queue) { return ends.head != ends.tail, &ends.waiters }
