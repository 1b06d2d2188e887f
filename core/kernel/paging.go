package kernel

// Four-level x86-64 page tables. Table pages are frames reached through the direct map.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/x86"
)

// Page-table entry bits.
const (
	ptePresent  = 1 << 0
	pteWrite    = 1 << 1
	pteUser     = 1 << 2
	pteWriteThr = 1 << 3
	pteNoCache  = 1 << 4
	pteHuge     = 1 << 7
	pteGlobal   = 1 << 8
	pteOwned    = 1 << 9 // the frame belongs to this mapping and is freed with it
	pteNX       = 1 << 63

	pteAddrMask = 0x000f_ffff_ffff_f000
)

// pageTable is the physical address of a PML4.
type pageTable uint64

// coreTablePages counts the page-table pages of the core runtime's half of memory.
var coreTablePages uint64

//go:nosplit
func tableIndex(va uintptr, level uint) uintptr { return (va >> (12 + 9*level)) & 511 }

// walk returns the kernel address of the level-1 entry for va, creating intermediate tables
// when create is set. ok=false when a table is missing (and not created), memory is
// exhausted, or va is covered by a huge page.
//
// New tables are charged to share s (nil: the core).
//
//go:nosplit
//go:nosplit
func (pt pageTable) walk(va uintptr, create bool, s *share) (pte uintptr, ok bool) {
	table := uint64(pt)
	for level := uint(3); level > 0; level-- {
		e := directMap(table) + tableIndex(va, level)*8
		v := arch.Load64(e)
		if v&ptePresent == 0 {
			if !create {
				return 0, false
			}
			f, ok := allocFrameFor(s)
			if !ok {
				return 0, false
			}
			// Intermediate entries are permissive; the leaf decides.
			v = f | ptePresent | pteWrite | pteUser
			arch.Store64(e, v)
			if pt == kernelPML4 && va < userTop {
				coreTablePages++
			}
		} else if v&pteHuge != 0 {
			return 0, false
		}
		table = v & pteAddrMask
	}
	return directMap(table) + tableIndex(va, 0)*8, true
}

// nextTable returns the first address above va that the missing table covering va does not:
// the next 512 GiB, 1 GiB or 2 MiB boundary, depending on which level is absent. Walking a
// huge unmapped range thus takes a few steps per table, not one per page.
//
//go:nosplit
func (pt pageTable) nextTable(va uintptr) uintptr {
	table := uint64(pt)
	for level := uint(3); level > 0; level-- {
		v := arch.Load64(directMap(table) + tableIndex(va, level)*8)
		if v&ptePresent == 0 || v&pteHuge != 0 {
			span := uintptr(1) << (12 + 9*level)
			next := (va + span) &^ (span - 1)
			if next <= va {
				return ^uintptr(0) // the end of the address space
			}
			return next
		}
		table = v & pteAddrMask
	}
	return va + pageSize
}

// mapPage maps the 4 KiB page at va to pa with the given flags (ptePresent is added); the
// tables it needs are charged to share s (nil: the core).
//
//go:nosplit
func (pt pageTable) mapPage(va uintptr, pa uint64, flags uint64, s *share) bool {
	e, ok := pt.walk(va, true, s)
	if !ok {
		return false
	}
	arch.Store64(e, pa|flags|ptePresent)
	pt.flush(va)
	return true
}

// lookup returns the entry for va (0 if unmapped).
//
//go:nosplit
func (pt pageTable) lookup(va uintptr) uint64 {
	e, ok := pt.walk(va, false, nil)
	if !ok {
		return 0
	}
	return arch.Load64(e)
}

// unmapPage removes the mapping of va and frees its frame (charged to s) if the mapping owned
// it. It returns whether a page was mapped.
//
//go:nosplit
func (pt pageTable) unmapPage(va uintptr, s *share) bool {
	e, ok := pt.walk(va, false, nil)
	if !ok {
		return false
	}
	v := arch.Load64(e)
	if v&ptePresent == 0 {
		return false
	}
	arch.Store64(e, 0)
	pt.flush(va)
	if v&pteOwned != 0 {
		freeFrameFor(s, v&pteAddrMask)
	}
	return true
}

// clearPage removes the mapping of va without freeing its frame (a mapping of a frame that
// belongs to someone else, such as a page grant).
//
//go:nosplit
func (pt pageTable) clearPage(va uintptr) {
	if e, ok := pt.walk(va, false, nil); ok {
		arch.Store64(e, 0)
		pt.flush(va)
	}
}

// setFlags rewrites the permission bits of a present page, keeping its frame.
//
//go:nosplit
func (pt pageTable) setFlags(va uintptr, flags uint64) {
	e, ok := pt.walk(va, false, nil)
	if !ok {
		return
	}
	v := arch.Load64(e)
	if v&ptePresent == 0 {
		return
	}
	arch.Store64(e, (v&(pteAddrMask|pteOwned))|flags|ptePresent)
	pt.flush(va)
}

//go:nosplit
func (pt pageTable) flush(va uintptr) {
	if x86.CR3()&pteAddrMask == uint64(pt) {
		x86.Invlpg(va)
	}
}

// freeSlots frees the page-table pages under PML4 entries [lo, hi) and the frames owned by
// their mappings, all charged to s. Kernel slots shared between address spaces are never
// passed here.
//
//go:nosplit
func (pt pageTable) freeSlots(lo, hi uintptr, s *share) {
	pml4 := directMap(uint64(pt))
	for i := lo; i < hi; i++ {
		pdpt := arch.Load64(pml4 + i*8)
		if pdpt&ptePresent == 0 {
			continue
		}
		for j := uintptr(0); j < 512; j++ {
			pd := arch.Load64(directMap(pdpt&pteAddrMask) + j*8)
			if pd&ptePresent == 0 || pd&pteHuge != 0 {
				continue
			}
			for k := uintptr(0); k < 512; k++ {
				ptab := arch.Load64(directMap(pd&pteAddrMask) + k*8)
				if ptab&ptePresent == 0 || ptab&pteHuge != 0 {
					continue
				}
				freeLeafTable(ptab&pteAddrMask, s)
			}
			freeFrameFor(s, pd&pteAddrMask)
		}
		freeFrameFor(s, pdpt&pteAddrMask)
		arch.Store64(pml4+i*8, 0)
	}
}

// freeLeafTable frees a level-1 table and the frames its entries own, charged to s.
//
//go:nosplit
func freeLeafTable(table uint64, s *share) {
	base := directMap(table)
	for i := uintptr(0); i < 512; i++ {
		v := arch.Load64(base + i*8)
		if v&ptePresent != 0 && v&pteOwned != 0 {
			freeFrameFor(s, v&pteAddrMask)
		}
	}
	freeFrameFor(s, table)
}
