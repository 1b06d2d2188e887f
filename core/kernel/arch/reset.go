package arch

// Resetting the machine after a crash (crash=reboot on the kernel command line): a real PC
// whose kernel dies reboots, and boots the same disk again. Halt calls Reset instead of
// stopping QEMU when the status is StatusCrash and the core asked for it.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"unsafe"

	"github.com/simpleos/simpleos/core/x86"
)

// resetOnCrash is set once, at boot, by SetResetOnCrash; read only on the crash path.
var resetOnCrash bool

// SetResetOnCrash makes a crash (Halt with StatusCrash) reset the machine instead of stopping
// it.
//
//go:nosplit
func SetResetOnCrash(on bool) { resetOnCrash = on }

// emptyIDT is a descriptor-table pointer of limit 0: with it loaded, no exception can be
// delivered, so the next one is a triple fault.
var emptyIDT [10]byte

// nonCanonical is an address no x86-64 access can reach: a #GP, whatever is mapped.
const nonCanonical = 0x8000_0000_0000_0000

// Reset resets the machine and does not return: the reset control register (0xCF9, which
// q35's ICH9 has: a hard reset), then the keyboard controller's reset line (0xFE to 0x64),
// then, if both were ignored, a triple fault (an exception with an empty IDT), which every
// x86 turns into a reset (unless QEMU runs with -no-reboot: then QEMU exits). Call it with
// interrupts off.
//
// Straight-line on purpose: it runs at the end of the crash path's deepest nosplit chains
// (Halt prints the line before it), where every byte of stack counts, so no loop keeps a
// counter across a call. Each step that works resets at once; the next is only reached when
// the machine ignored it.
//
//go:nosplit
func Reset() {
	x86.Outb(0xcf9, 0x02) // select a hard reset without triggering it
	x86.Outb(0xcf9, 0x06) // and trigger it
	x86.Pause()
	x86.Pause()
	x86.Outb(0x64, 0xfe) // pulse the reset line through the keyboard controller
	x86.Pause()
	x86.Pause()
	x86.Lidt(uintptr(unsafe.Pointer(&emptyIDT)))
	Store64(nonCanonical, 0) // a write: the compiler keeps it
	for {
		x86.Hlt()
	}
}
