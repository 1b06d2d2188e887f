package kernel

// Address spaces: a page table plus a sorted list of regions (VMAs) saying which lower-half
// addresses are valid and with what protection. Pages of anonymous regions are allocated on
// first touch (demand-zero paging). The upper half (direct map, kernel stacks) is shared by
// every address space.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/x86"
)

// Region protections, as in mmap(2).
const (
	protRead  = 1
	protWrite = 2
	protExec  = 4
)

// Region kinds. A task may change (mmap over, unmap, protect) only its anonymous memory; the
// kernel alone changes the others.
const (
	vmaAnon   = iota // demand-zero memory
	vmaImage         // the core image, mapped at boot
	vmaDevice        // device registers: the core's at boot, a driver's by mmio_map
	vmaGrant         // pages lent to this server for one call (ipc.go), read-only
)

const maxVMAs = 512

type vma struct {
	start, end uintptr
	prot       uint32
	kind       uint32
}

// AddressSpace is one virtual address space.
type AddressSpace struct {
	id       int32 // its index in spaces
	root     pageTable
	vmas     [maxVMAs]vma
	n        int
	user     bool   // pages are accessible from ring 3
	resident uint64 // user pages backed by frames this space owns
	mem      share  // a task's frames (user pages, page tables, entry-area pages): pool.go

	tss         arch.TSS                     // this space's TSS and I/O bitmap (entry.go)
	stackFrames [arch.EntryStackPages]uint64 // its entry stack (2 pages) and NMI stack
}

// src is the share this space's frames are charged to: nil for the core's own.
//
//go:nosplit
func (as *AddressSpace) src() *share {
	if as.id == coreProc {
		return nil
	}
	return &as.mem
}

// Switch makes as the current address space.
//
//go:nosplit
func (as *AddressSpace) Switch() { x86.SetCR3(uint64(as.root)) }

// Destroy frees every page, page table and region of as.
//
//go:nosplit
func (as *AddressSpace) Destroy() {
	as.root.freeSlots(0, 256, as.src())
	as.root.freeSlots(511, 512, as.src())
	freeFrameFor(as.src(), uint64(as.root))
	as.root = 0
	as.n = 0
	as.resident = 0
	if as.id != coreProc {
		framePool.release(&as.mem)
	}
}

// find returns the index of the region containing va, or -1.
//
//go:nosplit
func (as *AddressSpace) find(va uintptr) int {
	lo, hi := 0, as.n
	for lo < hi {
		m := ((lo + hi) / 2) & (maxVMAs - 1)
		switch {
		case va < as.at(m).start:
			hi = m
		case va >= as.at(m).end:
			lo = m + 1
		default:
			return m
		}
	}
	return -1
}

// nextRegion returns the start of the first region above va, or 0 if there is none.
//
//go:nosplit
func (as *AddressSpace) nextRegion(va uintptr) uintptr {
	for i := 0; i < as.n && i < maxVMAs; i++ {
		if as.at(i).start > va {
			return as.at(i).start
		}
	}
	return 0
}

// at returns region i. Indices are masked (as every index of a kernel table is in trap
// context): i is always below as.n <= maxVMAs, and a bounds check there could only panic.
//
//go:nosplit
func (as *AddressSpace) at(i int) *vma { return &as.vmas[i&(maxVMAs-1)] }

// isFree reports whether no region overlaps [start, end).
//
//go:nosplit
func (as *AddressSpace) isFree(start, end uintptr) bool {
	for i := 0; i < as.n; i++ {
		if v := as.at(i); v.start < end && start < v.end {
			return false
		}
	}
	return true
}

// carve removes [start, end) from the region list, splitting regions at the edges. Pages are
// not touched. ok=false if a split would overflow the list.
//
//go:nosplit
func (as *AddressSpace) carve(start, end uintptr) bool {
	for i := 0; i < as.n; i++ {
		v := *as.at(i)
		if v.end <= start || v.start >= end {
			continue
		}
		switch {
		case v.start < start && v.end > end: // split in two
			if as.n == maxVMAs {
				return false
			}
			as.insertAt(i+1, vma{end, v.end, v.prot, v.kind})
			as.at(i).end = start
			return true
		case v.start < start:
			as.at(i).end = start
		case v.end > end:
			as.at(i).start = end
		default:
			as.removeAt(i)
			i--
		}
	}
	return true
}

//go:nosplit
func (as *AddressSpace) insertAt(i int, v vma) {
	for j := as.n; j > i; j-- {
		*as.at(j) = *as.at(j - 1)
	}
	*as.at(i) = v
	as.n++
}

//go:nosplit
func (as *AddressSpace) removeAt(i int) {
	for j := i; j+1 < as.n; j++ {
		*as.at(j) = *as.at(j + 1)
	}
	as.n--
}

// addRegion records [start, end) with prot, replacing whatever regions were there, and merges
// it with equal neighbours.
//
//go:nosplit
func (as *AddressSpace) addRegion(start, end uintptr, prot, kind uint32) bool {
	if !as.carve(start, end) || as.n == maxVMAs {
		return false
	}
	i := 0
	for i < as.n && as.at(i).start < start {
		i++
	}
	as.insertAt(i, vma{start, end, prot, kind})
	// Merge with the next, then the previous region.
	if n := as.at(i + 1); i+1 < as.n && n.start == end && n.prot == prot && n.kind == kind {
		as.at(i).end = n.end
		as.removeAt(i + 1)
	}
	if p := as.at(i - 1); i > 0 && p.end == start && p.prot == prot && p.kind == kind {
		p.end = as.at(i).end
		as.removeAt(i)
	}
	return true
}

// findFree returns a free, page-aligned range of length bytes: at hint if that range is free,
// else the highest free range below mmapTop. 0 if there is none.
//
//go:nosplit
func (as *AddressSpace) findFree(length, hint uintptr) uintptr {
	if hint != 0 && hint >= 1<<20 && hint+length > hint && userRange(hint, hint+length) && as.isFree(hint, hint+length) {
		return hint
	}
	top := uintptr(mmapTop)
	for i := as.n - 1; i >= -1; i-- {
		floor := uintptr(1 << 32) // keep below-4G for the core image and devices
		if i >= 0 {
			if as.at(i).start >= top {
				continue
			}
			floor = as.at(i).end
		}
		if top >= floor+length && top-length >= floor {
			return top - length
		}
		if i >= 0 {
			top = as.at(i).start
		}
	}
	return 0
}

// pteFlags turns a region protection into page-table bits.
//
//go:nosplit
func (as *AddressSpace) pteFlags(prot uint32) uint64 {
	var f uint64 = ptePresent
	if prot&protWrite != 0 {
		f |= pteWrite
	}
	if prot&protExec == 0 {
		f |= pteNX
	}
	if as.user {
		f |= pteUser
	}
	return f
}

// changeable reports whether a task may map over, unmap or protect [start, end): it lies in
// its own part of the address space and every region it touches is anonymous memory.
//
//go:nosplit
func (as *AddressSpace) changeable(start, end uintptr) bool {
	if !userRange(start, end) {
		return false
	}
	for i := 0; i < as.n; i++ {
		if v := as.at(i); v.start < end && start < v.end && v.kind != vmaAnon {
			return false
		}
	}
	return true
}

// unmapRange drops every page in [start, end), freeing owned frames. It skips whole absent
// tables so that unmapping a large reservation costs little. Pages of the range a server
// holds as a grant are taken back from it first.
//
//go:nosplit
func (as *AddressSpace) unmapRange(start, end uintptr) {
	revokeLent(as, start, end)
	for va := start; va < end; {
		e, ok := as.root.walk(va, false, nil)
		if !ok {
			va = as.root.nextTable(va) // no page table here: skip what is absent
			continue
		}
		v := arch.Load64(e)
		if v&ptePresent != 0 {
			arch.Store64(e, 0)
			as.root.flush(va)
			if v&pteOwned != 0 {
				freeFrameFor(as.src(), v&pteAddrMask)
				as.resident--
			}
		}
		va += pageSize
	}
}

// protectRange applies prot to the present pages of [start, end).
//
//go:nosplit
func (as *AddressSpace) protectRange(start, end uintptr, prot uint32) {
	flags := as.pteFlags(prot) | pteOwned
	for va := start; va < end; {
		e, ok := as.root.walk(va, false, nil)
		if !ok {
			va = as.root.nextTable(va)
			continue
		}
		v := arch.Load64(e)
		if v&ptePresent != 0 {
			arch.Store64(e, (v&(pteAddrMask|pteOwned))|(flags&^pteOwned))
			as.root.flush(va)
		}
		va += pageSize
	}
}

// Fault outcomes, as SIGSEGV si_codes.
const (
	faultHandled = 0
	faultMapErr  = 1 // SEGV_MAPERR: no region
	faultAccErr  = 2 // SEGV_ACCERR: region forbids the access
	faultNoMem   = 3 // no frame left that the task may take (pool.go)
	faultQuota   = 4 // the task holds as many frames as its quota allows
)

// fault resolves an access to va: a demand-zero page is allocated and mapped if the region
// allows the access.
//
//go:nosplit
func (as *AddressSpace) fault(va uintptr, write, exec bool) int {
	i := as.find(va)
	if i < 0 {
		return faultMapErr
	}
	v := as.at(i)
	if v.prot == 0 || (write && v.prot&protWrite == 0) || (exec && v.prot&protExec == 0) {
		return faultAccErr
	}
	page := pageDown(va)
	if as.root.lookup(page)&ptePresent != 0 {
		return faultAccErr // present but the access is not allowed by the entry
	}
	if v.kind != vmaAnon {
		return faultAccErr
	}
	f, ok := allocFrameFor(as.src())
	if !ok {
		return as.outOfMemory()
	}
	if !as.root.mapPage(page, f, as.pteFlags(v.prot)|pteOwned, as.src()) {
		freeFrameFor(as.src(), f)
		return as.outOfMemory()
	}
	as.resident++
	return faultHandled
}

// outOfMemory says why a frame was refused: the task's quota, or a pool with nothing left for
// it.
//
//go:nosplit
func (as *AddressSpace) outOfMemory() int {
	if as.src() != nil && as.mem.held >= as.mem.limit {
		return faultQuota
	}
	return faultNoMem
}
