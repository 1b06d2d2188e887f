package mm

// Four-level x86-64 page tables. Table pages are frames reached through the direct map.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/x86"
)

// Page-table entry bits.
const (
	PTEPresent      = 1 << 0
	PTEWrite        = 1 << 1
	PTEUser         = 1 << 2
	PTEWriteThrough = 1 << 3
	PTENoCache      = 1 << 4
	PTEHuge         = 1 << 7
	PTEGlobal       = 1 << 8
	PTEOwned        = 1 << 9 // the frame belongs to this mapping and is freed with it
	PTENX           = 1 << 63

	PTEAddrMask = 0x000f_ffff_ffff_f000
)

// PageTable is the physical address of a PML4.
type PageTable uint64

// CoreTablePages counts the page-table pages of the core runtime's half of memory.
var CoreTablePages uint64

//go:nosplit
func tableIndex(va uintptr, level uint) uintptr { return (va >> (12 + 9*level)) & 511 }

// Walk returns the kernel address of the level-1 entry for va, creating intermediate tables
// when create is set. ok=false when a table is missing (and not created), memory is
// exhausted, or va is covered by a huge page.
//
// New tables are charged to share s (nil: the core).
//
//go:nosplit
//go:nosplit
func (pt PageTable) Walk(va uintptr, create bool, s *Share) (pte uintptr, ok bool) {
	table := uint64(pt)
	for level := uint(3); level > 0; level-- {
		e := DirectMap(table) + tableIndex(va, level)*8
		v := arch.Load64(e)
		if v&PTEPresent == 0 {
			if !create {
				return 0, false
			}
			f, ok := AllocFrameFor(s)
			if !ok {
				return 0, false
			}
			// Intermediate entries are permissive; the leaf decides.
			v = f | PTEPresent | PTEWrite | PTEUser
			arch.Store64(e, v)
			if pt == KernelPML4 && va < UserTop {
				CoreTablePages++
			}
		} else if v&PTEHuge != 0 {
			return 0, false
		}
		table = v & PTEAddrMask
	}
	return DirectMap(table) + tableIndex(va, 0)*8, true
}

// NextTable returns the first address above va that the missing table covering va does not:
// the next 512 GiB, 1 GiB or 2 MiB boundary, depending on which level is absent. Walking a
// huge unmapped range thus takes a few steps per table, not one per page.
//
//go:nosplit
func (pt PageTable) NextTable(va uintptr) uintptr {
	table := uint64(pt)
	for level := uint(3); level > 0; level-- {
		v := arch.Load64(DirectMap(table) + tableIndex(va, level)*8)
		if v&PTEPresent == 0 || v&PTEHuge != 0 {
			span := uintptr(1) << (12 + 9*level)
			next := (va + span) &^ (span - 1)
			if next <= va {
				return ^uintptr(0) // the end of the address space
			}
			return next
		}
		table = v & PTEAddrMask
	}
	return va + PageSize
}

// MapPage maps the 4 KiB page at va to pa with the given flags (PTEPresent is added); the
// tables it needs are charged to share s (nil: the core).
//
//go:nosplit
func (pt PageTable) MapPage(va uintptr, pa uint64, flags uint64, s *Share) bool {
	e, ok := pt.Walk(va, true, s)
	if !ok {
		return false
	}
	old := arch.Load64(e)
	arch.Store64(e, pa|flags|PTEPresent)
	if old&PTEPresent != 0 { // the TLB holds present translations only
		pt.flush(va)
	}
	return true
}

// Lookup returns the entry for va (0 if unmapped).
//
//go:nosplit
func (pt PageTable) Lookup(va uintptr) uint64 {
	e, ok := pt.Walk(va, false, nil)
	if !ok {
		return 0
	}
	return arch.Load64(e)
}

// UnmapPage removes the mapping of va and frees its frame (charged to s) if the mapping owned
// it. It returns whether a page was mapped.
//
//go:nosplit
func (pt PageTable) UnmapPage(va uintptr, s *Share) bool {
	e, ok := pt.Walk(va, false, nil)
	if !ok {
		return false
	}
	v := arch.Load64(e)
	if v&PTEPresent == 0 {
		return false
	}
	arch.Store64(e, 0)
	pt.flush(va)
	if v&PTEOwned != 0 {
		FreeFrameFor(s, v&PTEAddrMask)
	}
	return true
}

// ClearPage removes the mapping of va without freeing its frame (a mapping of a frame that
// belongs to someone else, such as a page grant).
//
//go:nosplit
func (pt PageTable) ClearPage(va uintptr) {
	if e, ok := pt.Walk(va, false, nil); ok {
		arch.Store64(e, 0)
		pt.flush(va)
	}
}

// SetFlags rewrites the permission bits of a present page, keeping its frame.
//
//go:nosplit
func (pt PageTable) SetFlags(va uintptr, flags uint64) {
	e, ok := pt.Walk(va, false, nil)
	if !ok {
		return
	}
	v := arch.Load64(e)
	if v&PTEPresent == 0 {
		return
	}
	arch.Store64(e, (v&(PTEAddrMask|PTEOwned))|flags|PTEPresent)
	pt.flush(va)
}

// flush drops what the TLB may hold of va in pt: at once if pt is loaded, and at the next
// load of its space's PCID otherwise (pcid.go).
//
//go:nosplit
func (pt PageTable) flush(va uintptr) {
	pt.forgetTLB()
	if hosted {
		return // no page table is ever loaded: nothing to flush
	}
	if x86.CR3()&PTEAddrMask == uint64(pt) {
		x86.Invlpg(va)
	}
}

// FreeSlots frees the page-table pages under PML4 entries [lo, hi) and the frames owned by
// their mappings, all charged to s. Kernel slots shared between address spaces are never
// passed here.
//
//go:nosplit
func (pt PageTable) FreeSlots(lo, hi uintptr, s *Share) {
	pt.forgetTLB()
	pml4 := DirectMap(uint64(pt))
	for i := lo; i < hi; i++ {
		pdpt := arch.Load64(pml4 + i*8)
		if pdpt&PTEPresent == 0 {
			continue
		}
		for j := uintptr(0); j < 512; j++ {
			pd := arch.Load64(DirectMap(pdpt&PTEAddrMask) + j*8)
			if pd&PTEPresent == 0 || pd&PTEHuge != 0 {
				continue
			}
			for k := uintptr(0); k < 512; k++ {
				ptab := arch.Load64(DirectMap(pd&PTEAddrMask) + k*8)
				if ptab&PTEPresent == 0 || ptab&PTEHuge != 0 {
					continue
				}
				freeLeafTable(ptab&PTEAddrMask, s)
			}
			FreeFrameFor(s, pd&PTEAddrMask)
		}
		FreeFrameFor(s, pdpt&PTEAddrMask)
		arch.Store64(pml4+i*8, 0)
	}
}

// freeLeafTable frees a level-1 table and the frames its entries own, charged to s.
//
//go:nosplit
func freeLeafTable(table uint64, s *Share) {
	base := DirectMap(table)
	for i := uintptr(0); i < 512; i++ {
		v := arch.Load64(base + i*8)
		if v&PTEPresent != 0 && v&PTEOwned != 0 {
			FreeFrameFor(s, v&PTEAddrMask)
		}
	}
	FreeFrameFor(s, table)
}
