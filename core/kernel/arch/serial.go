package arch

// The polled serial console (COM1) used for everything the core prints: its own messages,
// the Go runtime's stdout/stderr, and crash reports. Putc also mirrors each byte on the
// screen (screen.go), when the machine has one.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/usbarmory/tamago/soc/intel/uart"

	"github.com/simpleos/simpleos/core/x86"
)

// com1 is initialised with tamago's 16550 driver (InitSerial, in goroutine context: its Init
// may panic, which boot and trap context cannot); transmitting is done here, polled and
// nosplit, which works from the first instruction without it.
var com1 = uart.UART{Index: 1, Base: 0x3f8}

// InitSerial programs COM1's modem control (the console driver reprograms it when it
// attaches).
func InitSerial() { com1.Init() }

const (
	com1Data = 0x3f8
	com1LSR  = 0x3fd
	lsrTHRE  = 1 << 5
)

// Putc prints one byte on the serial port and mirrors it on the screen.
//
//go:nosplit
func Putc(c byte) {
	if hosted {
		hostPut(c)
		return
	}
	if screen.base != 0 {
		screenPut(c)
	}
	for x86.Inb(com1LSR)&lsrTHRE == 0 {
	}
	x86.Outb(com1Data, c)
}

// SerialPutc prints one byte on the serial port only: for output the screen has shown
// already (package console's buffer, written out as the machine stops).
//
//go:nosplit
func SerialPutc(c byte) {
	if hosted {
		hostPut(c)
		return
	}
	for x86.Inb(com1LSR)&lsrTHRE == 0 {
	}
	x86.Outb(com1Data, c)
}

//go:nosplit
func Puts(s string) {
	for i := 0; i < len(s); i++ {
		Putc(s[i])
	}
}

// PutBytes prints n bytes at kernel address p.
//
//go:nosplit
func PutBytes(p uintptr, n int) {
	for i := 0; i < n; i++ {
		Putc(Load8(p + uintptr(i)))
	}
}

// HexDigits are the digits PutHex prints.
const HexDigits = "0123456789abcdef"

// PutHex prints v as 0x-prefixed hexadecimal.
//
//go:nosplit
func PutHex(v uint64) {
	Puts("0x")
	started := false
	for shift := 60; shift >= 0; shift -= 4 {
		d := (v >> uint(shift)) & 0xf
		if d != 0 || started || shift == 0 {
			started = true
			Putc(HexDigits[d])
		}
	}
}

// PutHex16 prints v as 16 hex digits, for register dumps.
//
//go:nosplit
func PutHex16(v uint64) {
	for shift := 60; shift >= 0; shift -= 4 {
		Putc(HexDigits[(v>>uint(shift))&0xf])
	}
}

// PutDec prints v in decimal, one digit at a time. Package console's putDec and PutDec repeat
// this loop on purpose: a shared helper would add a frame to the deepest nosplit chains (the
// linker's 800-byte budget), and a digit buffer would add 20 bytes to each.
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

//go:nosplit
func PutInt(v int64) {
	if v < 0 {
		Putc('-')
		PutDec(uint64(-v))
		return
	}
	PutDec(uint64(v))
}
