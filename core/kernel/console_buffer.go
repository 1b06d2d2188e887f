package kernel

// The console path for tasks. While a console driver is attached (tier1/console, a ring-1
// task whose policy lets it serve "console"), the output of every task and of the core's Go
// program goes into this buffer and the driver, notified, drains it to the serial port. While
// the driver is down (it faulted and is being restarted) output keeps accumulating, up to the
// buffer's size; what does not fit is dropped and counted, and the next driver is told. When
// the machine stops, whatever is left is written out on the polled path, which the kernel
// keeps for its own messages and crash reports.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

const conBufSize = 256 << 10

// maxConsoleFetch bounds one console_fetch.
const maxConsoleFetch = 64 << 10

// consoleName is the endpoint a console driver's policy lets it serve.
var consoleName = abi.Name{Len: 7, Bytes: [abi.NameMax]byte{'c', 'o', 'n', 's', 'o', 'l', 'e'}}

var con struct {
	buf        [conBufSize]byte
	head, n    int
	driver     int32 // 1 + process of the attached driver; 0 = none
	everHad    bool  // a driver attached once: buffer even while it is down
	dropped    uint64
	toldDrop   uint64
	bytes      uint64 // bytes handed to drivers
	attachings uint64
	last       byte // the last byte buffered
}

// buffered reports whether output should go to the buffer instead of the polled port.
//
//go:nosplit
func consoleBuffered() bool { return con.everHad }

// conPut appends one byte, counting it as dropped when the buffer is full.
//
//go:nosplit
func conPut(c byte) {
	if con.n == conBufSize {
		con.dropped++
		return
	}
	con.buf[(con.head+con.n)&(conBufSize-1)] = c
	con.n++
	con.last = c
}

// kputLineStart starts a kernel line: a newline first if the output stopped mid-line.
//
//go:nosplit
func kputLineStart() {
	if consoleBuffered() && con.last != '\n' && con.last != 0 {
		kputc('\n')
	}
}

//go:nosplit
func conPutString(s string) {
	for i := 0; i < len(s); i++ {
		conPut(s[i])
	}
}

//go:nosplit
func conKick() {
	if con.driver != 0 {
		notify(int(con.driver-1), abi.NotifyConsole)
	}
}

// sysConsoleAttach makes the calling task the console driver, if its policy lets it serve
// "console".
//
//go:nosplit
func sysConsoleAttach(tf *arch.TrapFrame) int64 {
	p := curProc()
	if p.ring != 1 || !p.serves.has(&consoleName) {
		audit("attach as", &consoleName, "serves")
		return -abi.EPERM
	}
	con.driver = cur().proc + 1
	con.everHad = true
	con.attachings++
	kputs("kernel: console output goes through ")
	kputs(p.nameString())
	kputs(" (pid ")
	kputDec(uint64(p.pid))
	kputs(")\n")
	if con.dropped > con.toldDrop {
		// Tell the reader, through the driver, that some output was lost while it was down.
		conPutString("kernel: console driver was down: ")
		conPutDec(con.dropped - con.toldDrop)
		conPutString(" bytes of output dropped\n")
		con.toldDrop = con.dropped
	}
	if con.n > 0 {
		notify(int(cur().proc), abi.NotifyConsole)
	}
	return 0
}

//go:nosplit
func conPutDec(v uint64) {
	d := uint64(1)
	for v/10 >= d {
		d *= 10
	}
	for d > 0 {
		conPut(byte('0' + v/d%10))
		d /= 10
	}
}

// sysConsoleFetch(buf, len) copies buffered output to the driver without consuming it: the
// driver commits what it has written (sysConsoleCommit), so output a driver fetched but did
// not write before it crashed goes to the next one.
//
//go:nosplit
func sysConsoleFetch(tf *arch.TrapFrame) int64 {
	if con.driver != cur().proc+1 {
		return -abi.EPERM
	}
	buf, n := uintptr(tf.RDI), tf.RSI
	if n > maxConsoleFetch {
		n = maxConsoleFetch // bounded work per call; the driver fetches again
	}
	as := curSpace()
	done, head, left := 0, con.head, con.n
	for done < int(n) && left > 0 {
		chunk := conBufSize - head
		if chunk > left {
			chunk = left
		}
		if chunk > int(n)-done {
			chunk = int(n) - done
		}
		if !as.CopyOut(buf+uintptr(done), addrOfConByte(head), uintptr(chunk)) {
			return -abi.EFAULT
		}
		head = (head + chunk) & (conBufSize - 1)
		left -= chunk
		done += chunk
	}
	return int64(done)
}

// sysConsoleCommit(n) consumes n bytes the driver has written out.
//
//go:nosplit
func sysConsoleCommit(tf *arch.TrapFrame) int64 {
	if con.driver != cur().proc+1 {
		return -abi.EPERM
	}
	n := int(tf.RDI)
	if n < 0 || n > con.n {
		return -abi.EINVAL
	}
	con.head = (con.head + n) & (conBufSize - 1)
	con.n -= n
	con.bytes += uint64(n)
	return 0
}

// consoleDriverEnded detaches a driver that ended: output waits in the buffer for the next.
//
//go:nosplit
func consoleDriverEnded(p int) {
	if con.driver == int32(p)+1 {
		con.driver = 0
	}
}

// flushConsole writes what is left in the buffer on the polled path (the machine stops).
//
//go:nosplit
func flushConsole() {
	for con.n > 0 {
		arch.Putc(con.buf[con.head&(conBufSize-1)])
		con.head = (con.head + 1) & (conBufSize - 1)
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

//go:nosplit
func kputc(c byte) {
	if consoleBuffered() {
		conPut(c)
		conKick()
		return
	}
	arch.Putc(c)
}

//go:nosplit
func kputs(s string) {
	for i := 0; i < len(s); i++ {
		kputc(s[i])
	}
}

//go:nosplit
func kputDec(v uint64) {
	d := uint64(1)
	for v/10 >= d {
		d *= 10
	}
	for d > 0 {
		kputc(byte('0' + v/d%10))
		d /= 10
	}
}

//go:nosplit
func addrOfConByte(i int) uintptr { return arch.Addr(&con.buf[i&(conBufSize-1)]) }
