package iommu

// Domains: one second-level page table per device a driver owns, and the DMA memory mapped
// in it. The IOVA space of a domain is MaxDMAPages pages from IOVABase; its pages are handed
// out next-fit, so an address just freed is the last to be handed out again (a driver that
// keeps using a freed address reaches nothing, and the IOMMU says so).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

const (
	// MaxDomains bounds the devices that can be owned by drivers at once.
	MaxDomains = 4
	// MaxDMAPages bounds a domain's DMA memory: 16 MiB.
	MaxDMAPages = 4096
	// IOVABase is the first IO virtual address of every domain (never 0: a device told to
	// use address 0 by a zeroed descriptor reaches nothing).
	IOVABase = 1 << 20
)

// Second-level page-table entry bits.
const (
	slRead  = 1 << 0
	slWrite = 1 << 1
	slAddr  = 0x000f_ffff_ffff_f000
)

// Domain is one device's view of memory.
type Domain struct {
	inuse  bool
	did    uint16 // domain id in the context entry and the IOTLB
	source uint16 // the device: bus<<8 | device<<3 | function
	table  uint64 // second-level page table (its top level)
	mem    mm.Share
	inUse  [MaxDMAPages / 64]uint64
	cursor int
	pages  int
}

var domains [MaxDomains]Domain

// Attach gives device source a fresh, empty domain whose DMA memory may reach quotaPages
// pages, promised now from the frame pool. ok=false if no domain, no promise or no table
// can be had, or the device already has one.
//
//go:nosplit
func Attach(source uint16, quotaPages int) (*Domain, bool) {
	if !unit.on && !unit.identity || quotaPages < 0 || quotaPages > MaxDMAPages || ForSource(source) != nil {
		return nil, false
	}
	for i := range domains {
		d := &domains[i]
		if d.inuse {
			continue
		}
		*d = Domain{did: uint16(i + 1), source: source}
		if !mm.FramePool.Admit(&d.mem, int64(quotaPages), int64(quotaPages)) {
			return nil, false
		}
		top, ok := mm.AllocFrame()
		if !ok {
			mm.FramePool.Release(&d.mem)
			return nil, false
		}
		if unit.identity {
			// No unit: the table only records the frames; the device reaches everything.
			d.table, d.inuse = top, true
			return d, true
		}
		ctx, ok := contextEntry(source, true)
		if !ok {
			mm.FreeFrame(top)
			mm.FramePool.Release(&d.mem)
			return nil, false
		}
		d.table, d.inuse = top, true
		arch.Store64(ctx+8, unit.aw|uint64(d.did)<<8)
		arch.Store64(ctx, top|1) // present, translation type 0: untranslated requests only
		invalidateAll()
		return d, true
	}
	return nil, false
}

// ForSource returns the domain of device source, or nil.
//
//go:nosplit
func ForSource(source uint16) *Domain {
	for i := range domains {
		if domains[i].inuse && domains[i].source == source {
			return &domains[i]
		}
	}
	return nil
}

// used reports whether IOVA page i is in use.
//
//go:nosplit
func (d *Domain) used(i int) bool {
	return d.inUse[uint(i)/64%(MaxDMAPages/64)]&(1<<(uint(i)%64)) != 0
}

// Index is the domain's number: At(Index()) is the domain.
//
//go:nosplit
func (d *Domain) Index() int { return int(d.did) - 1 }

// At returns domain i, or nil if it is not in use.
//
//go:nosplit
func At(i int) *Domain {
	if i < 0 || i >= MaxDomains || !domains[i].inuse {
		return nil
	}
	return &domains[i]
}

// Source is the device the domain belongs to.
//
//go:nosplit
func (d *Domain) Source() uint16 { return d.source }

// Pages is how many DMA pages the domain holds.
//
//go:nosplit
func (d *Domain) Pages() int { return d.pages }

// Detach ends the domain: the device's context entry goes (from now on every access of the
// device is blocked), then every DMA page leaves the table and is freed, and the caches are
// flushed before any of those frames can be used again. The caller has stopped the device
// first, and unmapped the pages from the driver's address space.
//
//go:nosplit
func (d *Domain) Detach() {
	if !d.inuse {
		return
	}
	if ctx, ok := contextEntry(d.source, false); ok && !unit.identity {
		arch.Store64(ctx, 0)
		arch.Store64(ctx+8, 0)
	}
	invalidateAll()
	for i := 0; i < MaxDMAPages; i++ {
		if d.used(i) {
			d.unmapPage(i)
		}
	}
	flushDomain(d.did)
	freeTable(d.table, unit.levels)
	mm.FramePool.Release(&d.mem)
	*d = Domain{}
}

// Alloc takes n pages of DMA memory, maps them at consecutive IOVAs of the domain (readable
// and writable by the device) and, through mapTo, at consecutive addresses from base in the
// driver's space (as nil: the core's own use, through the direct map). It returns the first IOVA; ok=false (nothing held) when the domain's quota
// or IOVA space or memory runs out. Without a unit (UseIdentity) the pages are physically
// consecutive and the IOVA is their physical address.
//
//go:nosplit
func (d *Domain) Alloc(n int, as *mm.AddressSpace, base uintptr) (iova uint64, index int, ok bool) {
	if n <= 0 || n > MaxDMAPages-d.pages {
		return 0, 0, false
	}
	first, found := d.findRun(n)
	if !found {
		return 0, 0, false
	}
	var run uint64 // identity: the physical run, frame i-first of it for page i
	if unit.identity {
		if run, ok = mm.AllocRunFor(&d.mem, n); !ok {
			return 0, 0, false
		}
	}
	for i := first; i < first+n; i++ {
		f, ok := run+uint64(i-first)*mm.PageSize, true
		if !unit.identity {
			f, ok = mm.AllocFrameFor(&d.mem)
		}
		if ok && !d.mapPage(i, f) {
			mm.FreeFrameFor(&d.mem, f)
			ok = false
		}
		if ok && as != nil && !as.Root().MapPage(base+uintptr(i)*mm.PageSize, f, mm.PTEWrite|mm.PTENX, as.Mem()) {
			d.unmapPage(i)
			ok = false
		}
		if !ok {
			for j := first; j < i; j++ {
				if as != nil {
					as.UnmapRange(base+uintptr(j)*mm.PageSize, base+uintptr(j+1)*mm.PageSize)
				}
				d.unmapPage(j)
			}
			for j := i + 1; unit.identity && j < first+n; j++ {
				mm.FreeFrameFor(&d.mem, run+uint64(j-first)*mm.PageSize) // never mapped
			}
			flushDomain(d.did)
			return 0, 0, false
		}
	}
	d.cursor = (first + n) % MaxDMAPages
	if unit.caching {
		flushDomain(d.did)
	}
	if unit.identity {
		return run, first, true
	}
	return IOVABase + uint64(first)*mm.PageSize, first, true
}

// Free unmaps n pages from page index first: the driver's mappings (through as, at base)
// first, then the device's, then the IOTLB is flushed and the frames freed. ok=false if any
// page of the range is not the domain's.
//
//go:nosplit
func (d *Domain) Free(first, n int, as *mm.AddressSpace, base uintptr) bool {
	if first < 0 || n <= 0 || first+n > MaxDMAPages {
		return false
	}
	for i := first; i < first+n; i++ {
		if !d.used(i) {
			return false
		}
	}
	if as != nil {
		as.UnmapRange(base+uintptr(first)*mm.PageSize, base+uintptr(first+n)*mm.PageSize)
	}
	for i := first; i < first+n; i++ {
		d.unmapPage(i)
	}
	flushDomain(d.did)
	return true
}

// Index returns the page index of an IOVA of the domain, or -1.
//
//go:nosplit
func Index(iova uint64) int {
	if iova < IOVABase || iova >= IOVABase+MaxDMAPages*mm.PageSize {
		return -1
	}
	return int((iova - IOVABase) / mm.PageSize)
}

// findRun finds n free consecutive IOVA pages, starting the search at the cursor.
//
//go:nosplit
func (d *Domain) findRun(n int) (int, bool) {
	for tries := 0; tries < 2; tries++ {
		run := 0
		for i := d.cursor; i < MaxDMAPages; i++ {
			if d.used(i) {
				run = 0
				continue
			}
			run++
			if run == n {
				return i - n + 1, true
			}
		}
		d.cursor = 0
	}
	return 0, false
}

// mapPage maps IOVA page i to frame f in the domain's table and records it.
//
//go:nosplit
func (d *Domain) mapPage(i int, f uint64) bool {
	e, ok := walk(d.table, IOVABase+uint64(i)*mm.PageSize, true)
	if !ok {
		return false
	}
	arch.Store64(e, f|slRead|slWrite)
	d.inUse[uint(i)/64%(MaxDMAPages/64)] |= 1 << (uint(i) % 64)
	d.pages++
	return true
}

// unmapPage removes IOVA page i from the table and frees its frame. The caller flushes the
// IOTLB before the frame can be reused by anyone who could be hurt: the frame goes back to
// the pool here, but nothing can take it until this trap returns.
//
//go:nosplit
func (d *Domain) unmapPage(i int) {
	e, ok := walk(d.table, IOVABase+uint64(i)*mm.PageSize, false)
	if ok {
		if v := arch.Load64(e); v&(slRead|slWrite) != 0 {
			arch.Store64(e, 0)
			mm.FreeFrameFor(&d.mem, v&slAddr)
		}
	}
	d.inUse[uint(i)/64%(MaxDMAPages/64)] &^= 1 << (uint(i) % 64)
	d.pages--
}

// Lookup returns the frame IOVA iova reaches in the domain (ok=false: none).
//
//go:nosplit
func (d *Domain) Lookup(iova uint64) (uint64, bool) {
	e, ok := walk(d.table, iova, false)
	if !ok {
		return 0, false
	}
	v := arch.Load64(e)
	return v & slAddr, v&(slRead|slWrite) != 0
}
