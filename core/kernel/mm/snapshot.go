package mm

// Snapshots: a task's memory frozen at one moment (after its runtime and module initialised),
// from which later instances start copy-on-write instead of loading their program again.
//
// A snapshot owns its frames through a page table of its own that no CPU ever loads: taking
// one moves every page the task owns in its part of memory (below the kernel-managed windows,
// and its stack above them) into that table, and leaves the task mapping the same frames
// read-only and marked PTECOW. Restoring one gives a fresh space the same regions and copies
// of the snapshot's leaf tables with every entry made read-only and PTECOW. A write to such a
// page (the task's, or the kernel's on its behalf through UserPage) copies it into a frame of
// the writer's own first; nothing ever writes a snapshot's frame after it was taken. So no two
// instances share writable memory, and a snapshot stays exactly as it was taken.
//
// A snapshot lives while the supervisor keeps it or any space maps its frames (users): Drop
// and the end of its last user free it. Its frames are charged to its own Share, moved from
// the task's when it was taken.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/x86"
)

// PTECOW marks a read-only mapping of a snapshot's frame: a write copies the page first.
const PTECOW = 1 << 10

// MaxSnapshots bounds the snapshots kept at once: one per module at most.
const MaxSnapshots = 16

// The lower-half PML4 slots a snapshot covers: everything a task maps itself, and not the
// kernel-managed windows (device memory, DMA memory and page grants are never a snapshot's).
const (
	snapWindowsLo = MMIOWindow >> 39 // first PML4 slot of the windows
	snapWindowsHi = WindowsEnd >> 39 // first slot after them
)

type snapshot struct {
	used    bool
	dropped bool // the supervisor let it go: freed when its last user ends
	gen     uint32
	users   int32 // address spaces that map its frames
	root    PageTable
	user    bool
	vmas    [MaxRegions]Region
	n       int
	pages   uint64 // user pages it holds
	mem     Share
	// leaves are the instances' leaf tables, made once: a restore allocates each and copies
	// it whole (nLeaves < 0: too many to keep, the entries are converted one by one).
	leaves  [maxLeaves]leaf
	nLeaves int
}

// leaf is one 2 MiB region's leaf table as an instance starts with it: the snapshot's entries
// made read-only and PTECOW.
type leaf struct {
	va   uintptr
	tmpl uint64 // the table's frame
}

// maxLeaves bounds the template leaf tables a snapshot keeps (a Go module uses 10 to 30).
const maxLeaves = 128

var snapshots [MaxSnapshots]snapshot

// SnapID names a snapshot: its slot and generation (0: none).
type SnapID uint64

//go:nosplit
func (id SnapID) slot() (*snapshot, bool) {
	if id == 0 {
		return nil, false
	}
	s := &snapshots[(id&0xffff-1)&(MaxSnapshots-1)]
	return s, s.used && uint64(s.gen) == uint64(id)>>16
}

// SnapshotSlotFree reports whether snapshot slot i holds nothing (a dropped snapshot some
// space still maps holds its slot).
//
//go:nosplit
func SnapshotSlotFree(i int) bool { return !snapshots[i&(MaxSnapshots-1)].used }

// Slot is the snapshot's slot.
//
//go:nosplit
func (id SnapID) Slot() int { return int(id&0xffff-1) & (MaxSnapshots - 1) }

// Valid reports whether the snapshot exists and may still be restored.
//
//go:nosplit
func (id SnapID) Valid() bool {
	s, ok := id.slot()
	return ok && !s.dropped
}

// Pages is how many user pages the snapshot holds.
//
//go:nosplit
func (id SnapID) Pages() uint64 {
	if s, ok := id.slot(); ok {
		return s.pages
	}
	return 0
}

// Frames is how many frames the snapshot holds: its pages and its page tables.
//
//go:nosplit
func (id SnapID) Frames() int64 {
	if s, ok := id.slot(); ok {
		return s.mem.held
	}
	return 0
}

// Why TakeSnapshot refused.
const (
	SnapOK       = iota
	SnapNoSlot   // every snapshot slot is taken
	SnapNoMemory // no frame for its page tables
	SnapForeign  // the space maps a page it does not own (a device's, a loan's, a snapshot's)
	SnapRegions  // a region in the kernel-managed windows, other than an ended grant's
	SnapLent     // some of its pages are lent to a server right now (a writable loan would write the snapshot)
)

// TakeSnapshot freezes as's memory into a new snapshot in slot (free: SnapshotSlotFree) and
// leaves as mapping it copy-on-write. limit bounds the frames the snapshot may be charged (the task's quota). Nothing changes when
// it refuses (why says what stopped it). The caller holds interrupts off; as may be the space
// running.
//
//go:nosplit
func TakeSnapshot(as *AddressSpace, slot int, limit int64) (SnapID, int) {
	if as.id == CoreSpace || as.snap != 0 {
		return 0, SnapForeign
	}
	if as.lent != 0 {
		return 0, SnapLent
	}
	if slot < 0 || slot >= MaxSnapshots || snapshots[slot].used {
		return 0, SnapNoSlot
	}
	free := slot
	pages, why := snapshotable(as)
	if why != SnapOK {
		return 0, why
	}
	endPinsOf(as) // its pages are about to be copy-on-write: the kernel must not write them behind its back
	s := &snapshots[free&(MaxSnapshots-1)]
	gen := s.gen + 1
	*s = snapshot{gen: gen, user: as.user}
	s.mem = Share{limit: limit}
	root, ok := AllocFrameFor(&s.mem)
	if !ok {
		return 0, SnapNoMemory
	}
	s.root = PageTable(root)
	// Tables first (they may fail), then the pages move: a failure leaves as untouched.
	if !s.buildTables(as) || s.mem.held+pages > limit {
		s.free()
		return 0, SnapNoMemory
	}
	for i := 0; i < as.n; i++ {
		if v := as.At(i); v.End <= MMIOWindow || v.Start >= WindowsEnd {
			s.vmas[s.n&(MaxRegions-1)] = *v
			s.n++
		}
	}
	s.move(as)
	s.makeLeaves()
	s.used = true
	s.users = 1
	id := SnapID(uint64(gen)<<16 | uint64(free+1))
	as.snap = id
	as.flushAll()
	return id, SnapOK
}

// snapshotable checks that as's part of memory holds only its own pages, and its windows
// nothing but empty regions; it counts the pages.
//
//go:nosplit
func snapshotable(as *AddressSpace) (int64, int) {
	for i := 0; i < as.n; i++ {
		if v := as.At(i); v.Start < WindowsEnd && MMIOWindow < v.End {
			return 0, SnapRegions
		}
	}
	var pages int64
	for va, e, ok := as.root.nextPresent(0); ok; va, e, ok = as.root.nextPresent(va + PageSize) {
		if arch.Load64(e)&PTEOwned == 0 {
			return 0, SnapForeign
		}
		pages++
	}
	return pages, SnapOK
}

// nextPresent returns the first page at or above va, in the part of memory a snapshot covers
// (below the windows, and above them to the end of the lower half), that pt maps, and the
// kernel address of its entry. Absent tables are skipped whole.
//
//go:nosplit
func (pt PageTable) nextPresent(va uintptr) (uintptr, uintptr, bool) {
	for va < UserTop {
		if va >= MMIOWindow && va < WindowsEnd {
			va = WindowsEnd
		}
		e, ok := pt.Walk(va, false, nil)
		if !ok {
			next := pt.NextTable(va)
			if next <= va {
				return 0, 0, false
			}
			va = next
			continue
		}
		if arch.Load64(e)&PTEPresent != 0 {
			return va, e, true
		}
		va += PageSize
	}
	return 0, 0, false
}

// buildTables gives the snapshot's own table every intermediate table as's present pages need.
//
//go:nosplit
func (s *snapshot) buildTables(as *AddressSpace) bool {
	last := ^uintptr(0)
	for va, _, ok := as.root.nextPresent(0); ok; va, _, ok = as.root.nextPresent(va + PageSize) {
		if va>>21 == last {
			continue
		}
		last = va >> 21
		if _, made := s.root.Walk(va, true, &s.mem); !made {
			return false
		}
	}
	return true
}

// move takes every page of as into the snapshot: the snapshot's table owns the frame, as maps
// it read-only and copy-on-write, and the frame's charge moves from as's share to the
// snapshot's.
//
//go:nosplit
func (s *snapshot) move(as *AddressSpace) {
	for va, e, ok := as.root.nextPresent(0); ok; va, e, ok = as.root.nextPresent(va + PageSize) {
		v := arch.Load64(e)
		se, _ := s.root.Walk(va, false, nil) // buildTables made it
		arch.Store64(se, v)
		arch.Store64(e, v&^(PTEWrite|PTEOwned)|PTECOW)
		FramePool.Move(&as.mem, &s.mem)
		as.resident--
		s.pages++
	}
}

// makeLeaves makes the template leaf tables: each of the snapshot's leaf tables with its
// entries made read-only and PTECOW. Without a frame for one, or with too many, there are none.
//
//go:nosplit
func (s *snapshot) makeLeaves() {
	for va, e, ok := s.root.nextPresent(0); ok; va, e, ok = s.root.nextPresent(va + PageSize) {
		f, got := uint64(0), s.nLeaves < maxLeaves
		if got {
			f, got = AllocFrameFor(&s.mem)
		}
		if !got {
			s.dropLeaves()
			s.nLeaves = -1
			return
		}
		cowLeaf(DirectMap(f), e&^(PageSize-1))
		va &^= 1<<21 - 1
		s.leaves[s.nLeaves&(maxLeaves-1)] = leaf{va: va, tmpl: f}
		s.nLeaves++
		va |= 1<<21 - PageSize // on to the next leaf table
	}
}

// dropLeaves frees the template leaf tables.
//
//go:nosplit
func (s *snapshot) dropLeaves() {
	for i := 0; i < s.nLeaves; i++ {
		FreeFrameFor(&s.mem, s.leaves[i&(maxLeaves-1)].tmpl)
	}
	s.nLeaves = 0
}

// RestoreSnapshot gives as, a fresh space, the snapshot's regions and pages, copy-on-write.
// ok=false when the snapshot is gone or as cannot have the page tables (as then holds what
// it got, which its Destroy frees).
//
//go:nosplit
func RestoreSnapshot(id SnapID, as *AddressSpace) bool {
	s, ok := id.slot()
	if !ok || s.dropped || as.snap != 0 || as.n != 0 {
		return false
	}
	as.snap = id
	s.users++
	for i := 0; i < s.n; i++ {
		*as.At(i) = s.vmas[i&(MaxRegions-1)]
	}
	as.n = s.n
	if s.nLeaves >= 0 {
		// Each leaf table is a copy of its template: one table per 2 MiB.
		for i := 0; i < s.nLeaves; i++ {
			l := &s.leaves[i&(maxLeaves-1)]
			d, made := as.root.Walk(l.va, true, as.src())
			if !made {
				return false
			}
			arch.Memmove(d&^(PageSize-1), DirectMap(l.tmpl), PageSize)
		}
		return true
	}
	// Leaf tables are copied whole, entries made copy-on-write: one table per 2 MiB.
	for va, e, ok := s.root.nextPresent(0); ok; va, e, ok = s.root.nextPresent(va + PageSize) {
		d, made := as.root.Walk(va, true, as.src())
		if !made {
			return false
		}
		cowLeaf(d&^(PageSize-1), e&^(PageSize-1))
		va |= 1<<21 - PageSize // on to the next leaf table
	}
	return true
}

// cowLeaf fills the empty leaf table dst with the present entries of leaf table src made
// read-only and PTECOW: what an instance of a snapshot maps.
//
//go:nosplit
func cowLeaf(dst, src uintptr) {
	for l := uintptr(0); l < 512; l++ {
		if v := arch.Load64(src + l*8); v&PTEPresent != 0 {
			arch.Store64(dst+l*8, v&^(PTEWrite|PTEOwned)|PTECOW)
		}
	}
}

// DropSnapshot lets the snapshot go: no space is restored from it again, and it is freed once
// no space maps its frames.
//
//go:nosplit
func DropSnapshot(id SnapID) {
	if s, ok := id.slot(); ok && !s.dropped {
		s.dropped = true
		if s.users == 0 {
			s.free()
		}
	}
}

// leave ends as's use of its snapshot, as it is destroyed.
//
//go:nosplit
func (as *AddressSpace) leaveSnapshot() {
	s, ok := as.snap.slot()
	as.snap = 0
	if !ok {
		return
	}
	s.users--
	if s.users == 0 && s.dropped {
		s.free()
	}
}

// free gives back the snapshot's frames and tables.
//
//go:nosplit
func (s *snapshot) free() {
	s.dropLeaves()
	if s.root != 0 {
		s.root.FreeSlots(0, 256, &s.mem)
		FreeFrameFor(&s.mem, uint64(s.root))
	}
	if s.mem.held != 0 {
		arch.Panic("a snapshot was freed while it still held frames:", uint64(s.mem.held))
	}
	gen := s.gen
	*s = snapshot{gen: gen}
}

// copyOnWrite gives as a private copy of the snapshot page mapped at page (entry e, value v)
// with the protection of its region. ok=false when as may not have another frame (why says).
//
//go:nosplit
func (as *AddressSpace) copyOnWrite(page, e uintptr, v uint64, prot uint32) int {
	f, ok := AllocFrameFor(as.src())
	if !ok {
		return as.outOfMemory()
	}
	arch.Memmove(DirectMap(f), DirectMap(v&PTEAddrMask), PageSize)
	arch.Store64(e, f|as.PTEFlags(prot)|PTEOwned)
	as.root.flush(page)
	as.resident++
	return FaultHandled
}

// flushAll drops every TLB entry of as's part of memory: at once if as is the space loaded,
// at its next load otherwise (pcid.go).
//
//go:nosplit
func (as *AddressSpace) flushAll() {
	as.root.forgetTLB()
	if hosted {
		return
	}
	if cr3 := x86.CR3(); cr3&PTEAddrMask == uint64(as.root) {
		x86.SetCR3(cr3)
	}
}

// PrivatePage is UserPage for a change the task's own protection does not stop (a bit flip a
// fault campaign injects into its code): the page is readable, and a snapshot's page is first
// copied into one of as's own with its region's protection, so the change is this space's
// alone.
//
//go:nosplit
func (as *AddressSpace) PrivatePage(va uintptr) (uintptr, bool) {
	k, ok := as.UserPage(va, false)
	if !ok {
		return 0, false
	}
	e, ok := as.root.Walk(PageDown(va), false, nil)
	if !ok {
		return 0, false
	}
	if v := arch.Load64(e); v&PTECOW != 0 {
		if as.copyOnWrite(PageDown(va), e, v, as.At(as.Find(va)).Prot) != FaultHandled {
			return 0, false
		}
		return as.UserPage(va, false)
	}
	return k, true
}

// PageEntry is one page of a space as Pages reports it: its address and page-table entry.
type PageEntry struct {
	VA  uintptr
	PTE uint64
}

// Pages fills buf with the pages as maps in its own part of memory (not the kernel-managed
// windows), in address order, and returns how many it found (those past len(buf) are
// counted, not stored). For checks and tests.
//
//go:nosplit
func (as *AddressSpace) Pages(buf []PageEntry) int {
	return as.root.pages(buf)
}

// SnapshotPages is Pages for the snapshot's own table: the frames it holds.
//
//go:nosplit
func SnapshotPages(id SnapID, buf []PageEntry) int {
	s, ok := id.slot()
	if !ok {
		return 0
	}
	return s.root.pages(buf)
}

//go:nosplit
func (pt PageTable) pages(buf []PageEntry) int {
	n := 0
	for va, e, ok := pt.nextPresent(0); ok; va, e, ok = pt.nextPresent(va + PageSize) {
		if n < len(buf) {
			buf[n] = PageEntry{VA: va, PTE: arch.Load64(e)}
		}
		n++
	}
	return n
}
