package arch

// Interrupt controllers: the legacy PICs are remapped and masked, the local APIC delivers the
// periodic timer (vector 32), and the I/O APIC routes device IRQs to VectorIRQBase+n.
//
// Runs in trap context (EOI, timer): nosplit, no allocation, no heap pointer writes.

import (
	"unsafe"

	"github.com/usbarmory/tamago/amd64/lapic"
	"github.com/usbarmory/tamago/soc/intel/ioapic"

	"github.com/simpleos/simpleos/core/x86"
)

// Where the controllers' registers are (identity-mapped, uncached, by package mm).
const (
	LAPICPhys  = 0xfee0_0000
	IOAPICPhys = 0xfec0_0000
)

var localAPIC = lapic.LAPIC{Base: LAPICPhys}
var ioAPIC = ioapic.IOAPIC{Base: IOAPICPhys, GSIBase: 0}

const (
	lapicSVR        = 0xf0
	lapicICRLow     = 0x300
	lapicTimerDiv   = 0x3e0
	lapicTimerInit  = 0x380
	lapicTimerCount = 0x390
)

//go:nosplit
func lapicWrite(reg uintptr, v uint32) { Store32(LAPICPhys+reg, v) }

//go:nosplit
func lapicRead(reg uintptr) uint32 { return Load32(LAPICPhys + reg) }

// disablePIC remaps the 8259 PICs away from the exception vectors and masks every line.
//
//go:nosplit
func disablePIC() {
	x86.Outb(0x20, 0x11)
	x86.Outb(0xa0, 0x11)
	x86.Outb(0x21, 0xf0) // vectors 0xf0-0xf7: harmless if one slips through
	x86.Outb(0xa1, 0xf8)
	x86.Outb(0x21, 4)
	x86.Outb(0xa1, 2)
	x86.Outb(0x21, 1)
	x86.Outb(0xa1, 1)
	x86.Outb(0x21, 0xff)
	x86.Outb(0xa1, 0xff)
}

// InitAPIC enables the local APIC with the spurious vector and masks every I/O APIC input.
//
//go:nosplit
func InitAPIC() {
	disablePIC()
	localAPIC.Enable()
	lapicWrite(lapicSVR, lapicRead(lapicSVR)&^0xff|VectorSpurious)
	ioAPIC.Init()
	// Mask every redirection entry until a driver enables it.
	for i := uint32(0); i < 24; i++ {
		Store32(IOAPICPhys, 0x10+2*i)
		Store32(IOAPICPhys+0x10, 1<<16)
	}
}

// StartTimer runs the local APIC timer periodically every `ticks` bus cycles / 16.
//
//go:nosplit
func StartTimer(ticks uint32) {
	lapicWrite(lapicTimerDiv, 3) // divide by 16
	localAPIC.SetTimer(VectorTimer, lapic.TIMER_MODE_PERIODIC)
	lapicWrite(lapicTimerInit, ticks)
}

// EOI tells the local APIC the interrupt being handled is done.
//
//go:nosplit
func EOI() { localAPIC.ClearInterrupt() }

// EnableIRQ routes I/O APIC input irq to vector VectorIRQBase+irq on this CPU. The caller
// holds interrupts off.
//
//go:nosplit
func EnableIRQ(irq int) { ioAPIC.EnableInterrupt(irq, VectorIRQBase+irq) }

// MaskIRQ masks I/O APIC input irq.
//
//go:nosplit
func MaskIRQ(irq int) {
	Store32(IOAPICPhys, 0x10+2*uint32(irq))
	Store32(IOAPICPhys+0x10, 1<<16)
}

// SelfInterrupt raises vector on this CPU through the local APIC (for tests of handlers).
//
//go:nosplit
func SelfInterrupt(vector int) { lapicWrite(lapicICRLow, lapic.ICR_DST_SELF|uint32(vector)) }

// NosplitCode reports whether the function whose code starts at pc lacks Go's stack check:
// on amd64 every function that may grow its stack compares SP (or SP minus its frame, in R12)
// with g.stackguard0 at 16(R14) before anything else: CMPQ SP|R12, 16(R14).
func NosplitCode(pc uintptr) bool {
	code := unsafe.Slice((*byte)(unsafe.Pointer(pc)), 24)
	for i := 0; i+4 <= len(code); i++ {
		if (code[i] == 0x49 || code[i] == 0x4d) && code[i+1] == 0x3b && code[i+2] == 0x66 && code[i+3] == 0x10 {
			return false
		}
	}
	return true
}
