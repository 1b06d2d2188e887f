package task

// A system call as its handler sees it, and what the handler says happens next.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
)

// Call is one system call being served: the task and thread making it and its arguments.
type Call struct {
	Slot  int // the calling thread's slot
	Frame *arch.TrapFrame
	// Again says the call runs again after a wait (a pipe has data now): its deadline is the
	// one it set the first time (Deadline).
	Again bool
}

// Thread is the calling thread.
//
//go:nosplit
func (c Call) Thread() *sched.Thread { return sched.T(c.Slot) }

// Task is the calling task.
//
//go:nosplit
func (c Call) Task() *Task { return Of(sched.T(c.Slot)) }

// Arg returns raw argument i (0-5: RDI, RSI, RDX, R10, R8, R9).
//
//go:nosplit
func (c Call) Arg(i int) uint64 { return c.Frame.Arg(i) }

// Ptr returns argument i as a user address (checked when it is used: package mm).
//
//go:nosplit
func (c Call) Ptr(i int) uintptr { return uintptr(c.Frame.Arg(i)) }

// Size returns argument i as a length.
//
//go:nosplit
func (c Call) Size(i int) uintptr { return uintptr(c.Frame.Arg(i)) }

// Int returns argument i as a C int.
//
//go:nosplit
func (c Call) Int(i int) int { return int(int32(c.Frame.Arg(i))) }

// FD returns argument i as a descriptor number: the whole register, so that a number with
// garbage in its upper bits names no descriptor rather than another one.
//
//go:nosplit
func (c Call) FD(i int) uint64 { return c.Frame.Arg(i) }

// Space is the caller's address space.
//
//go:nosplit
func (c Call) Space() *mm.AddressSpace { return c.Thread().Space() }

// Deadline returns the deadline of a wait of timeoutNs (0 or past 2^62: none): now plus the
// timeout, or, for a call run again, the deadline it set the first time.
//
//go:nosplit
func (c Call) Deadline(timeoutNs uint64) int64 {
	if c.Again {
		return sched.Deadline()
	}
	if !timed(timeoutNs) {
		return 0 // no clock to read
	}
	return DeadlineAt(arch.Nanotime(), timeoutNs)
}

// DeadlineAt is the deadline of a wait of timeoutNs (0 or past 2^62: none) begun at now: the
// rule of Deadline, for a caller that has read the clock already (the IPC fastpath).
//
//go:nosplit
func DeadlineAt(now int64, timeoutNs uint64) int64 {
	if !timed(timeoutNs) {
		return 0
	}
	return now + int64(timeoutNs)
}

// timed reports whether a timeout of timeoutNs sets a deadline: 0 and anything past 2^62
// (which now plus it would overflow) mean none.
//
//go:nosplit
func timed(timeoutNs uint64) bool { return timeoutNs != 0 && timeoutNs <= 1<<62 }

// Next is what happens after a handler returns.
type Next uint8

const (
	Return Next = iota // back to the caller with the result
	Wait               // the caller waits (sched.Block); the CPU goes to the next thread
	Donate             // the caller waits; the CPU goes straight to thread To
	Yield              // back to the caller with the result, after the others' turn
	Gone               // the caller's thread has ended: it never runs again
	Keep               // back to the caller with its registers as the handler left them
	// Forward: the handler prepared a request to a server on the caller's behalf (package
	// vfs); the dispatcher sends it (vfs.Send), from a shallower stack than the handler's.
	Forward
	// Rerun and Restart: a call whose wait ended is not the VFS's (vfs.Finish), so its
	// handler runs again as woken (Rerun), or it waited for a lock and runs afresh (Restart).
	Rerun
	Restart
)

// Result is a handler's result and what happens next.
type Result struct {
	Ret  int64
	Next Next
	To   int32
}

// Ret returns r to the caller.
//
//go:nosplit
func Ret(r int64) Result { return Result{Ret: r} }

// Err returns -errno to the caller.
//
//go:nosplit
func Err(errno int) Result { return Result{Ret: -int64(errno)} }

// Waiting says the caller waits: sched.Block put it on its queue (or EINTR if it could not).
//
//go:nosplit
func Waiting(blocked bool) Result {
	if !blocked {
		return Err(abi.EINTR)
	}
	return Result{Next: Wait}
}

// DonateTo says the caller waits and the CPU goes straight to thread to.
//
//go:nosplit
func DonateTo(to int) Result { return Result{Next: Donate, To: int32(to)} }

// Handler serves one system call.
type Handler func(c Call) Result
