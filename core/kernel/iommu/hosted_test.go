package iommu

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// hostRAM is the tests' physical memory, kept alive: tables hold frame numbers the collector
// does not see.
var hostRAM = make([]byte, 32<<20)

const disk = 3 << 3 // 00:03.0

func fresh(t *testing.T, levels int) {
	t.Helper()
	mm.UseHostMemory(hostRAM)
	UseHostUnit(levels)
}

// reach walks the tables as the unit does, from the context entry of source: the frame an
// IOVA reaches and whether it is writable, or ok=false if the device reaches nothing there.
func reach(source uint16, iova uint64) (frame uint64, write, ok bool) {
	ctx, present := contextEntry(source, false)
	if !present || arch.Load64(ctx)&1 == 0 {
		return 0, false, false
	}
	table := arch.Load64(ctx) & slAddr
	levels := int(arch.Load64(ctx+8)&7) + 2
	for l := levels - 1; l >= 0; l-- {
		e := arch.Load64(mm.DirectMap(table) + uintptr(iova>>(12+9*uint(l))&511)*8)
		if e&(slRead|slWrite) == 0 {
			return 0, false, false
		}
		if l == 0 {
			return e & slAddr, e&slWrite != 0, true
		}
		table = e & slAddr
	}
	return 0, false, false
}

func TestADeviceReachesOnlyItsDomainsPages(t *testing.T) {
	for _, levels := range []int{3, 4} {
		fresh(t, levels)
		_, _, ok := reach(disk, IOVABase)
		assert.False(t, ok, "no domain: the device reaches nothing")

		d, ok := Attach(disk, 8)
		require.True(t, ok)
		before := mm.Frames().Free + 1 // the domain's top table; the bus's context table stays
		_, dup := Attach(disk, 8)
		assert.False(t, dup, "one domain per device")
		ctx, _ := contextEntry(disk, false)
		assert.Equal(t, uint64(d.did)<<8|uint64(levels-2), arch.Load64(ctx+8), "domain id and address width")

		iova, first, ok := d.Alloc(3, nil, 0)
		require.True(t, ok)
		assert.Equal(t, uint64(IOVABase), iova)
		assert.Equal(t, 0, first)
		for i := uint64(0); i < 3; i++ {
			f, w, ok := reach(disk, iova+i*mm.PageSize)
			require.True(t, ok)
			assert.True(t, w)
			got, _ := d.Lookup(iova + i*mm.PageSize)
			assert.Equal(t, f, got)
		}
		_, _, ok = reach(disk, iova+3*mm.PageSize)
		assert.False(t, ok, "past its allocation")
		_, _, ok = reach(disk, 0x1000)
		assert.False(t, ok, "IOVA 0-1MiB is never mapped")
		_, _, ok = reach(disk+1, iova)
		assert.False(t, ok, "another function of the slot has no domain")

		flushes := Flushes()
		require.True(t, d.Free(1, 1, nil, 0))
		assert.Greater(t, Flushes(), flushes, "an unmap is followed by an IOTLB flush")
		_, _, ok = reach(disk, iova+mm.PageSize)
		assert.False(t, ok, "a freed page is gone from the domain")
		assert.False(t, d.Free(1, 1, nil, 0), "and cannot be freed twice")

		d.Detach()
		_, _, ok = reach(disk, iova)
		assert.False(t, ok)
		assert.Nil(t, ForSource(disk))
		assert.Equal(t, before, mm.Frames().Free, "every frame back: DMA pages and tables")
	}
}

func TestFreedAddressesAreNotHandedOutAgainAtOnce(t *testing.T) {
	fresh(t, 3)
	d, ok := Attach(disk, 16)
	require.True(t, ok)
	a, first, ok := d.Alloc(2, nil, 0)
	require.True(t, ok)
	require.True(t, d.Free(first, 2, nil, 0))
	b, _, ok := d.Alloc(2, nil, 0)
	require.True(t, ok)
	assert.NotEqual(t, a, b, "a stale IOVA reaches nothing for a while, instead of the next buffer")
	_, _, ok = reach(disk, a)
	assert.False(t, ok)
}

func TestQuotaIsPromisedAndEnforced(t *testing.T) {
	fresh(t, 3)
	d, ok := Attach(disk, 4)
	require.True(t, ok)
	_, _, ok = d.Alloc(5, nil, 0)
	assert.False(t, ok, "beyond the quota")
	_, _, ok = d.Alloc(4, nil, 0)
	assert.True(t, ok)
	_, _, ok = d.Alloc(1, nil, 0)
	assert.False(t, ok)
	d.Detach()

	// A quota the frame pool cannot promise is refused at attach, not at the first DMA.
	_, ok = Attach(disk, MaxDMAPages+1)
	assert.False(t, ok)
	_, ok = Attach(disk, int(mm.FramePool.Headroom())+1)
	assert.False(t, ok)
	assert.Nil(t, ForSource(disk))
}

func TestAllocationsIntoAnAddressSpace(t *testing.T) {
	fresh(t, 3)
	as, ok := mm.NewSpace(1, 1, 16, 64)
	require.True(t, ok)
	d, ok := Attach(disk, 8)
	require.True(t, ok)
	iova, first, ok := d.Alloc(2, as, mm.DMAWindow)
	require.True(t, ok)
	va := mm.DMAWindow + uintptr(first)*mm.PageSize
	f, _ := d.Lookup(iova + mm.PageSize)
	assert.Equal(t, f, as.Root().Lookup(va+mm.PageSize)&mm.PTEAddrMask, "the driver and the device see the same frame")
	assert.Zero(t, as.Root().Lookup(va)&mm.PTEOwned, "the frames are the domain's, not the space's")
	require.True(t, d.Free(first, 2, as, mm.DMAWindow))
	assert.Zero(t, as.Root().Lookup(va)&mm.PTEPresent)
	d.Detach()
	as.Destroy()
}

func TestNoPointerInTheTables(t *testing.T) {
	// The domain table lives in a global the trap path writes: it must hold no Go pointer.
	assert.Equal(t, uintptr(0), unsafe.Sizeof(Domain{})%8)
}

// dma=unconfined: no unit, yet drivers get DMA memory, at physical addresses.
func TestIdentityDomainsWithoutAUnit(t *testing.T) {
	mm.UseHostMemory(hostRAM)
	UseHostNoUnit()
	_, ok := Attach(disk, 32)
	assert.False(t, ok, "no unit and no dma=unconfined: no domain, no DMA memory")
	require.True(t, UseIdentity())
	defer UseHostNoUnit()
	before := mm.Frames().Free // after the (empty) root table UseIdentity keeps
	assert.True(t, Identity())
	assert.False(t, Enabled(), "nothing is confined")

	as, ok := mm.NewSpace(1, 1, 16, 64)
	require.True(t, ok)
	d, ok := Attach(disk, 32)
	require.True(t, ok)
	q, qFirst, ok := d.Alloc(2, as, mm.DMAWindow)
	require.True(t, ok)
	iova, first, ok := d.Alloc(16, as, mm.DMAWindow)
	require.True(t, ok)
	assert.Equal(t, qFirst+2, first, "the driver's window is handed out as with a unit")
	for i := 0; i < 16; i++ {
		va := mm.DMAWindow + uintptr(first+i)*mm.PageSize
		assert.Equal(t, iova+uint64(i)*mm.PageSize, as.Root().Lookup(va)&mm.PTEAddrMask,
			"page %d: the IOVA is the physical address, and the pages are consecutive", i)
		f, ok := d.Lookup(IOVABase + uint64(first+i)*mm.PageSize)
		assert.True(t, ok)
		assert.Equal(t, iova+uint64(i)*mm.PageSize, f, "the domain's record of page %d", i)
	}
	assert.NotEqual(t, q, iova)
	_, _, ok = d.Alloc(15, as, mm.DMAWindow)
	assert.False(t, ok, "beyond the quota (32 pages, 18 held)")

	flushes := Flushes()
	require.True(t, d.Free(first, 16, as, mm.DMAWindow))
	assert.Zero(t, as.Root().Lookup(mm.DMAWindow+uintptr(first)*mm.PageSize)&mm.PTEPresent)
	assert.Greater(t, Flushes(), flushes, "counted; no registers are touched")
	d.Detach()
	assert.Nil(t, ForSource(disk))
	as.Destroy()
	assert.Equal(t, before, mm.Frames().Free, "every frame back: the run, the record's tables")

	// A unit that is on is never bypassed.
	fresh(t, 3)
	assert.False(t, UseIdentity())
	assert.False(t, Identity())
}
