package mm

// Address spaces: a page table plus a sorted list of regions (VMAs) saying which lower-half
// addresses are valid and with what protection. Pages of anonymous regions are allocated on
// first touch (demand-zero paging). The upper half (direct map, kernel stacks) is shared by
// every address space.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
)

// Region protections, as in mmap(2).
const (
	ProtRead  = 1
	ProtWrite = 2
	ProtExec  = 4
)

// Region kinds. A task may change (mmap over, unmap, protect) only its anonymous memory; the
// kernel alone changes the others.
const (
	KindAnon   = iota // demand-zero memory
	KindImage         // the core image, mapped at boot
	KindDevice        // device registers: the core's at boot, a driver's by mmio_map
	KindGrant         // pages lent to this space for one IPC call (loan.go), read-only
)

// MaxRegions bounds an address space's region list.
const MaxRegions = 512

// Region is one range of an address space with its protection and kind.
type Region struct {
	Start, End uintptr
	Prot       uint32
	Kind       uint32
}

// AddressSpace is one virtual address space.
type AddressSpace struct {
	id   int32 // its index in spaces, and its PCID when PCIDs are on
	root PageTable
	cr3  uint64 // what loads its page table: root, PCID, arch.NoFlush (pcid.go)
	// entryAlias is where the core's map shows its entry stacks (entry.go: EntryStackAlias).
	entryAlias uintptr
	vmas       [MaxRegions]Region
	n          int
	user       bool   // pages are accessible from ring 3
	resident   uint64 // user pages backed by frames this space owns
	mem        Share  // a task's frames (user pages, page tables, entry-area pages): pool.go
	lent       int    // loans of its pages in force (loan.go)
	pins       int    // pins of its pages in force (loan.go: IPC buffers)
	snap       SnapID // the snapshot whose frames it maps copy-on-write (snapshot.go)

	tss         arch.TSS                     // this space's TSS and I/O bitmap (entry.go)
	stackFrames [arch.EntryStackPages]uint64 // its entry stack (2 pages) and NMI stack
}

// MaxSpaces is the number of address spaces: the core's (CoreSpace) and one per task slot.
const MaxSpaces = 32

// CoreSpace is the core's own address space: the kernel's page table, whose lower half the
// core's Go runtime uses.
const CoreSpace = 0

var spaces [MaxSpaces]AddressSpace

// Space returns address space i.
//
//go:nosplit
func Space[I ~int | ~int32](i I) *AddressSpace { return &spaces[int(i)&(MaxSpaces-1)] }

// NewSpace builds address space i (1 to MaxSpaces-1, a task's) afresh: its page table, its
// entry area with the selectors of ring, and a promise from the frame pool of reserve of its
// limit frames; ok=false (and nothing held) if the pool cannot promise that much or the first
// frames are not to be had. The caller holds interrupts off.
//
//go:nosplit
func NewSpace(i int32, ring int, reserve, limit uint64) (*AddressSpace, bool) {
	as := Space(i)
	*as = AddressSpace{}
	as.id = i & (MaxSpaces - 1)
	if !FramePool.Admit(&as.mem, int64(reserve), int64(limit)) {
		return nil, false
	}
	root, ok := AllocFrameFor(&as.mem)
	if !ok {
		FramePool.Release(&as.mem)
		return nil, false
	}
	as.root = PageTable(root)
	as.setCR3()
	as.user = ring == 3
	code, stack := arch.SelectorsForRing(ring)
	if !as.BuildEntryArea(false, code, stack) {
		as.Destroy()
		return nil, false
	}
	return as, true
}

// ID is the space's index: Space(ID()) is the space.
//
//go:nosplit
func (as *AddressSpace) ID() int32 { return as.id }

// Root is the space's PML4.
//
//go:nosplit
func (as *AddressSpace) Root() PageTable { return as.root }

// Resident counts the user pages backed by frames the space owns.
//
//go:nosplit
func (as *AddressSpace) Resident() uint64 { return as.resident }

// Mem is the space's share of the frame pool (its frames: user pages, page tables, entry area).
//
//go:nosplit
func (as *AddressSpace) Mem() *Share { return &as.mem }

// TSS is the space's task-state segment and I/O permission bitmap.
//
//go:nosplit
func (as *AddressSpace) TSS() *arch.TSS { return &as.tss }

// Regions counts the space's regions: At(0) to At(Regions()-1), by address.
//
//go:nosplit
func (as *AddressSpace) Regions() int { return as.n }

// src is the share this space's frames are charged to: nil for the core's own.
//
//go:nosplit
func (as *AddressSpace) src() *Share {
	if as.id == CoreSpace {
		return nil
	}
	return &as.mem
}

// Destroy frees every page, page table and region of as. Loans of its pages end first, so no
// borrower keeps a mapping of a frame freed here; pages it borrowed are not its to free.
//
//go:nosplit
func (as *AddressSpace) Destroy() {
	as.dropEntryStackAlias() // the core's map must stop showing stacks about to be freed
	endLoansOf(as)
	as.root.FreeSlots(0, 256, as.src())
	as.root.FreeSlots(511, 512, as.src())
	FreeFrameFor(as.src(), uint64(as.root))
	as.leaveSnapshot() // its copy-on-write entries went with the tables: none was its to free
	as.root, as.cr3 = 0, 0
	as.n = 0
	as.resident = 0
	if as.id != CoreSpace {
		FramePool.Release(&as.mem)
	}
}

// Find returns the index of the region containing va, or -1.
//
//go:nosplit
func (as *AddressSpace) Find(va uintptr) int {
	lo, hi := 0, as.n
	for lo < hi {
		m := ((lo + hi) / 2) & (MaxRegions - 1)
		switch {
		case va < as.At(m).Start:
			hi = m
		case va >= as.At(m).End:
			lo = m + 1
		default:
			return m
		}
	}
	return -1
}

// NextRegion returns the start of the first region above va, or 0 if there is none.
//
//go:nosplit
func (as *AddressSpace) NextRegion(va uintptr) uintptr {
	for i := 0; i < as.n && i < MaxRegions; i++ {
		if as.At(i).Start > va {
			return as.At(i).Start
		}
	}
	return 0
}

// At returns region i. Indices are masked (as every index of a kernel table is in trap
// context): i is always below as.n <= MaxRegions, and a bounds check there could only panic.
//
//go:nosplit
func (as *AddressSpace) At(i int) *Region { return &as.vmas[i&(MaxRegions-1)] }

// IsFree reports whether no region overlaps [start, end).
//
//go:nosplit
func (as *AddressSpace) IsFree(start, end uintptr) bool {
	for i := 0; i < as.n; i++ {
		if v := as.At(i); v.Start < end && start < v.End {
			return false
		}
	}
	return true
}

// Carve removes [start, end) from the region list, splitting regions at the edges. Pages are
// not touched. ok=false if a split would overflow the list.
//
//go:nosplit
func (as *AddressSpace) Carve(start, end uintptr) bool {
	for i := 0; i < as.n; i++ {
		v := *as.At(i)
		if v.End <= start || v.Start >= end {
			continue
		}
		switch {
		case v.Start < start && v.End > end: // split in two
			if as.n == MaxRegions {
				return false
			}
			as.insertAt(i+1, Region{end, v.End, v.Prot, v.Kind})
			as.At(i).End = start
			return true
		case v.Start < start:
			as.At(i).End = start
		case v.End > end:
			as.At(i).Start = end
		default:
			as.removeAt(i)
			i--
		}
	}
	return true
}

//go:nosplit
func (as *AddressSpace) insertAt(i int, v Region) {
	for j := as.n; j > i; j-- {
		*as.At(j) = *as.At(j - 1)
	}
	*as.At(i) = v
	as.n++
}

//go:nosplit
func (as *AddressSpace) removeAt(i int) {
	for j := i; j+1 < as.n; j++ {
		*as.At(j) = *as.At(j + 1)
	}
	as.n--
}

// AddRegion records [start, end) with prot, replacing whatever regions were there, and merges
// it with equal neighbours.
//
//go:nosplit
func (as *AddressSpace) AddRegion(start, end uintptr, prot, kind uint32) bool {
	if !as.Carve(start, end) || as.n == MaxRegions {
		return false
	}
	i := 0
	for i < as.n && as.At(i).Start < start {
		i++
	}
	as.insertAt(i, Region{start, end, prot, kind})
	// Merge with the next, then the previous region.
	if n := as.At(i + 1); i+1 < as.n && n.Start == end && n.Prot == prot && n.Kind == kind {
		as.At(i).End = n.End
		as.removeAt(i + 1)
	}
	if p := as.At(i - 1); i > 0 && p.End == start && p.Prot == prot && p.Kind == kind {
		p.End = as.At(i).End
		as.removeAt(i)
	}
	return true
}

// FindFree returns a free, page-aligned range of length bytes: at hint if that range is free,
// else the highest free range below MMapTop. 0 if there is none.
//
//go:nosplit
func (as *AddressSpace) FindFree(length, hint uintptr) uintptr {
	if hint != 0 && hint >= 1<<20 && hint+length > hint && UserRange(hint, hint+length) && as.IsFree(hint, hint+length) {
		return hint
	}
	top := uintptr(MMapTop)
	for i := as.n - 1; i >= -1; i-- {
		floor := uintptr(1 << 32) // keep below-4G for the core image and devices
		if i >= 0 {
			if as.At(i).Start >= top {
				continue
			}
			floor = as.At(i).End
		}
		if top >= floor+length && top-length >= floor {
			return top - length
		}
		if i >= 0 {
			top = as.At(i).Start
		}
	}
	return 0
}

// PTEFlags turns a region protection into page-table bits.
//
//go:nosplit
func (as *AddressSpace) PTEFlags(prot uint32) uint64 {
	var f uint64 = PTEPresent
	if prot&ProtWrite != 0 {
		f |= PTEWrite
	}
	if prot&ProtExec == 0 {
		f |= PTENX
	}
	if as.user {
		f |= PTEUser
	}
	return f
}

// Changeable reports whether a task may map over, unmap or protect [start, end): it lies in
// its own part of the address space and every region it touches is anonymous memory.
//
//go:nosplit
func (as *AddressSpace) Changeable(start, end uintptr) bool {
	if !UserRange(start, end) {
		return false
	}
	for i := 0; i < as.n; i++ {
		if v := as.At(i); v.Start < end && start < v.End && v.Kind != KindAnon {
			return false
		}
	}
	return true
}

// UnmapRange drops every page in [start, end), freeing owned frames. It skips whole absent
// tables so that unmapping a large reservation costs little. Pages of the range a server
// holds as a grant are taken back from it first.
//
//go:nosplit
func (as *AddressSpace) UnmapRange(start, end uintptr) {
	revokeLoans(as, start, end)
	for va := start; va < end; {
		e, ok := as.root.Walk(va, false, nil)
		if !ok {
			va = as.root.NextTable(va) // no page table here: skip what is absent
			continue
		}
		v := arch.Load64(e)
		if v&PTEPresent != 0 {
			arch.Store64(e, 0)
			as.root.flush(va)
			if v&PTEOwned != 0 {
				FreeFrameFor(as.src(), v&PTEAddrMask)
				as.resident--
			}
		}
		va += PageSize
	}
}

// ProtectRange applies prot to the present pages of [start, end).
//
//go:nosplit
func (as *AddressSpace) ProtectRange(start, end uintptr, prot uint32) {
	revokeLoans(as, start, end) // a writable loan must not outlive the pages' write permission
	flags := as.PTEFlags(prot) | PTEOwned
	for va := start; va < end; {
		e, ok := as.root.Walk(va, false, nil)
		if !ok {
			va = as.root.NextTable(va)
			continue
		}
		v := arch.Load64(e)
		switch {
		case v&PTECOW != 0: // a snapshot's page stays read-only: a write copies it first
			arch.Store64(e, v&PTEAddrMask|flags&^(PTEOwned|PTEWrite)|PTECOW)
			as.root.flush(va)
		case v&PTEPresent != 0:
			arch.Store64(e, (v&(PTEAddrMask|PTEOwned))|(flags&^PTEOwned))
			as.root.flush(va)
		}
		va += PageSize
	}
}

// Fault outcomes, as SIGSEGV si_codes.
const (
	FaultHandled = 0
	FaultMapErr  = 1 // SEGV_MAPERR: no region
	FaultAccErr  = 2 // SEGV_ACCERR: region forbids the access
	FaultNoMem   = 3 // no frame left that the task may take (Pool.go)
	FaultQuota   = 4 // the task holds as many frames as its quota allows
)

// Fault resolves an access to va: a demand-zero page is allocated and mapped, or a snapshot's
// page copied for a write (snapshot.go), if the region allows the access.
//
//go:nosplit
func (as *AddressSpace) Fault(va uintptr, write, exec bool) int {
	i := as.Find(va)
	if i < 0 {
		return FaultMapErr
	}
	v := as.At(i)
	if v.Prot == 0 || (write && v.Prot&ProtWrite == 0) || (exec && v.Prot&ProtExec == 0) {
		return FaultAccErr
	}
	page := PageDown(va)
	if e, ok := as.root.Walk(page, false, nil); ok {
		if pte := arch.Load64(e); pte&PTEPresent != 0 {
			if write && pte&PTECOW != 0 {
				return as.copyOnWrite(page, e, pte, v.Prot)
			}
			return FaultAccErr // present but the access is not allowed by the entry
		}
	}
	if v.Kind != KindAnon {
		return FaultAccErr
	}
	f, ok := AllocFrameFor(as.src())
	if !ok {
		return as.outOfMemory()
	}
	if !as.root.MapPage(page, f, as.PTEFlags(v.Prot)|PTEOwned, as.src()) {
		FreeFrameFor(as.src(), f)
		return as.outOfMemory()
	}
	as.resident++
	return FaultHandled
}

// outOfMemory says why a frame was refused: the task's quota, or a pool with nothing left for
// it.
//
//go:nosplit
func (as *AddressSpace) outOfMemory() int {
	if as.src() != nil && as.mem.held >= as.mem.limit {
		return FaultQuota
	}
	return FaultNoMem
}
