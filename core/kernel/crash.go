package kernel

// Crash reports. When the core cannot go on — an exception in kernel code, a fault the Go
// runtime does not handle, or an unrecovered Go panic in the core — it prints a report whose
// first line starts with "CORE CRASH:", naming the exception (or panic) and the Go function,
// then the error code, CR2, every register, the thread and a stack trace symbolized from the
// core's own ELF symbols, and stops the machine with status 100.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import "github.com/simpleos/simpleos/core/x86"

// StatusCrash is the exit status of a crashed core.
const StatusCrash = 100

// lastFault is the most recent synchronous fault of the core's runtime, kept for the report
// that follows if the runtime dies of it.
var lastFault struct {
	valid bool
	tid   int32
	addr  uint64
	frame TrapFrame
}

//go:nosplit
func recordFault(tf *TrapFrame, addr uint64) {
	w := &curProc().crash
	w.faultValid, w.faultVector, w.faultRIP, w.faultAddr = true, tf.Vector, tf.RIP, addr
	if cur().proc != coreProc {
		return
	}
	lastFault.valid = true
	lastFault.tid = cur().tid
	lastFault.addr = addr
	memmove(addrOfFX(&lastFault.frame), addrOfFX(tf), trapFrameSize)
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
		p.outputNs = nanotime()
	}
	w := &p.crash
	buffered := consoleBuffered()
	for i := 0; i < n; i++ {
		c := load8(k + uintptr(i))
		if buffered {
			if !p.midLine && p != &procs[coreProc] {
				conPut('[')
				conPutString(p.nameString())
				conPutString("] ")
			}
			conPut(c)
		} else {
			if !p.midLine && p != &procs[coreProc] {
				putc('[')
				puts(p.nameString())
				puts("] ")
			}
			putc(c)
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
			what = ExceptionName(lastFault.frame.Vector)
			tf = &lastFault.frame
		}
		puts("CORE CRASH: ")
		puts(what)
		puts(" in ")
		if fromFault {
			putSymbol(tf.RIP)
		} else if w.fnLen > 0 {
			putBytesSlice(prefix(w.fn[:], w.fnLen))
		} else {
			puts("?")
		}
		puts(": ")
		putBytesSlice(prefix(w.msg[:], w.msgLen))
		putc('\n')
		reportBody(tf, lastFault.addr)
		shutdown(StatusCrash)
	}
	shutdown(status)
}

// killProcess handles a signal that ends a process. For the core that is a crash.
//
//go:nosplit
func killProcess(tf *TrapFrame, sig int, why string) {
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
	puts("CORE CRASH: ")
	if cur().fault.sig != 0 {
		puts(ExceptionName(cur().fault.trapno))
	} else {
		puts("signal ")
		putDec(uint64(sig))
	}
	puts(" in ")
	putSymbol(tf.RIP)
	puts(": ")
	puts(why)
	putc('\n')
	reportBody(tf, cur().fault.addr)
	shutdown(StatusCrash)
}

// crashFrame reports a fatal trap in kernel code.
//
//go:nosplit
func crashFrame(what string, tf *TrapFrame) {
	cr2 := x86.CR2()
	puts("CORE CRASH: ")
	puts(what)
	puts(" in ")
	putSymbol(tf.RIP)
	if tf.fromKernel() {
		puts(" (kernel)")
	}
	putc('\n')
	reportBody(tf, cr2)
	shutdown(StatusCrash)
}

// panicKernel reports a broken kernel invariant.
//
//go:nosplit
func panicKernel(msg string, v uint64) {
	puts("CORE CRASH: kernel invariant: ")
	puts(msg)
	puts(" ")
	putHex(v)
	putc('\n')
	puts("  thread tid ")
	putDec(uint64(cur().tid))
	putc('\n')
	haltMachine(StatusCrash)
}

//go:nosplit
func putBytesSlice(b []byte) {
	for _, c := range b {
		putc(c)
	}
}

// putSymbol prints pc as function+offset when the core's symbols are available.
//
//go:nosplit
func putSymbol(pc uint64) {
	if kernelSymsOK {
		if name, off, ok := kernelSyms.Lookup(uintptr(pc)); ok {
			puts(name)
			puts("+")
			putHex(uint64(off))
			return
		}
	}
	putHex(pc)
}

//go:nosplit
func putReg(name string, v uint64) {
	puts(name)
	puts("=")
	putHex16(v)
	puts(" ")
}

//go:nosplit
func reportBody(tf *TrapFrame, cr2 uint64) {
	reportFault(tf, cr2)
	reportRegs(tf)
	reportThread()
	reportStack(tf)
	puts("CORE CRASH END\n")
}

//go:nosplit
func reportFault(tf *TrapFrame, cr2 uint64) {
	puts("  vector ")
	putDec(tf.Vector)
	puts("  error code ")
	putHex(tf.ErrorCode)
	if tf.Vector == excPageFault {
		puts(" (")
		if tf.ErrorCode&1 != 0 {
			puts("protection")
		} else {
			puts("not-present")
		}
		if tf.ErrorCode&2 != 0 {
			puts(", write")
		} else {
			puts(", read")
		}
		if tf.ErrorCode&16 != 0 {
			puts(", instruction fetch")
		}
		puts(")")
	}
	puts("  cr2 ")
	putHex(cr2)
	putc('\n')
}

//go:nosplit
func reportRegs(tf *TrapFrame) {
	puts("  ")
	putReg("rip", tf.RIP)
	putReg("rsp", tf.RSP)
	putReg("rflags", tf.RFLAGS)
	puts("\n  ")
	putReg("rax", tf.RAX)
	putReg("rbx", tf.RBX)
	putReg("rcx", tf.RCX)
	putReg("rdx", tf.RDX)
	puts("\n  ")
	putReg("rsi", tf.RSI)
	putReg("rdi", tf.RDI)
	putReg("rbp", tf.RBP)
	putReg("r8 ", tf.R8)
	puts("\n  ")
	putReg("r9 ", tf.R9)
	putReg("r10", tf.R10)
	putReg("r11", tf.R11)
	putReg("r12", tf.R12)
	puts("\n  ")
	putReg("r13", tf.R13)
	putReg("r14", tf.R14)
	putReg("r15", tf.R15)
	putReg("cs", tf.CS)
	putReg("ss", tf.SS)
	putc('\n')
}

//go:nosplit
func reportThread() {
	puts("  thread tid ")
	putDec(uint64(cur().tid))
	puts(" (slot ")
	putDec(uint64(current))
	puts("), ")
	putDec(uint64(ThreadCount()))
	puts(" threads, uptime ")
	putDec(uint64(nanotime() / 1e6))
	puts(" ms, frames in use ")
	putDec(frames.Total - frames.Free)
	putc('\n')
}

//go:nosplit
func reportStack(tf *TrapFrame) {
	puts("  stack trace:\n    ")
	putSymbol(tf.RIP)
	putc('\n')
	fp := uintptr(tf.RBP)
	for i := 0; i < 32 && fp != 0; i++ {
		ret, ok1 := readStackWord(fp + 8)
		next, ok2 := readStackWord(fp)
		if !ok1 || !ok2 || ret == 0 {
			break
		}
		puts("    ")
		putSymbol(ret)
		putc('\n')
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
	if isKernelAddr(va) {
		if va < uintptr(kernelStackBase) || kernelPML4.lookup(va)&ptePresent == 0 {
			return 0, false
		}
		return load64(va), true
	}
	e := curSpace().root.lookup(pageDown(va))
	if e&ptePresent == 0 || va >= userTop {
		return 0, false
	}
	return load64(directMap(e&pteAddrMask) + va&(pageSize-1)), true
}

// shutdown stops the machine: QEMU's isa-debug-exit device turns status into its exit code.
//
//go:nosplit
func shutdown(status int) {
	x86.Cli()
	flushConsole()
	haltMachine(status)
}

// haltMachine stops at once, without flushing buffered task output (a broken invariant may
// have broken the buffer too).
//
//go:nosplit
func haltMachine(status int) {
	x86.Cli()
	x86.Outl(0xf4, uint32(status))
	puts("kernel: halted (no isa-debug-exit device)\n")
	for {
		x86.Hlt()
	}
}
