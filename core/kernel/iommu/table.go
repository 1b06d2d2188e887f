package iommu

// The remapping tables: root and context entries, and the walk of a second-level table.
// Table pages are the core's frames, reached through the direct map.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// contextEntry returns the kernel address of device source's context entry (16 bytes),
// creating its bus's context table when create is set.
//
//go:nosplit
func contextEntry(source uint16, create bool) (uintptr, bool) {
	rootEntry := mm.DirectMap(unit.root) + uintptr(source>>8)*16
	v := arch.Load64(rootEntry)
	if v&1 == 0 {
		if !create {
			return 0, false
		}
		f, ok := mm.AllocFrame()
		if !ok {
			return 0, false
		}
		v = f | 1
		arch.Store64(rootEntry, v)
	}
	return mm.DirectMap(v&slAddr) + uintptr(source&0xff)*16, true
}

// walk returns the kernel address of iova's last-level entry in the table whose top level
// is top, creating missing tables when create is set.
//
//go:nosplit
func walk(top, iova uint64, create bool) (uintptr, bool) {
	table := top
	for level := unit.levels - 1; level > 0; level-- {
		e := mm.DirectMap(table) + uintptr(iova>>(12+9*uint(level))&511)*8
		v := arch.Load64(e)
		if v&(slRead|slWrite) == 0 {
			if !create {
				return 0, false
			}
			f, ok := mm.AllocFrame()
			if !ok {
				return 0, false
			}
			v = f | slRead | slWrite // intermediate entries allow; the leaf decides
			arch.Store64(e, v)
		}
		table = v & slAddr
	}
	return mm.DirectMap(table) + uintptr(iova>>12&511)*8, true
}

// freeTable frees the tables of a second-level page table of levels levels, the top one
// last. Leaf frames are not freed here: the domain freed them page by page. Iterative: trap
// context has no stack to recurse on.
//
//go:nosplit
func freeTable(top uint64, levels int) {
	var path [4]struct {
		table uint64
		next  uintptr
	}
	depth := 0
	path[0].table, path[0].next = top, 0
	for depth >= 0 {
		p := &path[depth&3]
		if depth < levels-1 && p.next < 512 {
			v := arch.Load64(mm.DirectMap(p.table) + p.next*8)
			p.next++
			if v&(slRead|slWrite) != 0 {
				depth++
				path[depth&3].table, path[depth&3].next = v&slAddr, 0
			}
			continue
		}
		mm.FreeFrame(p.table)
		depth--
	}
}
