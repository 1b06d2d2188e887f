package signal

// Signal system calls: rt_sigaction, rt_sigprocmask, rt_sigreturn, sigaltstack, kill, tkill,
// tgkill. Delivery itself is in deliver.go.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const (
	sigBlock   = 0
	sigUnblock = 1
	sigSetmask = 2
)

// SysAction is rt_sigaction(sig, act, oldact, sigsetsize).
//
//go:nosplit
func SysAction(c task.Call) task.Result {
	sig, act, old := int(c.Arg(0)), c.Ptr(1), c.Ptr(2)
	if sig < 1 || sig > 64 || c.Arg(3) != 8 {
		return task.Err(abi.EINVAL)
	}
	t, as := c.Task(), c.Space()
	if old != 0 && !as.CopyOut(old, arch.Addr(&t.Actions[sig]), 32) {
		return task.Err(abi.EFAULT)
	}
	if act != 0 {
		if sig == SIGKILL || sig == SIGSTOP {
			return task.Err(abi.EINVAL)
		}
		var a task.SigAction
		if !as.CopyIn(arch.Addr(&a), act, 32) {
			return task.Err(abi.EFAULT)
		}
		t.Actions[sig] = a
	}
	return task.Ret(0)
}

// SysProcmask is rt_sigprocmask(how, set, oldset, sigsetsize).
//
//go:nosplit
func SysProcmask(c task.Call) task.Result {
	how, set, old := c.Arg(0), c.Ptr(1), c.Ptr(2)
	if c.Arg(3) != 8 {
		return task.Err(abi.EINVAL)
	}
	sg := &c.Thread().Sig
	as := c.Space()
	prev := sg.Mask
	if set != 0 {
		m, ok := as.Read64(set)
		if !ok {
			return task.Err(abi.EFAULT)
		}
		switch how {
		case sigBlock:
			sg.Mask |= m
		case sigUnblock:
			sg.Mask &^= m
		case sigSetmask:
			sg.Mask = m
		default:
			return task.Err(abi.EINVAL)
		}
		sg.Mask &^= Bit(SIGKILL) | Bit(SIGSTOP)
	}
	if old != 0 && !as.Write64(old, prev) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(0)
}

// SysReturn is rt_sigreturn: the handler's RET popped the return address, so RSP points at
// the ucontext, whose registers become the thread's (all of them: the result is Keep).
//
//go:nosplit
func SysReturn(c task.Call) task.Result {
	if !sigreturn(c.Thread(), c.Frame, uintptr(c.Frame.RSP)) {
		kill(c.Task(), c.Frame, SIGSEGV, task.BadSignalFrame, "bad signal frame")
	}
	return task.Result{Next: task.Keep}
}

// SysAltstack is sigaltstack(ss, oldss).
//
//go:nosplit
func SysAltstack(c task.Call) task.Result {
	ss, old := c.Ptr(0), c.Ptr(1)
	sg := &c.Thread().Sig
	as := c.Space()
	if old != 0 {
		flags := uint64(0)
		if sg.AltSize == 0 {
			flags = ssDisable
		}
		if !as.Write64(old, uint64(sg.AltSP)) || !as.Write64(old+8, flags) || !as.Write64(old+16, uint64(sg.AltSize)) {
			return task.Err(abi.EFAULT)
		}
	}
	if ss != 0 {
		sp, ok1 := as.Read64(ss)
		flags, ok2 := as.Read32(ss + 8)
		size, ok3 := as.Read64(ss + 16)
		if !ok1 || !ok2 || !ok3 {
			return task.Err(abi.EFAULT)
		}
		if flags&ssDisable != 0 {
			sg.AltSP, sg.AltSize = 0, 0
			return task.Ret(0)
		}
		if size < 2048 {
			return task.Err(abi.ENOMEM)
		}
		sg.AltSP, sg.AltSize = uintptr(sp), uintptr(size)
	}
	return task.Ret(0)
}

//go:nosplit
func signalThread(c task.Call, tid int32, sig int) task.Result {
	if sig < 0 || sig > 64 {
		return task.Err(abi.EINVAL)
	}
	i := sched.Find(c.Task().Slot(), tid)
	if i < 0 {
		return task.Err(abi.ESRCH)
	}
	if sig != 0 {
		send(i, sig)
	}
	return task.Ret(0)
}

// SysTgkill is tgkill(tgid, tid, sig): threads of the caller's own process only.
//
//go:nosplit
func SysTgkill(c task.Call) task.Result {
	if int32(c.Arg(0)) != c.Task().PID() {
		return task.Err(abi.ESRCH)
	}
	return signalThread(c, int32(c.Arg(1)), int(c.Arg(2)))
}

// SysTkill is tkill(tid, sig).
//
//go:nosplit
func SysTkill(c task.Call) task.Result { return signalThread(c, int32(c.Arg(0)), int(c.Arg(1))) }

// SysKill is kill(pid, sig): the caller's own process only.
//
//go:nosplit
func SysKill(c task.Call) task.Result {
	pid, sig := int32(c.Arg(0)), int(c.Arg(1))
	if sig < 0 || sig > 64 {
		return task.Err(abi.EINVAL)
	}
	if pid != c.Task().PID() && pid != 0 && pid != -1 {
		return task.Err(abi.ESRCH)
	}
	if sig == 0 {
		return task.Ret(0)
	}
	// A process-directed signal goes to the current thread unless it blocks it.
	sg := &c.Thread().Sig
	if sg.Mask&Bit(sig) == 0 {
		sg.Pending |= Bit(sig)
		return task.Ret(0)
	}
	for i := sched.Next(c.Task().Slot(), 0); i != 0; i = sched.Next(c.Task().Slot(), i) {
		if sched.T(i).Sig.Mask&Bit(sig) == 0 {
			send(i, sig)
			return task.Ret(0)
		}
	}
	sg.Pending |= Bit(sig)
	return task.Ret(0)
}
