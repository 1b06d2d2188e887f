package kernel

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// Time system calls: clock_gettime, clock_getres, gettimeofday, time, nanosleep,
// clock_nanosleep. Every clock is the calibrated TSC; CLOCK_REALTIME adds the wall-clock
// offset set from the RTC.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

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
func clockNow(id uint64) (int64, bool) {
	switch id {
	case clockRealtime, clockRealtimeCoarse:
		return arch.Nanotime() + arch.WallOffset(), true
	case clockMonotonic, clockMonotonicRaw, clockMonotonicCoarse, clockBoottime:
		return arch.Nanotime(), true
	case clockProcessCPUTime, clockThreadCPUTime:
		return cur().cpuNs + arch.Nanotime() - runStart, true
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
func sysClockGettime(tf *arch.TrapFrame) int64 {
	ns, ok := clockNow(tf.RDI)
	if !ok {
		return -abi.EINVAL
	}
	if !writeTimespec(curSpace(), uintptr(tf.RSI), ns) {
		return -abi.EFAULT
	}
	return 0
}

//go:nosplit
func sysClockGetres(tf *arch.TrapFrame) int64 {
	if _, ok := clockNow(tf.RDI); !ok {
		return -abi.EINVAL
	}
	if tf.RSI != 0 && !writeTimespec(curSpace(), uintptr(tf.RSI), 1) {
		return -abi.EFAULT
	}
	return 0
}

//go:nosplit
func sysGettimeofday(tf *arch.TrapFrame) int64 {
	ns := arch.Nanotime() + arch.WallOffset()
	if tf.RDI != 0 {
		as := curSpace()
		if !as.Write64(uintptr(tf.RDI), uint64(ns/1e9)) || !as.Write64(uintptr(tf.RDI)+8, uint64(ns%1e9/1000)) {
			return -abi.EFAULT
		}
	}
	return 0
}

//go:nosplit
func sysTime(tf *arch.TrapFrame) int64 {
	s := (arch.Nanotime() + arch.WallOffset()) / 1e9
	if tf.RDI != 0 && !curSpace().Write64(uintptr(tf.RDI), uint64(s)) {
		return -abi.EFAULT
	}
	return s
}

//go:nosplit
func sleepUntil(deadline int64) int64 {
	if deadline <= arch.Nanotime() {
		return 0
	}
	return block(waitSleep, 0, deadline)
}

//go:nosplit
func sysNanosleep(tf *arch.TrapFrame) int64 {
	ns, r := readTimespec(curSpace(), uintptr(tf.RDI))
	if r != 0 {
		return r
	}
	return sleepUntil(arch.Nanotime() + ns)
}

//go:nosplit
func sysClockNanosleep(tf *arch.TrapFrame) int64 {
	now, ok := clockNow(tf.RDI)
	if !ok {
		return -abi.EINVAL
	}
	ns, r := readTimespec(curSpace(), uintptr(tf.RDX))
	if r != 0 {
		return r
	}
	if tf.RSI&timerAbstime != 0 {
		ns -= now
	}
	return sleepUntil(arch.Nanotime() + ns)
}
