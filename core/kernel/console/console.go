// Package console is the console path for tasks and the kernel's own lines. While a console
// driver is attached (tier1/console, a ring-1 task whose policy lets it serve "console"), the
// output of every task and of the core's Go program goes into a buffer and the driver,
// notified, drains it to the serial port. While the driver is down (it faulted and is being
// restarted) output keeps accumulating, up to the buffer's size; what does not fit is dropped
// and counted, and the next driver is told. When the machine stops, whatever is left is
// written out on the polled path (arch's serial port), which the kernel keeps for crash
// reports. Audit lines (audit.go) are kernel lines with a rate limit per task. Every byte
// buffered is mirrored on the screen as it is buffered (arch's screen.go, when the machine
// has a display).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.
package console

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/notify"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const bufSize = 256 << 10

// maxFetch bounds one console_fetch.
const maxFetch = 64 << 10

// MaxWrite bounds the bytes one write or writev hands the console. The console path looks at
// every byte (line prefixes, the panic watch) with interrupts off, so a bigger call would hold
// the CPU for as long as the task likes; the caller gets a short count and writes the rest
// with its next call, as Linux's may.
const MaxWrite = 4096

// name is the endpoint a console driver's policy lets it serve.
var name = abi.Name{Len: 7, Bytes: [abi.NameMax]byte{'c', 'o', 'n', 's', 'o', 'l', 'e'}}

var con struct {
	buf        [bufSize]byte
	head, n    int
	driver     int32 // 1 + slot of the attached driver; 0 = none
	everHad    bool  // a driver attached once: buffer even while it is down
	dropped    uint64
	toldDrop   uint64
	bytes      uint64 // bytes handed to drivers
	attachings uint64
	last       byte // the last byte buffered
}

// buffered reports whether output goes to the buffer instead of the polled port.
//
//go:nosplit
func buffered() bool { return con.everHad }

// put appends one byte, counting it as dropped when the buffer is full.
//
//go:nosplit
func put(c byte) {
	if con.n == bufSize {
		con.dropped++
		return
	}
	con.buf[(con.head+con.n)&(bufSize-1)] = c
	con.n++
	con.last = c
	arch.ScreenPutc(c)
}

//go:nosplit
func putString(s string) {
	for i := 0; i < len(s); i++ {
		put(s[i])
	}
}

//go:nosplit
func putDec(v uint64) {
	d := uint64(1)
	for v/10 >= d {
		d *= 10
	}
	for d > 0 {
		put(byte('0' + v/d%10))
		d /= 10
	}
}

//go:nosplit
func kick() {
	if con.driver != 0 {
		notify.Signal(task.Get(con.driver-1), abi.NotifyConsole)
	}
}

// lineMax bounds the line the console holds for a task: a longer one goes out in pieces of
// lineMax bytes, each its own line.
const lineMax = 512

// held is each task's line so far. A task's output goes out a whole line at a time, so the
// lines of tasks writing at once never cut into each other: a write may end mid-line (a
// buffered writer's 4 KiB chunk, the runtime's crash report printed piece by piece), and
// another task's line would otherwise land in the middle of it.
var held [task.Max]heldLine

type heldLine struct {
	n   int
	buf [lineMax]byte

	hidden int // lines of its crash dump not shown (shortDumps)
}

// shortDumps keeps a crashing Go task's dump to the goroutine that crashed (crashdump=short):
// a runtime throw prints every goroutine, 2-30 KB a crash, and under emulation the UART costs
// microseconds a byte — in a fault-injection campaign the console driver spent a third of the
// CPU on dumps nobody reads. When the dump reaches its second goroutine the task exits with
// status 2, as its runtime does once the dump is printed: formatting the rest (700 lines for a
// thread bomb) would only delay its end. One line at its end says what was left out.
var shortDumps bool

// SetShortDumps turns short crash dumps on (at boot).
//
//go:nosplit
func SetShortDumps(on bool) { shortDumps = on }

// Write prints n bytes at kernel address k as task t's output: the core's as is, a task's
// with its name at the start of each line. Its runtime's last words are watched on the way.
//
//go:nosplit
func Write(t *task.Task, k uintptr, n int) {
	if !t.IsCore() && t.OutputNs == 0 {
		t.OutputNs = arch.Nanotime()
	}
	h := &held[t.Slot()&(task.Max-1)]
	for i := 0; i < n; i++ {
		c := arch.Load8(k + uintptr(i))
		t.Crash.Observe(c)
		if c != '\n' && h.n < lineMax {
			h.buf[h.n&(lineMax-1)] = c
			h.n++
			continue
		}
		emit(t)
		if hidingDump(t) {
			// What is left of a dying runtime's life is the rest of its dump, which is not
			// shown, and then exit(2). Exit now, as it would.
			t.Exit(2)
		}
		if c != '\n' {
			h.buf[0], h.n = c, 1 // the rest of an overlong line
		}
	}
	if buffered() {
		kick()
	}
}

// hidingDump reports whether task t's output is the part of its crash dump crashdump=short
// leaves out: past the first goroutine.
//
//go:nosplit
func hidingDump(t *task.Task) bool {
	return shortDumps && !t.IsCore() && t.Crash.DumpGoroutines() > 1
}

// emit prints task t's held line, unless it is a crash dump's that is not shown (hidingDump).
//
//go:nosplit
func emit(t *task.Task) {
	h := &held[t.Slot()&(task.Max-1)]
	if hidingDump(t) {
		h.hidden++
		h.n = 0
		return
	}
	printHeld(t, h)
}

// printHeld prints a held line, with the task's name first and a newline at the end.
//
//go:nosplit
func printHeld(t *task.Task, h *heldLine) {
	if !t.IsCore() {
		out('[')
		name := t.Name()
		for j := 0; j < len(name); j++ {
			out(name[j])
		}
		out(']')
		out(' ')
	}
	for j := 0; j < h.n; j++ {
		out(h.buf[j&(lineMax-1)])
	}
	out('\n')
	h.n = 0
}

// out prints one byte of task output: into the buffer once a driver has attached, on the
// polled port before.
//
//go:nosplit
func out(c byte) {
	if buffered() {
		put(c)
	} else {
		arch.Putc(c)
	}
}

// SysAttach is console_attach: the calling task becomes the console driver, if its policy lets
// it serve "console".
//
//go:nosplit
func SysAttach(c task.Call) task.Result {
	t := c.Task()
	if t.Ring() != 1 || !t.Grants.Serves.Has(&name) {
		Deny(t, "attach as", &name, "serves")
		return task.Err(abi.EPERM)
	}
	Attach(t)
	return task.Ret(0)
}

// IsDriver reports whether t is the console driver.
//
//go:nosplit
func IsDriver(t *task.Task) bool { return con.driver == t.Slot()+1 }

// Attach makes t the console driver: console_attach, or an instance of the driver restored
// from a snapshot taken after it attached (package snapshot).
//
//go:nosplit
func Attach(t *task.Task) {
	con.driver = t.Slot() + 1
	con.everHad = true
	con.attachings++
	Puts("kernel: console output goes through ")
	Puts(t.Name())
	Puts(" (pid ")
	PutDec(uint64(t.PID()))
	Puts(")\n")
	if con.dropped > con.toldDrop {
		// Tell the reader, through the driver, that some output was lost while it was down.
		putString("kernel: console driver was down: ")
		putDec(con.dropped - con.toldDrop)
		putString(" bytes of output dropped\n")
		con.toldDrop = con.dropped
	}
	if con.n > 0 {
		notify.Signal(t, abi.NotifyConsole)
	}
}

// SysFetch is console_fetch(buf, len): it copies buffered output to the driver without
// consuming it; the driver commits what it has written (SysCommit), so output a driver fetched
// but did not write before it crashed goes to the next one.
//
//go:nosplit
func SysFetch(c task.Call) task.Result {
	if con.driver != c.Task().Slot()+1 {
		return task.Err(abi.EPERM)
	}
	buf, n := c.Ptr(0), c.Size(1)
	if n > maxFetch {
		n = maxFetch // bounded work per call; the driver fetches again
	}
	as := c.Space()
	done, head, left := 0, con.head, con.n
	for done < int(n) && left > 0 {
		chunk := bufSize - head
		if chunk > left {
			chunk = left
		}
		if chunk > int(n)-done {
			chunk = int(n) - done
		}
		if !as.CopyOut(buf+uintptr(done), arch.Addr(&con.buf[head&(bufSize-1)]), uintptr(chunk)) {
			return task.Err(abi.EFAULT)
		}
		head = (head + chunk) & (bufSize - 1)
		left -= chunk
		done += chunk
	}
	return task.Ret(int64(done))
}

// SysCommit is console_commit(n): it consumes n bytes the driver has written out.
//
//go:nosplit
func SysCommit(c task.Call) task.Result {
	if con.driver != c.Task().Slot()+1 {
		return task.Err(abi.EPERM)
	}
	n := int(c.Arg(0))
	if n < 0 || n > con.n {
		return task.Err(abi.EINVAL)
	}
	con.head = (con.head + n) & (bufSize - 1)
	con.n -= n
	con.bytes += uint64(n)
	return task.Ret(0)
}

// TaskEnded detaches a driver that ended: output waits in the buffer for the next.
//
//go:nosplit
func TaskEnded(t *task.Task) {
	h := &held[t.Slot()&(task.Max-1)]
	if h.n > 0 {
		emit(t) // its last words, even without a newline
		kick()
	}
	if h.hidden > 0 {
		h.hidden = 0
		h.n = copy(h.buf[:], "... the rest of its crash dump (the other goroutines) not shown: crashdump=short")
		printHeld(t, h)
		kick()
	}
	if con.driver == t.Slot()+1 {
		con.driver = 0
	}
}

// Flush writes what is left in the buffer on the polled path (the machine stops). The screen
// showed those bytes when they were buffered.
//
//go:nosplit
func Flush() {
	for i := range held {
		if held[i].n > 0 {
			emit(task.Get(i))
		}
	}
	for con.n > 0 {
		arch.SerialPutc(con.buf[con.head&(bufSize-1)])
		con.head = (con.head + 1) & (bufSize - 1)
		con.n--
	}
	if con.dropped > con.toldDrop {
		arch.Puts("kernel: ")
		arch.PutDec(con.dropped - con.toldDrop)
		arch.Puts(" bytes of console output were dropped while the console driver was down\n")
		con.toldDrop = con.dropped
	}
}

// Kernel messages (audit lines, notes) follow the same path as task output, so that they do
// not cut into a line the driver is writing. Crash reports use the polled path.

// LineStart starts a kernel line: a newline first if the output stopped mid-line.
//
//go:nosplit
func LineStart() {
	if buffered() && con.last != '\n' && con.last != 0 {
		Putc('\n')
	}
}

// Putc prints one byte of a kernel line.
//
//go:nosplit
func Putc(c byte) {
	if buffered() {
		put(c)
		kick()
		return
	}
	arch.Putc(c)
}

// Puts prints a string of a kernel line.
//
//go:nosplit
func Puts(s string) {
	for i := 0; i < len(s); i++ {
		Putc(s[i])
	}
}

// PutDec prints v in decimal, one digit at a time (putDec's loop again, on purpose: a shared
// helper would add a frame to the deepest nosplit chains, and a digit buffer 20 bytes).
//
//go:nosplit
func PutDec(v uint64) {
	d := uint64(1)
	for v/10 >= d {
		d *= 10
	}
	for d > 0 {
		Putc(byte('0' + v/d%10))
		d /= 10
	}
}

// PutName prints a name.
//
//go:nosplit
func PutName(n *abi.Name) {
	for i := 0; i < int(n.Len) && i < abi.NameMax; i++ {
		Putc(n.Bytes[i])
	}
}

// Driver is the slot of the attached console driver, ok=false if none is.
//
//go:nosplit
func Driver() (int32, bool) { return con.driver - 1, con.driver != 0 }

// Stats reports the bytes console drivers wrote, how many times a driver attached, and the
// bytes dropped while none was attached.
//
//go:nosplit
func Stats() (written, attachments, dropped uint64) { return con.bytes, con.attachings, con.dropped }
