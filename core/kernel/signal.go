package kernel

// Signal delivery: a pending signal is delivered when a thread returns to user code, by
// building a Linux rt_sigframe on its stack (or its sigaltstack) and entering the handler
// registered with rt_sigaction; rt_sigreturn restores the saved context. Synchronous faults
// (page fault, #UD, #DE, #GP ...) become SIGSEGV/SIGILL/SIGFPE/SIGBUS this way, so the Go
// runtime turns them into ordinary panics that recover can catch; SIGURG from tgkill is how
// the runtime preempts tight loops.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"math/bits"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
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
	siKernel = 0x80
	siUser   = 0
)

// faultInfo describes a synchronous fault being turned into a signal.
type faultInfo struct {
	sig    int32
	code   int32
	addr   uint64
	trapno uint64
	err    uint64
}

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
func sigBit(sig int) uint64 { return 1 << uint(sig-1) }

//go:nosplit
func defaultIgnored(sig int) bool {
	return sig == SIGURG || sig == SIGCHLD || sig == SIGWINCH || sig == SIGCONT
}

// deliverSignals delivers one pending signal to the current thread, if any, as it returns to
// user code through tf.
//
//go:nosplit
func deliverSignals(tf *arch.TrapFrame) {
	t := cur()
	var sig int
	var fault bool
	if t.fault.sig != 0 {
		sig, fault = int(t.fault.sig), true
	} else {
		pend := t.sigPending &^ t.sigMask
		if pend == 0 {
			return
		}
		sig = bits.TrailingZeros64(pend) + 1
		t.sigPending &^= sigBit(sig)
	}
	if uint(sig) >= uint(len(curProc().actions)) {
		return
	}
	act := curProc().actions[sig]
	if fault && (t.sigMask&sigBit(sig) != 0 || act.handler == sigDFL || act.handler == sigIGN) {
		killProcess(tf, sig, "fault not handled")
		return
	}
	switch act.handler {
	case sigIGN:
		return
	case sigDFL:
		if defaultIgnored(sig) {
			return
		}
		killProcess(tf, sig, "killed by signal")
		return
	}
	if !pushSignalFrame(tf, t, sig, &act) {
		killProcess(tf, SIGSEGV, "cannot write signal frame")
		return
	}
	t.fault = faultInfo{}
	if act.flags&saNoDefer == 0 {
		t.sigMask |= sigBit(sig)
	}
	t.sigMask |= act.mask &^ (sigBit(SIGKILL) | sigBit(SIGSTOP))
	if act.flags&saResetHand != 0 {
		curProc().actions[sig].handler = sigDFL
	}
}

// sigFrameBuf is where a signal frame is assembled before one copy to the user stack (the
// kernel is not preemptible and runs on one CPU, so one buffer serves every thread).
var sigFrameBuf [sigFrameSize]byte

//go:nosplit
func frameBufAddr() uintptr { return uintptr(unsafe.Pointer(&sigFrameBuf[0])) }

//go:nosplit
func putFrame64(off uintptr, v uint64) { arch.Store64(frameBufAddr()+off, v) }

// pushSignalFrame writes the rt_sigframe and points tf at the handler.
//
//go:nosplit
func pushSignalFrame(tf *arch.TrapFrame, t *Thread, sig int, act *sigAction) bool {
	if act.handler >= mm.UserTop || act.restorer >= mm.UserTop {
		return false // IRETQ to a non-canonical or kernel address would fault in the kernel
	}
	as := curSpace()
	sp := uintptr(tf.RSP)
	onAlt := t.altSize != 0 && sp > t.altSP && sp <= t.altSP+t.altSize
	if act.flags&saOnStack != 0 && t.altSize != 0 && !onAlt {
		sp = t.altSP + t.altSize
	} else {
		sp -= 128 // red zone
	}
	fp := (sp - fpStateSize) &^ 63
	frame := ((fp - sigFrameSize) &^ 15) - 8
	sigFrameBuf = [sigFrameSize]byte{}
	putFrame64(0, act.restorer)
	ssFlags := uint64(0)
	if onAlt {
		ssFlags = ssOnStack
	} else if t.altSize == 0 {
		ssFlags = ssDisable
	}
	putFrame64(ucStackOff, uint64(t.altSP))
	putFrame64(ucStackOff+8, ssFlags)
	putFrame64(ucStackOff+16, uint64(t.altSize))
	saveRegs(tf)
	putFrame64(ucMcontext+regERR*8, t.fault.err)
	putFrame64(ucMcontext+regTRAPNO*8, t.fault.trapno)
	putFrame64(ucMcontext+regOLDMASK*8, t.sigMask)
	putFrame64(ucMcontext+regCR2*8, t.fault.addr)
	putFrame64(ucMcontext+regFPSTATE*8, uint64(fp))
	putFrame64(ucSigmask, t.sigMask)
	// siginfo: signo, errno, code, then the fault address or the sender's pid.
	code := int32(siTkill)
	info := uint64(curProc().pid)
	if t.fault.sig != 0 {
		code, info = t.fault.code, t.fault.addr
	}
	putFrame64(infoOff, uint64(uint32(sig)))
	putFrame64(infoOff+8, uint64(uint32(code)))
	putFrame64(infoOff+16, info)
	if !as.CopyOut(fp, tf.FXAddr(), fpStateSize) || !as.CopyOut(frame, frameBufAddr(), sigFrameSize) {
		return false
	}
	tf.RSP = uint64(frame)
	tf.RIP = act.handler
	// The handler runs in the task's own ring, whatever ring it trapped in (a ring-1 or
	// ring-2 task may far-return outwards, into a ring its pages do not serve).
	tf.CS, tf.SS = arch.SelectorsForRing(int(curProc().ring))
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

// sigreturn restores the context saved by pushSignalFrame; uc is the ucontext address.
//
//go:nosplit
func sigreturn(tf *arch.TrapFrame, uc uintptr) bool {
	as := curSpace()
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
	cur().sigMask = getFrame64(ucSigmask) &^ (sigBit(SIGKILL) | sigBit(SIGSTOP))
	return true
}

// raiseFault arranges for the current thread to receive a synchronous fault signal on its way
// back to user code.
//
//go:nosplit
func raiseFault(tf *arch.TrapFrame, sig, code int32, addr uint64) {
	t := cur()
	t.fault = faultInfo{sig: sig, code: code, addr: addr, trapno: tf.Vector, err: tf.ErrorCode}
	recordFault(tf, addr)
}

// sendSignal marks sig pending for thread i and interrupts a blocking wait.
//
//go:nosplit
func sendSignal(i int, sig int) {
	t := thread(i)
	t.sigPending |= sigBit(sig)
	if t.state == threadBlocked && t.sigMask&sigBit(sig) == 0 {
		wake(i, -abi.EINTR)
	}
}
