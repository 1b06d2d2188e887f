package kernel

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

// Signal system calls: rt_sigaction, rt_sigprocmask, rt_sigreturn, sigaltstack, kill, tkill,
// tgkill. Delivery itself is in signal.go.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const (
	sigBlock   = 0
	sigUnblock = 1
	sigSetmask = 2
)

//go:nosplit
func sysRtSigaction(tf *arch.TrapFrame) int64 {
	sig, act, old := int(tf.RDI), uintptr(tf.RSI), uintptr(tf.RDX)
	if sig < 1 || sig > 64 || tf.R10 != 8 {
		return -abi.EINVAL
	}
	p := curProc()
	as := curSpace()
	if old != 0 && !as.CopyOut(old, arch.Addr(&p.actions[sig]), 32) {
		return -abi.EFAULT
	}
	if act != 0 {
		if sig == SIGKILL || sig == SIGSTOP {
			return -abi.EINVAL
		}
		var a sigAction
		if !as.CopyIn(arch.Addr(&a), act, 32) {
			return -abi.EFAULT
		}
		p.actions[sig] = a
	}
	return 0
}

//go:nosplit
func sysRtSigprocmask(tf *arch.TrapFrame) int64 {
	how, set, old := tf.RDI, uintptr(tf.RSI), uintptr(tf.RDX)
	if tf.R10 != 8 {
		return -abi.EINVAL
	}
	t := cur()
	as := curSpace()
	prev := t.sigMask
	if set != 0 {
		m, ok := as.Read64(set)
		if !ok {
			return -abi.EFAULT
		}
		switch how {
		case sigBlock:
			t.sigMask |= m
		case sigUnblock:
			t.sigMask &^= m
		case sigSetmask:
			t.sigMask = m
		default:
			return -abi.EINVAL
		}
		t.sigMask &^= sigBit(SIGKILL) | sigBit(SIGSTOP)
	}
	if old != 0 && !as.Write64(old, prev) {
		return -abi.EFAULT
	}
	return 0
}

//go:nosplit
func sysRtSigreturn(tf *arch.TrapFrame) int64 {
	// The handler's RET popped the return address: RSP points at the ucontext.
	if !sigreturn(tf, uintptr(tf.RSP)) {
		killProcess(tf, SIGSEGV, "bad signal frame")
	}
	return 0
}

//go:nosplit
func sysSigaltstack(tf *arch.TrapFrame) int64 {
	ss, old := uintptr(tf.RDI), uintptr(tf.RSI)
	t := cur()
	as := curSpace()
	if old != 0 {
		flags := uint64(0)
		if t.altSize == 0 {
			flags = ssDisable
		}
		if !as.Write64(old, uint64(t.altSP)) || !as.Write64(old+8, flags) || !as.Write64(old+16, uint64(t.altSize)) {
			return -abi.EFAULT
		}
	}
	if ss != 0 {
		sp, ok1 := as.Read64(ss)
		flags, ok2 := as.Read32(ss + 8)
		size, ok3 := as.Read64(ss + 16)
		if !ok1 || !ok2 || !ok3 {
			return -abi.EFAULT
		}
		if flags&ssDisable != 0 {
			t.altSP, t.altSize = 0, 0
			return 0
		}
		if size < 2048 {
			return -abi.ENOMEM
		}
		t.altSP, t.altSize = uintptr(sp), uintptr(size)
	}
	return 0
}

// findThread returns the slot of thread tid in process proc, or -1.
//
//go:nosplit
func findThread(proc int32, tid int32) int {
	for i := 1; i < maxThreads; i++ {
		t := &threads[i]
		if t.tid == tid && t.proc == proc && (t.state == threadRunnable || t.state == threadBlocked) {
			return i
		}
	}
	return -1
}

//go:nosplit
func signalThread(tid int32, sig int) int64 {
	if sig < 0 || sig > 64 {
		return -abi.EINVAL
	}
	i := findThread(cur().proc, tid)
	if i < 0 {
		return -abi.ESRCH
	}
	if sig != 0 {
		sendSignal(i, sig)
	}
	return 0
}

//go:nosplit
func sysTgkill(tf *arch.TrapFrame) int64 {
	if int32(tf.RDI) != curProc().pid {
		return -abi.ESRCH
	}
	return signalThread(int32(tf.RSI), int(tf.RDX))
}

//go:nosplit
func sysTkill(tf *arch.TrapFrame) int64 { return signalThread(int32(tf.RDI), int(tf.RSI)) }

//go:nosplit
func sysKill(tf *arch.TrapFrame) int64 {
	pid, sig := int32(tf.RDI), int(tf.RSI)
	if sig < 0 || sig > 64 {
		return -abi.EINVAL
	}
	if pid != curProc().pid && pid != 0 && pid != -1 {
		return -abi.ESRCH
	}
	if sig == 0 {
		return 0
	}
	// A process-directed signal goes to the current thread unless it blocks it.
	t := cur()
	if t.sigMask&sigBit(sig) == 0 {
		t.sigPending |= sigBit(sig)
		return 0
	}
	for i := 1; i < maxThreads; i++ {
		o := &threads[i]
		if o.proc == t.proc && (o.state == threadRunnable || o.state == threadBlocked) && o.sigMask&sigBit(sig) == 0 {
			sendSignal(i, sig)
			return 0
		}
	}
	t.sigPending |= sigBit(sig)
	return 0
}
