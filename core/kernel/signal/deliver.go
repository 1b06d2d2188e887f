// Package signal delivers signals to Go runtimes as Linux does: a pending signal is delivered
// when a thread returns to user code, by building a Linux rt_sigframe on its stack (or its
// sigaltstack) and entering the handler registered with rt_sigaction; rt_sigreturn restores the saved context. Synchronous faults
// (page fault, #UD, #DE, #GP ...) become SIGSEGV/SIGILL/SIGFPE/SIGBUS this way, so the Go
// runtime turns them into ordinary panics that recover can catch; SIGURG from tgkill is how
// the runtime preempts tight loops.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.
package signal

import (
	"math/bits"
	"unsafe"

	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/crash"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// Signals.
const (
	SIGILL   = 4
	SIGTRAP  = 5
	SIGABRT  = 6
	SIGBUS   = 7
	SIGFPE   = 8
	SIGKILL  = 9
	SIGSEGV  = 11
	SIGCHLD  = 17
	SIGCONT  = 18
	SIGSTOP  = 19
	SIGURG   = 23
	SIGWINCH = 28
)

const (
	saSigInfo   = 0x4
	saOnStack   = 0x08000000
	saRestorer  = 0x04000000
	saNoDefer   = 0x40000000
	saResetHand = 0x80000000

	sigDFL = 0
	sigIGN = 1

	ssOnStack = 1
	ssDisable = 2

	siTkill  = -6
	SIKernel = 0x80
	siUser   = 0
)

// Frame layout, offsets from the frame start (the return address slot).
const (
	ucOff        = 8
	ucStackOff   = ucOff + 16
	ucMcontext   = ucOff + 40
	ucSigmask    = ucOff + 296
	ucSize       = 424 // room for glibc's (and Go's) 128-byte sigset
	infoOff      = ucOff + ucSize
	sigFrameSize = infoOff + 128
	fpStateSize  = 512
)

// mcontext register slots (glibc REG_* order).
const (
	regR8 = iota
	regR9
	regR10
	regR11
	regR12
	regR13
	regR14
	regR15
	regRDI
	regRSI
	regRBP
	regRBX
	regRDX
	regRAX
	regRCX
	regRSP
	regRIP
	regEFL
	regCSGSFS
	regERR
	regTRAPNO
	regOLDMASK
	regCR2
	regFPSTATE
)

// Flags a signal handler may change through its ucontext.
const userFlags = 0x50dd5

//go:nosplit
func Bit(sig int) uint64 { return 1 << uint(sig-1) }

//go:nosplit
func defaultIgnored(sig int) bool {
	return sig == SIGURG || sig == SIGCHLD || sig == SIGWINCH || sig == SIGCONT
}

// Deliver delivers one pending signal, if any, to the running thread of task t as it returns
// to user code through tf. A signal that ends the task ends it (task.MarkEnding) — or, for the
// core's own runtime, is a crash.
//
//go:nosplit
func Deliver(t *task.Task, tf *arch.TrapFrame) {
	th := sched.Cur()
	sg := &th.Sig
	var sig int
	var fault bool
	if sg.Fault.Sig != 0 {
		sig, fault = int(sg.Fault.Sig), true
	} else {
		pend := sg.Pending &^ sg.Mask
		if pend == 0 {
			return
		}
		sig = bits.TrailingZeros64(pend) + 1
		sg.Pending &^= Bit(sig)
	}
	if uint(sig) >= uint(len(t.Actions)) {
		return
	}
	act := t.Actions[sig]
	if fault && (sg.Mask&Bit(sig) != 0 || act.Handler == sigDFL || act.Handler == sigIGN) {
		kill(t, tf, sig, task.NoHandler, "fault not handled")
		return
	}
	switch act.Handler {
	case sigIGN:
		return
	case sigDFL:
		if defaultIgnored(sig) {
			return
		}
		kill(t, tf, sig, task.BySignal, "killed by signal")
		return
	}
	if !pushFrame(t, tf, th, sig, &act) {
		kill(t, tf, SIGSEGV, task.BadSignalFrame, "cannot write signal frame")
		return
	}
	sg.Fault = sched.FaultInfo{}
	if act.Flags&saNoDefer == 0 {
		sg.Mask |= Bit(sig)
	}
	sg.Mask |= act.Mask &^ (Bit(SIGKILL) | Bit(SIGSTOP))
	if act.Flags&saResetHand != 0 {
		t.Actions[sig].Handler = sigDFL
	}
}

// kill ends t by signal sig: a task ends (faulted, if the signal is a fault being delivered);
// the core's runtime cannot, and crashes.
//
//go:nosplit
func kill(t *task.Task, tf *arch.TrapFrame, sig int, cause task.Cause, why string) {
	if t.IsCore() {
		crash.CoreSignal(tf, sig, why)
		return
	}
	if f := &sched.Cur().Sig.Fault; f.Sig != 0 {
		t.MarkEnding(task.Faulted, cause, int64(sig), f.Trapno, tf.RIP, f.Addr)
		return
	}
	t.MarkEnding(task.Signaled, cause, int64(sig), task.NoVector, tf.RIP, 0)
}

// sigFrameBuf is where a signal frame is assembled before one copy to the user stack (the
// kernel is not preemptible and runs on one CPU, so one buffer serves every thread).
var sigFrameBuf [sigFrameSize]byte

//go:nosplit
func frameBufAddr() uintptr { return uintptr(unsafe.Pointer(&sigFrameBuf[0])) }

//go:nosplit
func putFrame64(off uintptr, v uint64) { arch.Store64(frameBufAddr()+off, v) }

// pushFrame writes the rt_sigframe and points tf at the handler.
//
//go:nosplit
func pushFrame(tk *task.Task, tf *arch.TrapFrame, th *sched.Thread, sig int, act *task.SigAction) bool {
	if act.Handler >= mm.UserTop || act.Restorer >= mm.UserTop {
		return false // IRETQ to a non-canonical or kernel address would fault in the kernel
	}
	t := &th.Sig
	as := th.Space()
	sp := uintptr(tf.RSP)
	onAlt := t.AltSize != 0 && sp > t.AltSP && sp <= t.AltSP+t.AltSize
	if act.Flags&saOnStack != 0 && t.AltSize != 0 && !onAlt {
		sp = t.AltSP + t.AltSize
	} else {
		sp -= 128 // red zone
	}
	fp := (sp - fpStateSize) &^ 63
	frame := ((fp - sigFrameSize) &^ 15) - 8
	sigFrameBuf = [sigFrameSize]byte{}
	putFrame64(0, act.Restorer)
	ssFlags := uint64(0)
	if onAlt {
		ssFlags = ssOnStack
	} else if t.AltSize == 0 {
		ssFlags = ssDisable
	}
	putFrame64(ucStackOff, uint64(t.AltSP))
	putFrame64(ucStackOff+8, ssFlags)
	putFrame64(ucStackOff+16, uint64(t.AltSize))
	saveRegs(tf)
	putFrame64(ucMcontext+regERR*8, t.Fault.Err)
	putFrame64(ucMcontext+regTRAPNO*8, t.Fault.Trapno)
	putFrame64(ucMcontext+regOLDMASK*8, t.Mask)
	putFrame64(ucMcontext+regCR2*8, t.Fault.Addr)
	putFrame64(ucMcontext+regFPSTATE*8, uint64(fp))
	putFrame64(ucSigmask, t.Mask)
	// siginfo: signo, errno, code, then the fault address or the sender's pid.
	code := int32(siTkill)
	info := uint64(tk.PID())
	if t.Fault.Sig != 0 {
		code, info = t.Fault.Code, t.Fault.Addr
	}
	putFrame64(infoOff, uint64(uint32(sig)))
	putFrame64(infoOff+8, uint64(uint32(code)))
	putFrame64(infoOff+16, info)
	if !as.CopyOut(fp, tf.FXAddr(), fpStateSize) || !as.CopyOut(frame, frameBufAddr(), sigFrameSize) {
		return false
	}
	tf.RSP = uint64(frame)
	tf.RIP = act.Handler
	// The handler runs in the task's own ring, whatever ring it trapped in (a ring-1 or
	// ring-2 task may far-return outwards, into a ring its pages do not serve).
	tf.CS, tf.SS = arch.SelectorsForRing(int(tk.Ring()))
	tf.RDI = uint64(sig)
	tf.RSI = uint64(frame + infoOff)
	tf.RDX = uint64(frame + ucOff)
	tf.RAX = 0
	tf.RFLAGS &^= 0x100 | 0x400 // TF, DF
	return true
}

//go:nosplit
func saveRegs(tf *arch.TrapFrame) {
	const mc = ucMcontext
	putFrame64(mc+regR8*8, tf.R8)
	putFrame64(mc+regR9*8, tf.R9)
	putFrame64(mc+regR10*8, tf.R10)
	putFrame64(mc+regR11*8, tf.R11)
	putFrame64(mc+regR12*8, tf.R12)
	putFrame64(mc+regR13*8, tf.R13)
	putFrame64(mc+regR14*8, tf.R14)
	putFrame64(mc+regR15*8, tf.R15)
	putFrame64(mc+regRDI*8, tf.RDI)
	putFrame64(mc+regRSI*8, tf.RSI)
	putFrame64(mc+regRBP*8, tf.RBP)
	putFrame64(mc+regRBX*8, tf.RBX)
	putFrame64(mc+regRDX*8, tf.RDX)
	putFrame64(mc+regRAX*8, tf.RAX)
	putFrame64(mc+regRCX*8, tf.RCX)
	putFrame64(mc+regRSP*8, tf.RSP)
	putFrame64(mc+regRIP*8, tf.RIP)
	putFrame64(mc+regEFL*8, tf.RFLAGS)
	putFrame64(mc+regCSGSFS*8, tf.CS|tf.SS<<48)
}

//go:nosplit
func getFrame64(off uintptr) uint64 { return arch.Load64(frameBufAddr() + off) }

// sigreturn restores the context saved by pushFrame; uc is the ucontext address.
//
//go:nosplit
func sigreturn(th *sched.Thread, tf *arch.TrapFrame, uc uintptr) bool {
	as := th.Space()
	// Read the ucontext into the frame buffer at the offsets pushSignalFrame used.
	if !as.CopyIn(frameBufAddr()+ucOff, uc, ucSize) {
		return false
	}
	if fp := uintptr(getFrame64(ucMcontext + regFPSTATE*8)); fp != 0 {
		if !as.CopyIn(tf.FXAddr(), fp, fpStateSize) {
			return false
		}
		// A reserved MXCSR bit would make FXRSTOR fault in the kernel.
		arch.Store32(tf.FXAddr()+24, arch.Load32(tf.FXAddr()+24)&0xffbf)
	}
	const mc = ucMcontext
	// IRETQ to a non-canonical or kernel address would fault in the kernel: refuse the frame.
	if rip, rsp := getFrame64(mc+regRIP*8), getFrame64(mc+regRSP*8); rip >= mm.UserTop || rsp >= mm.UserTop {
		return false
	}
	tf.R8, tf.R9 = getFrame64(mc+regR8*8), getFrame64(mc+regR9*8)
	tf.R10, tf.R11 = getFrame64(mc+regR10*8), getFrame64(mc+regR11*8)
	tf.R12, tf.R13 = getFrame64(mc+regR12*8), getFrame64(mc+regR13*8)
	tf.R14, tf.R15 = getFrame64(mc+regR14*8), getFrame64(mc+regR15*8)
	tf.RDI, tf.RSI = getFrame64(mc+regRDI*8), getFrame64(mc+regRSI*8)
	tf.RBP, tf.RBX = getFrame64(mc+regRBP*8), getFrame64(mc+regRBX*8)
	tf.RDX, tf.RAX = getFrame64(mc+regRDX*8), getFrame64(mc+regRAX*8)
	tf.RCX, tf.RSP = getFrame64(mc+regRCX*8), getFrame64(mc+regRSP*8)
	tf.RIP = getFrame64(mc + regRIP*8)
	tf.RFLAGS = tf.RFLAGS&^userFlags | getFrame64(mc+regEFL*8)&userFlags | 0x200
	th.Sig.Mask = getFrame64(ucSigmask) &^ (Bit(SIGKILL) | Bit(SIGSTOP))
	return true
}

// RaiseFault arranges for the running thread of t to receive a synchronous fault signal on its
// way back to user code, and records the fault.
//
//go:nosplit
func RaiseFault(t *task.Task, tf *arch.TrapFrame, sig, code int32, addr uint64) {
	sched.Cur().Sig.Fault = sched.FaultInfo{Sig: sig, Code: code, Addr: addr, Trapno: tf.Vector, Err: tf.ErrorCode}
	crash.RecordFault(t, tf, addr)
}

// send marks sig pending for thread i and interrupts its wait.
//
//go:nosplit
func send(i int, sig int) {
	t := sched.T(i)
	t.Sig.Pending |= Bit(sig)
	if t.Sig.Mask&Bit(sig) == 0 {
		sched.Interrupt(i)
	}
}
