package sys

// Process and machine system calls: arch_prctl, getpid and friends, uname,
// sched_getaffinity, prlimit64/getrlimit, prctl, set_robust_list, getrandom; and SimpleOS's
// heartbeat and wait_event.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/content"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/rng"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
	"github.com/simpleos/simpleos/core/x86"
)

const (
	archSetFS = 0x1002
	archGetFS = 0x1003
)

//go:nosplit
func archPrctl(c task.Call) task.Result {
	switch c.Arg(0) {
	case archSetFS:
		fs := c.Arg(1)
		if fs >= mm.UserTop {
			return task.Err(abi.EPERM)
		}
		c.Thread().FSBase = fs
		if c.Task().IsCore() {
			x86.WriteMSR(x86.MSR_FS_BASE, fs) // a task's is loaded on the way back to it
		}
		return task.Ret(0)
	case archGetFS:
		if !c.Space().Write64(c.Ptr(1), c.Thread().FSBase) {
			return task.Err(abi.EFAULT)
		}
		return task.Ret(0)
	}
	return task.Err(abi.EINVAL)
}

//go:nosplit
func getpid(c task.Call) task.Result { return task.Ret(int64(c.Task().PID())) }

//go:nosplit
func zero(c task.Call) task.Result { return task.Ret(0) }

//go:nosplit
func einval(c task.Call) task.Result { return task.Err(abi.EINVAL) }

// uname fills struct utsname: six 65-byte fields.
//
//go:nosplit
func uname(c task.Call) task.Result {
	as := c.Space()
	buf := c.Ptr(0)
	if !as.ZeroOut(buf, 65*6) {
		return task.Err(abi.EFAULT)
	}
	ok := unameField(as, buf, 0, "Linux") && unameField(as, buf, 1, "simpleos") &&
		unameField(as, buf, 2, "6.1.0-simpleos") && unameField(as, buf, 3, "#1 SimpleOS") &&
		unameField(as, buf, 4, "x86_64") && unameField(as, buf, 5, "(none)")
	if !ok {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(0)
}

//go:nosplit
func unameField(as *mm.AddressSpace, buf uintptr, i int, s string) bool {
	return as.CopyOut(buf+uintptr(i)*65, arch.StringAddr(s), uintptr(len(s)))
}

//go:nosplit
func schedGetaffinity(c task.Call) task.Result {
	size, mask := c.Size(1), c.Ptr(2)
	if size < 8 {
		return task.Err(abi.EINVAL)
	}
	if !c.Space().Write64(mask, 1) { // one CPU
		return task.Err(abi.EFAULT)
	}
	return task.Ret(8)
}

const rlimitNofile = 7

//go:nosplit
func writeRlimit(as *mm.AddressSpace, va uintptr, res uint64) bool {
	cur, max := uint64(^uint64(0)), uint64(^uint64(0))
	if res == rlimitNofile {
		cur, max = task.MaxFDs, task.MaxFDs
	}
	return as.Write64(va, cur) && as.Write64(va+8, max)
}

//go:nosplit
func prlimit64(c task.Call) task.Result {
	if pid := c.Arg(0); pid != 0 && int32(pid) != c.Task().PID() {
		return task.Err(abi.ESRCH)
	}
	if old := c.Ptr(3); old != 0 && !writeRlimit(c.Space(), old, c.Arg(1)) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(0) // new limits are accepted and ignored
}

//go:nosplit
func getrlimit(c task.Call) task.Result {
	if !writeRlimit(c.Space(), c.Ptr(1), c.Arg(0)) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(0)
}

// getrandom(buf, n, flags) fills buf from the calling task's generator.
//
//go:nosplit
func getrandom(c task.Call) task.Result {
	const grndKnown = 1 | 2 | 4 // GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE
	buf, n := c.Ptr(0), c.Size(1)
	if c.Arg(2)&^grndKnown != 0 {
		return task.Err(abi.EINVAL)
	}
	if n > rng.MaxRead {
		n = rng.MaxRead
	}
	if n > 0 && !c.Task().RNG.Fill(c.Space(), buf, n) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(int64(n))
}

// heartbeat records that the calling task is alive (the watchdog reads it).
//
//go:nosplit
func heartbeat(c task.Call) task.Result {
	c.Task().LastBeat = arch.Nanotime()
	return task.Ret(0)
}

// waitEvent(kind, deadline) makes one of the core's goroutines wait until there is something
// of kind to do: a task's end to report (abi.WaitTaskEnded) or a content write to decide
// (abi.WaitContentWrite), or until deadline (kernel clock, ns; 0 = none) passes: ETIMEDOUT.
// Tasks may not call it.
//
//go:nosplit
func waitEvent(c task.Call) task.Result {
	if !c.Task().IsCore() {
		return task.Err(abi.EPERM)
	}
	var ready bool
	var q *sched.Queue
	switch c.Arg(0) {
	case abi.WaitTaskEnded:
		ready, q = task.EndQueued()
	case abi.WaitContentWrite:
		ready, q = content.Waiting()
	default:
		return task.Err(abi.EINVAL)
	}
	if ready {
		return task.Ret(0)
	}
	deadline := int64(c.Arg(1))
	if deadline != 0 && deadline <= arch.Nanotime() {
		return task.Err(abi.ETIMEDOUT)
	}
	return task.Waiting(sched.Block(q, deadline, -int64(abi.ETIMEDOUT), sched.ResumeRetry))
}

//go:nosplit
func enosys(c task.Call) task.Result { return task.Err(abi.ENOSYS) }

//go:nosplit
func eopnotsupp(c task.Call) task.Result {
	const eopnotsupp = 95
	return task.Err(eopnotsupp)
}

//go:nosplit
func umask(c task.Call) task.Result { return task.Ret(0o022) }
