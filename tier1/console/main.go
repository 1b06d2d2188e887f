// Command console is SimpleOS's serial console driver: a ring-1 task that owns COM1 (ports
// 0x3f8-0x3ff and IRQ 4, granted by its policy module) and writes out everything the other
// tasks print. The core buffers their output and notifies the driver; the driver copies a
// chunk, feeds the UART's 16-byte transmit FIFO, waits for the transmit interrupt (IRQ 4,
// delivered as notification bit 4) and commits what it wrote. If it crashes, the core keeps
// the output until the restarted driver attaches again: nothing is lost.
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
	outb(ier, 0x02) // interrupt when the transmitter is empty
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
		for off := 0; off < int(n); {
			chunk := min(16, int(n)-off)
			transmit(buf[off : off+chunk])
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

// transmit feeds up to 16 bytes into the UART's FIFO once the transmitter is empty, waiting
// for its interrupt (with a short timeout, in case an interrupt was missed).
func transmit(b []byte) {
	for inb(lsr)&lsrTHRE == 0 {
		syscall.Syscall(sysNotifyWait, 1<<irqCOM1, 2e6, 0)
		inb(iir)
	}
	for _, c := range b {
		outb(thr, c)
	}
}
