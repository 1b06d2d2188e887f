package mm

// Each address space's CR3 word and its PCID. With PCIDs on (arch/pcid.go), a space's PCID is
// its index (the core's is 0) and the TLB keeps its entries across switches; they stay true
// until the space's page table changes under them. So every change that can leave the TLB
// holding an entry no longer true — a page unmapped, its permissions narrowed, made
// copy-on-write, its tables freed — marks the space (forgetTLB): its CR3 word loses
// arch.NoFlush, and its next load flushes its PCID's entries. A space built afresh starts
// without NoFlush: its index's PCID may hold the entries of the space that had it before. An
// entry made where none was present needs no flush: the TLB holds present translations only.
// trapReturn sets NoFlush in the word as it loads it.
//
// With PCIDs off (TCG, or pcid=off), a word is the page table alone, never NoFlush: every CR3
// load flushes the TLB, as before.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"unsafe"

	"github.com/simpleos/simpleos/core/kernel/arch"
)

// The PCIDs of every space fit in CR3.
var _ = [1]struct{}{}[(MaxSpaces-1)/(arch.MaxPCID+1)]

// pcids says whether spaces' words carry their PCID (UsePCIDs).
var pcids bool

// UsePCIDs makes every space built from now on carry its PCID in its CR3 word. Called once at
// boot, when arch.EnablePCID has turned them on, before any task's space is built (host tests
// call it on its own: the words are then only read, never loaded).
//
//go:nosplit
func UsePCIDs() { pcids = true }

// CR3Word is the address of as's CR3 word, which trapReturn loads on its way back to one of
// its threads (arch.SetReturn).
//
//go:nosplit
func (as *AddressSpace) CR3Word() uintptr { return uintptr(unsafe.Pointer(&as.cr3)) }

// CR3 is the value of as's CR3 word: its page table, its PCID, and arch.NoFlush if its next
// load may keep its TLB entries.
//
//go:nosplit
func (as *AddressSpace) CR3() uint64 { return as.cr3 }

// setCR3 gives as, just built, its first CR3 word: its page table and PCID, and no NoFlush.
//
//go:nosplit
func (as *AddressSpace) setCR3() {
	as.cr3 = uint64(as.root)
	if pcids {
		as.cr3 |= uint64(as.id & (MaxSpaces - 1))
	}
}

// forgetTLB makes the next load of pt's space flush its PCID: the TLB may hold entries of pt
// that are no longer true. The core's own table needs nothing: the core changes it only while
// it is loaded, and flushes the page at once.
//
//go:nosplit
func (pt PageTable) forgetTLB() {
	if !pcids || pt == KernelPML4 {
		return
	}
	for i := range spaces {
		if spaces[i].root == pt {
			spaces[i].cr3 &^= arch.NoFlush
			return
		}
	}
}
