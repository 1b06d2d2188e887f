package sys

// futex(2): FUTEX_WAIT and FUTEX_WAKE (private or not: every futex is process-private here).
// Waiters sit on one of a fixed set of queues, chosen by a hash of their address space and
// address, and remember which futex they wait on.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const (
	futexWait        = 0
	futexWakeOp      = 1
	futexWaitBitset  = 9
	futexWakeBitset  = 10
	futexPrivateFlag = 128
	futexClockRT     = 256

	futexBuckets = 64
)

var futexQueues [futexBuckets]sched.Queue

// futexKey is the futex a thread waits on: its address space and address.
type futexKey struct {
	space int32
	addr  uintptr
}

var futexWaits sched.PerThread[futexKey]

//go:nosplit
func futexBucket(space int32, addr uintptr) *sched.Queue {
	h := (uint64(addr)>>2 ^ uint64(space)*0x9e37_79b9) * 0x9e37_79b9_7f4a_7c15
	return &futexQueues[(h>>58)&(futexBuckets-1)]
}

//go:nosplit
func futex(c task.Call) task.Result {
	addr, op, val, timeout := c.Ptr(0), c.Arg(1)&^(futexPrivateFlag|futexClockRT), uint32(c.Arg(2)), c.Ptr(3)
	if addr&3 != 0 {
		return task.Err(abi.EINVAL)
	}
	switch op {
	case futexWait, futexWaitBitset:
		as := c.Space()
		v, ok := as.Read32(addr)
		if !ok {
			return task.Err(abi.EFAULT)
		}
		if v != val {
			return task.Err(abi.EAGAIN)
		}
		var deadline int64
		if timeout != 0 {
			ns, r := readTimespec(as, timeout)
			if r != 0 {
				return task.Ret(r)
			}
			if op == futexWait {
				deadline = arch.Nanotime() + ns
			} else {
				deadline = ns // absolute monotonic
			}
			if deadline <= 0 {
				deadline = 1
			}
		}
		*futexWaits.Of(c.Slot) = futexKey{c.Thread().Space().ID(), addr}
		return task.Waiting(sched.Block(futexBucket(c.Thread().Space().ID(), addr), deadline, -abi.ETIMEDOUT, sched.ResumeResult))
	case futexWakeOp, futexWakeBitset:
		return task.Ret(int64(FutexWake(c.Thread(), addr, int(int32(val)))))
	}
	return task.Err(abi.ENOSYS)
}

// FutexWake wakes up to n threads of t's address space waiting on addr.
//
//go:nosplit
func FutexWake(t *sched.Thread, addr uintptr, n int) int {
	space := t.Space().ID()
	q := futexBucket(space, addr)
	woken := 0
	for i := q.First(); i != 0 && woken < n; {
		next := sched.After(i)
		if k := futexWaits.Of(i); k.space == space && k.addr == addr {
			sched.Wake(i)
			woken++
		}
		i = next
	}
	return woken
}
