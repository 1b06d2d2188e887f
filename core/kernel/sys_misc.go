package kernel

// Process and machine system calls: arch_prctl, getpid and friends, uname,
// sched_getaffinity, prlimit64/getrlimit, prctl, set_robust_list (getrandom is in rng.go).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/x86"
)

const (
	archSetFS = 0x1002
	archGetFS = 0x1003
)

//go:nosplit
func sysArchPrctl(tf *arch.TrapFrame) int64 {
	switch tf.RDI {
	case archSetFS:
		if tf.RSI >= mm.UserTop {
			return -abi.EPERM
		}
		cur().fsBase = tf.RSI
		if curProc().ring == 0 {
			x86.WriteMSR(x86.MSR_FS_BASE, tf.RSI) // a task's is loaded on the way back to it
		}
		return 0
	case archGetFS:
		if !curSpace().Write64(uintptr(tf.RSI), cur().fsBase) {
			return -abi.EFAULT
		}
		return 0
	}
	return -abi.EINVAL
}

//go:nosplit
func sysGetpid(tf *arch.TrapFrame) int64 { return int64(curProc().pid) }

//go:nosplit
func sysGetppid(tf *arch.TrapFrame) int64 { return 0 }

//go:nosplit
func sysGetuid(tf *arch.TrapFrame) int64 { return 0 }

// sysUname fills struct utsname: six 65-byte fields.
//
//go:nosplit
func sysUname(tf *arch.TrapFrame) int64 {
	as := curSpace()
	buf := uintptr(tf.RDI)
	if !as.ZeroOut(buf, 65*6) {
		return -abi.EFAULT
	}
	ok := unameField(as, buf, 0, "Linux") && unameField(as, buf, 1, "simpleos") &&
		unameField(as, buf, 2, "6.1.0-simpleos") && unameField(as, buf, 3, "#1 SimpleOS") &&
		unameField(as, buf, 4, "x86_64") && unameField(as, buf, 5, "(none)")
	if !ok {
		return -abi.EFAULT
	}
	return 0
}

//go:nosplit
func unameField(as *mm.AddressSpace, buf uintptr, i int, s string) bool {
	return as.CopyOut(buf+uintptr(i)*65, arch.StringAddr(s), uintptr(len(s)))
}

//go:nosplit
func sysSchedGetaffinity(tf *arch.TrapFrame) int64 {
	size, mask := uintptr(tf.RSI), uintptr(tf.RDX)
	if size < 8 {
		return -abi.EINVAL
	}
	if !curSpace().Write64(mask, 1) { // one CPU
		return -abi.EFAULT
	}
	return 8
}

const rlimitNofile = 7

//go:nosplit
func writeRlimit(as *mm.AddressSpace, va uintptr, res uint64) bool {
	cur, max := uint64(^uint64(0)), uint64(^uint64(0))
	if res == rlimitNofile {
		cur, max = maxFDs, maxFDs
	}
	return as.Write64(va, cur) && as.Write64(va+8, max)
}

//go:nosplit
func sysPrlimit64(tf *arch.TrapFrame) int64 {
	if tf.RDI != 0 && int32(tf.RDI) != curProc().pid {
		return -abi.ESRCH
	}
	if tf.R10 != 0 && !writeRlimit(curSpace(), uintptr(tf.R10), tf.RSI) {
		return -abi.EFAULT
	}
	return 0 // new limits are accepted and ignored
}

//go:nosplit
func sysGetrlimit(tf *arch.TrapFrame) int64 {
	if !writeRlimit(curSpace(), uintptr(tf.RSI), tf.RDI) {
		return -abi.EFAULT
	}
	return 0
}

//go:nosplit
func sysPrctl(tf *arch.TrapFrame) int64 { return -abi.EINVAL }

//go:nosplit
func sysSetRobustList(tf *arch.TrapFrame) int64 { return 0 }
