package kernel

// Interrupt controllers: the legacy PICs are remapped and masked, the local APIC delivers the
// periodic timer (vector 32), and the I/O APIC routes device IRQs to VectorIRQBase+n.
//
// Runs in trap context (EOI, timer): nosplit, no allocation, no heap pointer writes.

import (
	"github.com/usbarmory/tamago/amd64/lapic"
	"github.com/usbarmory/tamago/soc/intel/ioapic"

	"github.com/simpleos/simpleos/core/x86"
)

var localAPIC = lapic.LAPIC{Base: lapicPhys}
var ioAPIC = ioapic.IOAPIC{Base: ioapicPhys, GSIBase: 0}

const (
	lapicSVR        = 0xf0
	lapicICRLow     = 0x300
	lapicTimerDiv   = 0x3e0
	lapicTimerInit  = 0x380
	lapicTimerCount = 0x390
)

//go:nosplit
func lapicWrite(reg uintptr, v uint32) { store32(lapicPhys+reg, v) }

//go:nosplit
func lapicRead(reg uintptr) uint32 { return load32(lapicPhys + reg) }

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

// initAPIC enables the local APIC with the spurious vector and masks every I/O APIC input.
//
//go:nosplit
func initAPIC() {
	disablePIC()
	localAPIC.Enable()
	lapicWrite(lapicSVR, lapicRead(lapicSVR)&^0xff|VectorSpurious)
	ioAPIC.Init()
	// Mask every redirection entry until a driver enables it.
	for i := uint32(0); i < 24; i++ {
		store32(ioapicPhys, 0x10+2*i)
		store32(ioapicPhys+0x10, 1<<16)
	}
}

// startTimer runs the local APIC timer periodically every `ticks` bus cycles / 16.
//
//go:nosplit
func startTimer(ticks uint32) {
	lapicWrite(lapicTimerDiv, 3) // divide by 16
	localAPIC.SetTimer(VectorTimer, lapic.TIMER_MODE_PERIODIC)
	lapicWrite(lapicTimerInit, ticks)
}

//go:nosplit
func lapicEOI() { localAPIC.ClearInterrupt() }

//go:nosplit
func lapicSelfIPI(vector uint8) {
	lapicWrite(lapicICRLow, lapic.ICR_DST_SELF|uint32(vector))
}

// EnableIRQ routes I/O APIC input irq to vector VectorIRQBase+irq on this CPU.
func EnableIRQ(irq int) {
	x86.Cli()
	ioAPIC.EnableInterrupt(irq, VectorIRQBase+irq)
	x86.Sti()
}

// maskIRQ masks I/O APIC input irq.
//
//go:nosplit
func maskIRQ(irq int) {
	store32(ioapicPhys, 0x10+2*uint32(irq))
	store32(ioapicPhys+0x10, 1<<16)
}
