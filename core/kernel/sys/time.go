package sys

// Time system calls: clock_gettime, clock_getres, gettimeofday, time, nanosleep,
// clock_nanosleep. Every clock is the calibrated TSC; CLOCK_REALTIME adds the wall-clock
// offset set from the RTC.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const (
	clockRealtime        = 0
	clockMonotonic       = 1
	clockProcessCPUTime  = 2
	clockThreadCPUTime   = 3
	clockMonotonicRaw    = 4
	clockRealtimeCoarse  = 5
	clockMonotonicCoarse = 6
	clockBoottime        = 7

	timerAbstime = 1
)

// clockNow returns the time of clock id in ns, ok=false for an unknown clock.
//
//go:nosplit
func clockNow(c task.Call, id uint64) (int64, bool) {
	switch id {
	case clockRealtime, clockRealtimeCoarse:
		return arch.Nanotime() + arch.WallOffset(), true
	case clockMonotonic, clockMonotonicRaw, clockMonotonicCoarse, clockBoottime:
		return arch.Nanotime(), true
	case clockProcessCPUTime, clockThreadCPUTime:
		return sched.CPUOfRunning(), true
	}
	return 0, false
}

//go:nosplit
func writeTimespec(as *mm.AddressSpace, va uintptr, ns int64) bool {
	return as.Write64(va, uint64(ns/1e9)) && as.Write64(va+8, uint64(ns%1e9))
}

// readTimespec returns a timespec's value in ns, or -EFAULT/-EINVAL.
//
//go:nosplit
func readTimespec(as *mm.AddressSpace, va uintptr) (int64, int64) {
	sec, ok1 := as.Read64(va)
	nsec, ok2 := as.Read64(va + 8)
	if !ok1 || !ok2 {
		return 0, -abi.EFAULT
	}
	if int64(sec) < 0 || nsec >= 1e9 {
		return 0, -abi.EINVAL
	}
	if sec > 1<<33 {
		sec = 1 << 33 // ~272 years: far enough
	}
	return int64(sec)*1e9 + int64(nsec), 0
}

//go:nosplit
func clockGettime(c task.Call) task.Result {
	ns, ok := clockNow(c, c.Arg(0))
	if !ok {
		return task.Err(abi.EINVAL)
	}
	if !writeTimespec(c.Space(), c.Ptr(1), ns) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(0)
}

//go:nosplit
func clockGetres(c task.Call) task.Result {
	if _, ok := clockNow(c, c.Arg(0)); !ok {
		return task.Err(abi.EINVAL)
	}
	if c.Arg(1) != 0 && !writeTimespec(c.Space(), c.Ptr(1), 1) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(0)
}

//go:nosplit
func gettimeofday(c task.Call) task.Result {
	ns := arch.Nanotime() + arch.WallOffset()
	if tv := c.Ptr(0); tv != 0 {
		as := c.Space()
		if !as.Write64(tv, uint64(ns/1e9)) || !as.Write64(tv+8, uint64(ns%1e9/1000)) {
			return task.Err(abi.EFAULT)
		}
	}
	return task.Ret(0)
}

//go:nosplit
func timeNow(c task.Call) task.Result {
	s := (arch.Nanotime() + arch.WallOffset()) / 1e9
	if p := c.Ptr(0); p != 0 && !c.Space().Write64(p, uint64(s)) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(s)
}

// sleepUntil waits until deadline (monotonic ns): the call returns 0 then, EINTR for a signal.
//
//go:nosplit
func sleepUntil(deadline int64) task.Result {
	if deadline <= arch.Nanotime() {
		return task.Ret(0)
	}
	return task.Waiting(sched.Block(nil, deadline, 0, sched.ResumeResult))
}

//go:nosplit
func nanosleep(c task.Call) task.Result {
	ns, r := readTimespec(c.Space(), c.Ptr(0))
	if r != 0 {
		return task.Ret(r)
	}
	return sleepUntil(arch.Nanotime() + ns)
}

//go:nosplit
func clockNanosleep(c task.Call) task.Result {
	now, ok := clockNow(c, c.Arg(0))
	if !ok {
		return task.Err(abi.EINVAL)
	}
	ns, r := readTimespec(c.Space(), c.Ptr(2))
	if r != 0 {
		return task.Ret(r)
	}
	if c.Arg(1)&timerAbstime != 0 {
		ns -= now // an absolute time on clock id
	}
	return sleepUntil(arch.Nanotime() + ns)
}
