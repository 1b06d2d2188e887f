package kernel

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

// futex(2): FUTEX_WAIT and FUTEX_WAKE (private or not; every futex is process-private here).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const (
	futexWait        = 0
	futexWakeOp      = 1
	futexWaitBitset  = 9
	futexWakeBitset  = 10
	futexPrivateFlag = 128
	futexClockRT     = 256
)

//go:nosplit
func sysFutex(tf *arch.TrapFrame) int64 {
	addr, op, val, timeout := uintptr(tf.RDI), tf.RSI&^(futexPrivateFlag|futexClockRT), uint32(tf.RDX), uintptr(tf.R10)
	if addr&3 != 0 {
		return -abi.EINVAL
	}
	switch op {
	case futexWait, futexWaitBitset:
		as := curSpace()
		v, ok := as.Read32(addr)
		if !ok {
			return -abi.EFAULT
		}
		if v != val {
			return -abi.EAGAIN
		}
		var deadline int64
		if timeout != 0 {
			ns, r := readTimespec(as, timeout)
			if r != 0 {
				return r
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
		return block(waitFutex, addr, deadline)
	case futexWakeOp, futexWakeBitset:
		return int64(futexWake(addr, int(int32(val))))
	}
	return -abi.ENOSYS
}

// futexWake wakes up to n threads of the current process waiting on addr.
//
//go:nosplit
func futexWake(addr uintptr, n int) int {
	woken := 0
	p := cur().proc
	for i := 1; i < maxThreads && woken < n; i++ {
		t := &threads[i]
		if t.state == threadBlocked && t.waitOn == waitFutex && t.waitAddr == addr && t.proc == p {
			wake(i, 0)
			woken++
		}
	}
	return woken
}
