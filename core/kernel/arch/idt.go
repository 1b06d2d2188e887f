package arch

// Interrupt descriptor table: 256 interrupt gates, each pointing at its stub in the entry
// area's trampoline (trampoline_stubs_amd64.s). Every gate uses an IST stack: IST2 for NMI,
// double fault and machine check (they may arrive while IST1 is in use), IST1 for the rest.
//
// Runs before the Go runtime (InitIDT): nosplit, no allocation, no heap pointer writes.

import (
	"unsafe"

	"github.com/simpleos/simpleos/core/x86"
)

// Fixed vectors.
const (
	VectorTimer    = 32
	VectorIOMMU    = 47 // the IOMMU's fault event (package iommu)
	VectorIRQBase  = 48 // I/O APIC input n arrives at VectorIRQBase+n; MSI lines above them
	VectorSpurious = 255
)

var idtr pseudoDescriptor

// gate builds an interrupt gate (present, type 0xe) reachable by INT n from rings up to dpl.
//
//go:nosplit
func gate(handler uintptr, ist, dpl uint64) (lo, hi uint64) {
	h := uint64(handler)
	lo = h&0xffff | SelKernelCode<<16 | ist<<32 | (0x8e|dpl<<5)<<40 | (h>>16&0xffff)<<48
	hi = h >> 32
	return
}

// InitIDT writes the IDT into its entry-area page (at kernel address idt): vector v enters at
// stub v of the trampoline.
//
//go:nosplit
func InitIDT(idt uintptr) {
	for v := uintptr(0); v < 256; v++ {
		ist := uint64(1)
		if v == 2 || v == 8 || v == 18 {
			ist = 2
		}
		// Only the breakpoint gate is open to INT n from tasks (INT3, as on Linux); any
		// other INT n from rings 1 to 3 is a #GP.
		dpl := uint64(0)
		if v == ExcBreakpoint {
			dpl = 3
		}
		lo, hi := gate(EntryStubs+v*16, ist, dpl)
		Store64(idt+v*16, lo)
		Store64(idt+v*16+8, hi)
	}
	idtr.set(EntryIDT, 256*16-1)
	x86.Lidt(uintptr(unsafe.Pointer(&idtr)))
}
