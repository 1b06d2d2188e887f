// Command console is SimpleOS's serial console driver: a ring-1 task that owns COM1 (ports
// 0x3f8-0x3ff and IRQ 4, granted by its policy module) and writes out everything the other
// tasks print. The core buffers their output and notifies the driver; the driver copies a
// chunk of up to 512 bytes, waits for the transmitter-empty interrupt (IRQ 4, delivered as
// notification bit 4), then feeds the UART's 16-byte FIFO load by load, committing each load
// it wrote. If it crashes, the core keeps the output until the restarted driver attaches
// again: nothing is lost.
//
// The interrupt is enabled only while the driver waits for it. Left enabled, QEMU's UART —
// which empties its FIFO as soon as it is written — raised it once per byte: 217,350
// interrupts for 217 KB, and the driver spent over 900 ms of every second in them until its
// CPU budget killed it. Between the loads of a chunk the driver polls the line status and
// falls back to the interrupt only when the transmitter is busy (a slow reader of the port).
//
// Flags: --crash-after=N makes it dereference nil after writing N bytes (for the tests).
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/inject/fault"
	"github.com/simpleos/simpleos/ipc"
)

const (
	com1 = 0x3f8
	thr  = com1 + 0 // transmit holding register
	ier  = com1 + 1 // interrupt enable
	iir  = com1 + 2 // interrupt identification (reading it acknowledges THRE)
	fcr  = com1 + 2 // FIFO control
	mcr  = com1 + 4 // modem control: OUT2 gates the interrupt line
	lsr  = com1 + 5 // line status

	lsrTHRE = 1 << 5

	irqCOM1 = 4

	sysNotifyWait    = abi.SysNotifyWait
	sysConsoleAttach = abi.SysConsoleAttach
	sysConsoleFetch  = abi.SysConsoleFetch
	sysConsoleCommit = abi.SysConsoleCommit

	bitOutput = abi.NotifyConsole
)

func inb(port uint16) byte
func outb(port uint16, v byte)

func main() {
	fault.Arm() // a fault-injection campaign may pass -inject=... (package inject/fault)
	crashAfter := -1
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "--crash-after="); ok {
			crashAfter, _ = strconv.Atoi(v)
		}
	}
	if _, _, e := syscall.RawSyscall(sysConsoleAttach, 0, 0, 0); e != 0 {
		fmt.Fprintf(os.Stderr, "console: attach: %v\n", e)
		os.Exit(1)
	}
	outb(fcr, 0x07) // enable and clear the FIFOs
	outb(mcr, 0x0b) // DTR, RTS, OUT2
	outb(ier, 0)    // the transmitter-empty interrupt is enabled only to wait for it
	ipc.Ready()     // a restart resumes here, from the core's snapshot (the UART keeps its set-up)
	buf := make([]byte, 512)
	written := 0
	for {
		n, _, _ := syscall.Syscall(sysConsoleFetch, uintptr(unsafePointer(buf)), uintptr(len(buf)), 0)
		if int(n) <= 0 {
			// Nothing to write: sleep until the core has output (or 1 s passes).
			syscall.Syscall(sysNotifyWait, 1<<bitOutput, 1e9, 0)
			continue
		}
		awaitEmpty()
		for off := 0; off < int(n); {
			chunk := min(16, int(n)-off)
			if inb(lsr)&lsrTHRE == 0 {
				awaitEmpty()
			}
			for _, c := range buf[off : off+chunk] {
				outb(thr, c)
			}
			syscall.Syscall(sysConsoleCommit, uintptr(chunk), 0, 0)
			off += chunk
			written += chunk
			if crashAfter >= 0 && written >= crashAfter {
				var p *int
				*p = written // a driver bug, between two chunks
			}
		}
	}
}

// awaitEmpty waits for the transmitter-empty interrupt: enabling it while the transmitter is
// already empty raises it at once. A short timeout covers a missed interrupt.
func awaitEmpty() {
	outb(ier, 0x02)
	for {
		syscall.Syscall(sysNotifyWait, 1<<irqCOM1, 2e6, 0)
		inb(iir) // acknowledges the interrupt
		if inb(lsr)&lsrTHRE != 0 {
			break
		}
	}
	outb(ier, 0)
}
