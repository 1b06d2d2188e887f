package kernel

// Interrupt descriptor table: 256 interrupt gates, each pointing at its stub in the entry
// area's trampoline (trampoline_stubs_amd64.s). Every gate uses an IST stack: IST2 for NMI,
// double fault and machine check (they may arrive while IST1 is in use), IST1 for the rest.
//
// Custom handlers for vectors 32-255 are registered with RegisterHandler.

import (
	"errors"
	"unsafe"

	"github.com/simpleos/simpleos/core/x86"
)

// Fixed vectors.
const (
	VectorTimer    = 32
	VectorIRQBase  = 48 // I/O APIC input n arrives at VectorIRQBase+n
	VectorSpurious = 255
)

var idtr pseudoDescriptor

func trapEntry()
func trapReturn()
func threadStart()
func threadStartAddr() uintptr

// gate builds an interrupt gate (present, type 0xe) reachable by INT n from rings up to dpl.
//
//go:nosplit
func gate(handler uintptr, ist, dpl uint64) (lo, hi uint64) {
	h := uint64(handler)
	lo = h&0xffff | SelKernelCode<<16 | ist<<32 | (0x8e|dpl<<5)<<40 | (h>>16&0xffff)<<48
	hi = h >> 32
	return
}

// initIDT writes the IDT into its entry-area page: vector v enters at stub v of the
// trampoline.
//
//go:nosplit
func initIDT() {
	idt := directMap(entryShared.idt)
	for v := uintptr(0); v < 256; v++ {
		ist := uint64(1)
		if v == 2 || v == 8 || v == 18 {
			ist = 2
		}
		// Only the breakpoint gate is open to INT n from tasks (INT3, as on Linux); any
		// other INT n from rings 1 to 3 is a #GP.
		dpl := uint64(0)
		if v == excBreakpoint {
			dpl = 3
		}
		lo, hi := gate(entryStubs+v*16, ist, dpl)
		store64(idt+v*16, lo)
		store64(idt+v*16+8, hi)
	}
	idtr.set(entryIDT, 256*16-1)
	x86.Lidt(uintptr(unsafe.Pointer(&idtr)))
}

// Handler is a custom interrupt handler. It runs in trap context: it must be nosplit,
// allocate nothing and write no heap pointers. It returns whether it handled the vector.
type Handler func(tf *TrapFrame) bool

var handlers [256]Handler

// RegisterHandler installs h for vector (32..254, not the timer). Call it from ordinary Go
// code, not from a handler. A handler whose code starts with a stack check (a function not
// marked //go:nosplit) is refused: it would call morestack on the trap path, and the
// trap-context checker (core/trapcheck) cannot follow a registered handler's call.
func RegisterHandler(vector int, h Handler) error {
	if vector < 32 || vector > 254 || vector == VectorTimer {
		return errors.New("kernel: vector reserved or out of range")
	}
	if h == nil || !nosplitCode(**(**uintptr)(unsafe.Pointer(&h))) {
		return errors.New("kernel: an interrupt handler must be //go:nosplit")
	}
	if handlers[vector] != nil {
		return errors.New("kernel: vector already has a handler")
	}
	x86.Cli()
	handlers[vector] = h
	x86.Sti()
	return nil
}

// UnregisterHandler removes the handler of vector.
func UnregisterHandler(vector int) {
	if vector < 0 || vector > 255 {
		return
	}
	x86.Cli()
	handlers[vector] = nil
	x86.Sti()
}

// SelfInterrupt raises vector on this CPU through the local APIC (for tests of handlers).
func SelfInterrupt(vector int) {
	lapicSelfIPI(uint8(vector))
}

// nosplitCode reports whether the function whose code starts at pc lacks Go's stack check:
// on amd64 every function that may grow its stack compares SP (or SP minus its frame, in R12)
// with g.stackguard0 at 16(R14) before anything else: CMPQ SP|R12, 16(R14).
func nosplitCode(pc uintptr) bool {
	code := unsafe.Slice((*byte)(unsafe.Pointer(pc)), 24)
	for i := 0; i+4 <= len(code); i++ {
		if (code[i] == 0x49 || code[i] == 0x4d) && code[i+1] == 0x3b && code[i+2] == 0x66 && code[i+3] == 0x10 {
			return false
		}
	}
	return true
}
