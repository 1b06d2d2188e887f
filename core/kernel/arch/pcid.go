package arch

// Process-context identifiers. With CR4.PCIDE on, the TLB tags each entry with the PCID of
// the CR3 it was made under (CR3's low 12 bits), and a CR3 write with bit 63 set keeps the
// entries of the PCID it loads: a switch between address spaces then costs no TLB refill.
// Package mm gives each space its PCID and says, in the space's CR3 word, whether its next
// load may keep them (mm/pcid.go); this file turns the feature on and is the CPU's side of it:
// trampCommon and trampSyscall load the core's CR3 with NoFlush (the core's PCID is 0, and the
// core's own map changes only while it is loaded, with INVLPG), and trapReturn loads a task's
// CR3 word as it is, then sets NoFlush in it for the space's next load.
//
// TCG (QEMU's emulation, 7.2 and later) does not offer PCID; a KVM host's CPU usually does.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import "github.com/simpleos/simpleos/core/x86"

const (
	// NoFlush is CR3's bit 63: with CR4.PCIDE, the load keeps the TLB entries of its PCID.
	NoFlush = 1 << 63
	// MaxPCID is the largest PCID CR3 can name.
	MaxPCID = 1<<12 - 1

	cr4PCIDE  = 1 << 17
	cpuidPCID = 1 << 17 // CPUID.01H:ECX
)

// cr3NoFlush is NoFlush once PCIDs are on, 0 before: what trapReturn sets in a space's CR3
// word after loading it, and what the read-only data page's word 3 adds to the core's CR3.
var cr3NoFlush uint64

// roDataPage is the kernel address of the entry area's read-only data page (InstallTrampoline).
var roDataPage uintptr

// CPUHasPCID says whether the CPU offers PCIDs.
//
//go:nosplit
func CPUHasPCID() bool {
	if hosted {
		return false
	}
	_, _, c, _ := x86.Cpuid(1, 0)
	return c&cpuidPCID != 0
}

// EnablePCID turns PCIDs on: CR4.PCIDE, and NoFlush on every later load of the core's CR3 and
// of each task's, unless its space says otherwise. Called once at boot, on the core's page
// table (PCID 0: CR4.PCIDE cannot be set with CR3's low 12 bits other than 0), before any task
// runs, on a CPU that has them (CPUHasPCID).
//
//go:nosplit
func EnablePCID() {
	x86.SetCR4(x86.CR4() | cr4PCIDE)
	cr3NoFlush = NoFlush
	Store64(roDataPage+24, NoFlush)
}
