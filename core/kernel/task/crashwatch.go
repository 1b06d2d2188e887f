package task

// What a runtime says on its way down. CrashWatch follows what a task prints — the first line
// of its panic ("panic: ..." or "fatal error: ...") and the first user function of the
// goroutine trace — so that its end can be reported with its last words, and keeps the last
// synchronous fault the kernel delivered to it. The words are reported; they decide nothing.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// CrashWatch is one task's watch.
type CrashWatch struct {
	line    [256]byte
	lineLen int
	msg     [160]byte
	msgLen  int
	fn      [96]byte
	fnLen   int
	inTrace bool
	dumped  int  // goroutine headers printed since its last words: its dump's goroutines so far
	signal  bool // the runtime reported a signal (the core's crash report says which fault)

	faultValid  bool
	faultVector uint64
	faultRIP    uint64
	faultAddr   uint64
}

// Fault records a synchronous fault the kernel delivers to the task.
//
//go:nosplit
func (w *CrashWatch) Fault(vector, rip, addr uint64) {
	w.faultValid, w.faultVector, w.faultRIP, w.faultAddr = true, vector, rip, addr
}

// Observe follows one byte of the task's output.
//
//go:nosplit
func (w *CrashWatch) Observe(c byte) {
	if c != '\n' {
		if w.lineLen < len(w.line) {
			w.line[w.lineLen&255] = c
			w.lineLen++
		}
		return
	}
	w.observeLine(w.line[:w.lineLen&255])
	w.lineLen = 0
}

// DumpGoroutines is how many goroutines of its crash dump the runtime has begun to print
// (headers after its last words: a panic, a fatal error, a signal report).
//
//go:nosplit
func (w *CrashWatch) DumpGoroutines() int { return w.dumped }

// ReportedSignal reports whether the runtime said it died of a signal: for the core's own crash
// report only, which then names the fault (the core is trusted; a task's words decide
// nothing).
//
//go:nosplit
func (w *CrashWatch) ReportedSignal() bool { return w.signal }

// LastWords returns the runtime's message and function (empty if it printed none).
//
//go:nosplit
func (w *CrashWatch) LastWords() (msg, fn []byte) {
	return prefix(w.msg[:], w.msgLen), prefix(w.fn[:], w.fnLen)
}

//go:nosplit
func (w *CrashWatch) observeLine(line []byte) {
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
	if w.msgLen != 0 && hasPrefix(line, "goroutine ") {
		w.dumped++
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
