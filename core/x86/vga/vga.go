// Package vga is the PC's VGA text display as hardware: 80x25 character cells of 16 bits at
// physical address 0xb8000 (a code-page-437 character in the low byte, its colours in the
// high byte: foreground in bits 8-11, background in bits 12-14) and the CRT controller's
// cursor. The firmware (SeaBIOS's VGA BIOS) leaves the display in this mode; the core only
// writes cells. What to show is package arch's business (screen.go).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.
package vga

import (
	"unsafe"

	"github.com/simpleos/simpleos/core/x86"
)

// The text buffer: where it is and its shape.
const (
	TextPhys = 0xb8000
	Cols     = 80
	Rows     = 25
	Cells    = Cols * Rows
)

// The 16 colours of the standard palette. QEMU's VGA draws Blue as RGB 0x0000aa.
const (
	Black     = 0
	Blue      = 1
	Green     = 2
	Cyan      = 3
	Red       = 4
	Magenta   = 5
	Brown     = 6
	LightGrey = 7
	DarkGrey  = 8
	Yellow    = 14
	White     = 15
)

// A cell's colours: foreground<<FgShift | background<<BgShift, background below 8 (bit 15 is
// blink, not colour, in the firmware's default mode). Constants, so that code that runs
// before the Go runtime (which runs package initialisers) can use them.
const (
	FgShift = 8
	BgShift = 12
)

// Put writes cell i (row*Cols + column) of the text buffer mapped at base.
//
//go:nosplit
func Put(base uintptr, i int, v uint16) {
	*(*uint16)(unsafe.Pointer(base + uintptr(i)*2)) = v
}

// Get reads cell i of the text buffer mapped at base.
//
//go:nosplit
func Get(base uintptr, i int) uint16 { return *(*uint16)(unsafe.Pointer(base + uintptr(i)*2)) }

// Probe reports whether a text buffer answers at base: two patterns written to the last cell
// read back (its old value is put back). On a PC without a VGA device the legacy window is
// unassigned: writes vanish and reads return the bus's idle value.
//
//go:nosplit
func Probe(base uintptr) bool {
	old := Get(base, Cells-1)
	Put(base, Cells-1, 0x1f5a)
	a := Get(base, Cells-1)
	Put(base, Cells-1, 0xe0a5)
	b := Get(base, Cells-1)
	Put(base, Cells-1, old)
	return a == 0x1f5a && b == 0xe0a5
}

// The CRT controller's index and data ports (colour mode) and its cursor-start register.
const (
	crtcIndex   = 0x3d4
	crtcData    = 0x3d5
	cursorStart = 0x0a
	cursorOff   = 1 << 5
)

// HideCursor turns the hardware cursor off: the firmware leaves it blinking where its own
// output ended.
//
//go:nosplit
func HideCursor() {
	x86.Outb(crtcIndex, cursorStart)
	x86.Outb(crtcData, cursorOff)
}
