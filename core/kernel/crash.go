package kernel

// Crash reports. When the core cannot go on — an exception in kernel code, a fault the Go
// runtime does not handle, or an unrecovered Go panic in the core — it prints a report whose
// first line starts with "CORE CRASH:", naming the exception (or panic) and the Go function,
// then the error code, CR2, every register, the thread and a stack trace symbolized from the
// core's own ELF symbols, and stops the machine with status 100.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/x86"
)

// lastFault is the most recent synchronous fault of the core's runtime, kept for the report
// that follows if the runtime dies of it.
var lastFault struct {
	valid bool
	tid   int32
	addr  uint64
	frame arch.TrapFrame
}

//go:nosplit
func recordFault(tf *arch.TrapFrame, addr uint64) {
	w := &curProc().crash
	w.faultValid, w.faultVector, w.faultRIP, w.faultAddr = true, tf.Vector, tf.RIP, addr
	if cur().proc != coreProc {
		return
	}
	lastFault.valid = true
	lastFault.tid = cur().tid
	lastFault.addr = addr
	arch.Memmove(lastFault.frame.FXAddr(), tf.FXAddr(), arch.TrapFrameSize)
}

// crashWatch follows what a Go runtime prints on its way down — the first line of its panic
// ("panic: ..." or "fatal error: ...") and the first user function of the goroutine trace —
// and the last synchronous fault it took, so that its death can be reported precisely.
type crashWatch struct {
	line    [256]byte
	lineLen int
	msg     [160]byte
	msgLen  int
	fn      [96]byte
	fnLen   int
	inTrace bool
	signal  bool // the runtime reported a signal: the panic comes from the fault below

	faultValid  bool
	faultVector uint64
	faultRIP    uint64
	faultAddr   uint64
}

// consoleWrite prints a process's output: the core's as is, a task's with its name at the
// start of each line. It watches the output for a panic.
//
//go:nosplit
func consoleWrite(k uintptr, n int) {
	p := curProc()
	if p != &procs[coreProc] && p.outputNs == 0 {
		p.outputNs = arch.Nanotime()
	}
	w := &p.crash
	buffered := consoleBuffered()
	for i := 0; i < n; i++ {
		c := arch.Load8(k + uintptr(i))
		if buffered {
			if !p.midLine && p != &procs[coreProc] {
				conPut('[')
				conPutString(p.nameString())
				conPutString("] ")
			}
			conPut(c)
		} else {
			if !p.midLine && p != &procs[coreProc] {
				arch.Putc('[')
				arch.Puts(p.nameString())
				arch.Puts("] ")
			}
			arch.Putc(c)
		}
		p.midLine = c != '\n'
		if c != '\n' {
			if w.lineLen < len(w.line) {
				w.line[w.lineLen&255] = c
				w.lineLen++
			}
			continue
		}
		w.observeLine(w.line[:w.lineLen&255])
		w.lineLen = 0
	}
	if buffered {
		conKick()
	}
}

// prefix returns b's first n bytes, as many as it has: slicing with no bounds check to fail.
//
//go:nosplit
func prefix(b []byte, n int) []byte {
	if n < 0 {
		n = 0
	}
	if n > len(b) {
		n = len(b)
	}
	return b[:n]
}

//go:nosplit
func hasPrefix(b []byte, s string) bool {
	if len(b) < len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b[i] != s[i] {
			return false
		}
	}
	return true
}

//go:nosplit
func (w *crashWatch) observeLine(line []byte) {
	if w.msgLen == 0 && (hasPrefix(line, "panic: ") || hasPrefix(line, "fatal error: ") ||
		hasPrefix(line, "SIGILL: ") || hasPrefix(line, "SIGSEGV: ") || hasPrefix(line, "SIGFPE: ") ||
		hasPrefix(line, "SIGBUS: ") || hasPrefix(line, "unexpected fault address")) {
		w.msgLen = copy(w.msg[:], line)
		w.signal = !hasPrefix(line, "panic: ") && !hasPrefix(line, "fatal error: ")
		return
	}
	if w.msgLen != 0 && hasPrefix(line, "[signal ") {
		w.signal = true
		return
	}
	if w.msgLen == 0 || w.fnLen != 0 {
		return
	}
	if hasPrefix(line, "goroutine ") {
		w.inTrace = true
		return
	}
	if w.inTrace && len(line) > 0 && line[0] != '\t' && !hasPrefix(line, "panic(") && !hasPrefix(line, "runtime.") {
		n := 0
		for n < len(line) && line[n] != '(' {
			n++
		}
		w.fnLen = copy(w.fn[:], prefix(line, n))
	}
}

// fromFault reports whether the runtime died of the fault it took last.
//
//go:nosplit
func (w *crashWatch) fromFault() bool { return w.faultValid && w.msgLen > 0 && w.signal }

// coreExit ends the machine when the core's runtime exits. A non-zero exit right after a
// panic is a crash.
//
//go:nosplit
func coreExit(status int) {
	w := &procs[coreProc].crash
	if status != 0 && w.msgLen > 0 {
		what := "Go panic"
		tf := frameOf(current)
		fromFault := lastFault.valid && w.signal
		if fromFault {
			what = arch.ExceptionName(lastFault.frame.Vector)
			tf = &lastFault.frame
		}
		arch.Puts("CORE CRASH: ")
		arch.Puts(what)
		arch.Puts(" in ")
		if fromFault {
			putSymbol(tf.RIP)
		} else if w.fnLen > 0 {
			putBytesSlice(prefix(w.fn[:], w.fnLen))
		} else {
			arch.Puts("?")
		}
		arch.Puts(": ")
		putBytesSlice(prefix(w.msg[:], w.msgLen))
		arch.Putc('\n')
		reportBody(tf, lastFault.addr)
		shutdown(arch.StatusCrash)
	}
	shutdown(status)
}

// killProcess handles a signal that ends a process. For the core that is a crash.
//
//go:nosplit
func killProcess(tf *arch.TrapFrame, sig int, why string) {
	if cur().proc != coreProc {
		f := &cur().fault
		code := int32(whySignal)
		if why == "fault not handled" {
			code = whyNoHandler
		} else if why == "bad signal frame" || why == "cannot write signal frame" {
			code = whyBadFrame
		}
		if f.sig != 0 {
			endTask(int(cur().proc), endFaulted, int64(sig), f.trapno, tf.RIP, f.addr, code)
		}
		endTask(int(cur().proc), endSignaled, int64(sig), noVector, tf.RIP, 0, code)
		return
	}
	arch.Puts("CORE CRASH: ")
	if cur().fault.sig != 0 {
		arch.Puts(arch.ExceptionName(cur().fault.trapno))
	} else {
		arch.Puts("signal ")
		arch.PutDec(uint64(sig))
	}
	arch.Puts(" in ")
	putSymbol(tf.RIP)
	arch.Puts(": ")
	arch.Puts(why)
	arch.Putc('\n')
	reportBody(tf, cur().fault.addr)
	shutdown(arch.StatusCrash)
}

// crashFrame reports a fatal trap in kernel code.
//
//go:nosplit
func crashFrame(what string, tf *arch.TrapFrame) {
	cr2 := x86.CR2()
	arch.Puts("CORE CRASH: ")
	arch.Puts(what)
	arch.Puts(" in ")
	putSymbol(tf.RIP)
	if tf.FromKernel() {
		arch.Puts(" (kernel)")
	}
	arch.Putc('\n')
	reportBody(tf, cr2)
	shutdown(arch.StatusCrash)
}

//go:nosplit
func putBytesSlice(b []byte) {
	for _, c := range b {
		arch.Putc(c)
	}
}

// putSymbol prints pc as function+offset when the core's symbols are available.
//
//go:nosplit
func putSymbol(pc uint64) {
	if kernelSymsOK {
		if name, off, ok := kernelSyms.Lookup(uintptr(pc)); ok {
			arch.Puts(name)
			arch.Puts("+")
			arch.PutHex(uint64(off))
			return
		}
	}
	arch.PutHex(pc)
}

//go:nosplit
func putReg(name string, v uint64) {
	arch.Puts(name)
	arch.Puts("=")
	arch.PutHex16(v)
	arch.Puts(" ")
}

//go:nosplit
func reportBody(tf *arch.TrapFrame, cr2 uint64) {
	reportFault(tf, cr2)
	reportRegs(tf)
	reportThread()
	reportStack(tf)
	arch.Puts("CORE CRASH END\n")
}

//go:nosplit
func reportFault(tf *arch.TrapFrame, cr2 uint64) {
	arch.Puts("  vector ")
	arch.PutDec(tf.Vector)
	arch.Puts("  error code ")
	arch.PutHex(tf.ErrorCode)
	if tf.Vector == arch.ExcPageFault {
		arch.Puts(" (")
		if tf.ErrorCode&1 != 0 {
			arch.Puts("protection")
		} else {
			arch.Puts("not-present")
		}
		if tf.ErrorCode&2 != 0 {
			arch.Puts(", write")
		} else {
			arch.Puts(", read")
		}
		if tf.ErrorCode&16 != 0 {
			arch.Puts(", instruction fetch")
		}
		arch.Puts(")")
	}
	arch.Puts("  cr2 ")
	arch.PutHex(cr2)
	arch.Putc('\n')
}

//go:nosplit
func reportRegs(tf *arch.TrapFrame) {
	arch.Puts("  ")
	putReg("rip", tf.RIP)
	putReg("rsp", tf.RSP)
	putReg("rflags", tf.RFLAGS)
	arch.Puts("\n  ")
	putReg("rax", tf.RAX)
	putReg("rbx", tf.RBX)
	putReg("rcx", tf.RCX)
	putReg("rdx", tf.RDX)
	arch.Puts("\n  ")
	putReg("rsi", tf.RSI)
	putReg("rdi", tf.RDI)
	putReg("rbp", tf.RBP)
	putReg("r8 ", tf.R8)
	arch.Puts("\n  ")
	putReg("r9 ", tf.R9)
	putReg("r10", tf.R10)
	putReg("r11", tf.R11)
	putReg("r12", tf.R12)
	arch.Puts("\n  ")
	putReg("r13", tf.R13)
	putReg("r14", tf.R14)
	putReg("r15", tf.R15)
	putReg("cs", tf.CS)
	putReg("ss", tf.SS)
	arch.Putc('\n')
}

//go:nosplit
func reportThread() {
	arch.Puts("  thread tid ")
	arch.PutDec(uint64(cur().tid))
	arch.Puts(" (slot ")
	arch.PutDec(uint64(current))
	arch.Puts("), ")
	arch.PutDec(uint64(ThreadCount()))
	arch.Puts(" threads, uptime ")
	arch.PutDec(uint64(arch.Nanotime() / 1e6))
	arch.Puts(" ms, frames in use ")
	arch.PutDec(mm.Frames().Total - mm.Frames().Free)
	arch.Putc('\n')
}

//go:nosplit
func reportStack(tf *arch.TrapFrame) {
	arch.Puts("  stack trace:\n    ")
	putSymbol(tf.RIP)
	arch.Putc('\n')
	fp := uintptr(tf.RBP)
	for i := 0; i < 32 && fp != 0; i++ {
		ret, ok1 := readStackWord(fp + 8)
		next, ok2 := readStackWord(fp)
		if !ok1 || !ok2 || ret == 0 {
			break
		}
		arch.Puts("    ")
		putSymbol(ret)
		arch.Putc('\n')
		if uintptr(next) <= fp {
			break
		}
		fp = uintptr(next)
	}
}

// readStackWord reads a word of a stack being unwound without risking a nested fault.
//
//go:nosplit
func readStackWord(va uintptr) (uint64, bool) {
	if va&7 != 0 {
		return 0, false
	}
	if mm.IsKernelAddr(va) {
		if va < uintptr(mm.KernelStackBase) || mm.KernelPML4.Lookup(va)&mm.PTEPresent == 0 {
			return 0, false
		}
		return arch.Load64(va), true
	}
	e := curSpace().Root().Lookup(mm.PageDown(va))
	if e&mm.PTEPresent == 0 || va >= mm.UserTop {
		return 0, false
	}
	return arch.Load64(mm.DirectMap(e&mm.PTEAddrMask) + va&(mm.PageSize-1)), true
}

// shutdown stops the machine: QEMU's isa-debug-exit device turns status into its exit code.
//
//go:nosplit
func shutdown(status int) {
	x86.Cli()
	flushConsole()
	arch.Halt(status)
}
