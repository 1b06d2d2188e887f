package mm

// Address spaces on the host (UseHostMemory): page tables, demand paging, checked user-memory
// access, device memory and loans, on a 64 MiB slice that stands in for physical memory.

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostRAM is the tests' physical memory: kept alive for the whole run, since page tables hold
// frame numbers the collector does not see.
var hostRAM = make([]byte, 64<<20)

// freshMachine starts every test from the same state: all frames free, no space but the core's.
func freshMachine(t *testing.T) {
	t.Helper()
	UseHostMemory(hostRAM)
	require.Equal(t, uint64(64<<20-1<<20)/PageSize, Frames().Total)
}

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// space builds task space i for ring 3 with a limit of limit frames, half of them reserved.
func space(t *testing.T, i int32, limit uint64) *AddressSpace {
	t.Helper()
	as, ok := NewSpace(i, 3, limit/2, limit)
	require.True(t, ok)
	return as
}

const data = 0x40_0000 // a user address for the tests' regions

func TestDemandPagingAndCheckedCopies(t *testing.T) {
	freshMachine(t)
	before := Frames().Free
	as := space(t, 1, 256)
	require.True(t, as.AddRegion(data, data+16*PageSize, ProtRead|ProtWrite, KindAnon))
	assert.Zero(t, as.Resident(), "nothing is backed before it is touched")

	msg := bytes.Repeat([]byte("containment "), 1000) // 12,000 bytes across four pages
	require.True(t, as.CopyOut(data+100, addr(msg), uintptr(len(msg))))
	assert.Equal(t, uint64(3), as.Resident(), "the pages written are faulted in, and only they")
	back := make([]byte, len(msg))
	require.True(t, as.CopyIn(addr(back), data+100, uintptr(len(back))))
	assert.Equal(t, msg, back)
	v, ok := as.Read64(data + 15*PageSize)
	assert.True(t, ok)
	assert.Zero(t, v, "demand-zero memory reads as zero")

	require.True(t, as.ZeroOut(data+100, 8))
	w, _ := as.Read64(data + 100)
	assert.Zero(t, w)

	as.Destroy()
	assert.Equal(t, before, Frames().Free, "every frame comes back: pages, page tables, entry area")
}

func TestBadUserAddressesGetAnErrorNeverAFault(t *testing.T) {
	freshMachine(t)
	as := space(t, 1, 256)
	require.True(t, as.AddRegion(data, data+PageSize, ProtRead, KindAnon))
	require.True(t, as.AddRegion(data+2*PageSize, data+3*PageSize, 0, KindAnon))
	var buf [64]byte
	k := addr(buf[:])
	cases := []struct {
		name string
		ok   bool
	}{
		{"unmapped", as.CopyIn(k, data+PageSize, 8)},
		{"page zero", as.CopyIn(k, 8, 8)},
		{"the direct map", as.CopyIn(k, DirectMapBase, 8)},
		{"the last page below UserTop", as.CopyIn(k, UserTop-8, 8)},
		{"a range that wraps", as.CopyIn(k, ^uintptr(0)-8, 64)},
		{"a range running off its region", as.CopyIn(k, data+PageSize-8, 16)},
		{"a write to read-only memory", as.CopyOut(data, k, 8)},
		{"a read of PROT_NONE memory", as.CopyIn(k, data+2*PageSize, 8)},
	}
	for _, c := range cases {
		assert.False(t, c.ok, c.name)
	}
	ok := as.CopyIn(k, data, 8)
	assert.True(t, ok, "a read of read-only memory is fine")
	assert.Equal(t, FaultAccErr, as.Fault(data, true, false))
	assert.Equal(t, FaultMapErr, as.Fault(data+PageSize, false, false))
	assert.Equal(t, FaultAccErr, as.Fault(data, false, true), "not executable")
}

func TestQuotaStopsATaskNotTheCore(t *testing.T) {
	freshMachine(t)
	as := space(t, 1, 40) // the entry area and page tables take some of the 40
	require.True(t, as.AddRegion(data, data+64*PageSize, ProtRead|ProtWrite, KindAnon))
	got := FaultHandled
	n := 0
	for ; got == FaultHandled && n < 64; n++ {
		got = as.Fault(data+uintptr(n)*PageSize, true, false)
	}
	assert.Equal(t, FaultQuota, got)
	assert.Equal(t, int64(40), as.Mem().Held(), "the task holds exactly its limit")
	_, ok := AllocFrame()
	assert.True(t, ok, "the core still gets frames")

	// Unmapping gives the frames back to the task's share.
	held := as.Mem().Held()
	as.UnmapRange(data, data+4*PageSize)
	assert.Equal(t, held-4, as.Mem().Held())
	assert.Equal(t, FaultHandled, as.Fault(data, true, false))
}

func TestDeviceMemoryIsNeverASystemCallBuffer(t *testing.T) {
	freshMachine(t)
	as := space(t, 1, 256)
	dev := uint64(0xfebf_0000) // beyond the direct map: registers, as a PCI BAR is
	require.True(t, as.MapDevice(MMIOWindow, dev, 2*PageSize))
	var buf [8]byte
	assert.False(t, as.CopyIn(addr(buf[:]), MMIOWindow, 8))
	assert.False(t, as.CopyOut(MMIOWindow+PageSize, addr(buf[:]), 8))
	_, ok := as.UserPage(MMIOWindow, false)
	assert.False(t, ok)
	assert.Equal(t, dev|PTEPresent, as.root.Lookup(MMIOWindow)&(PTEAddrMask|PTEPresent))

	// RAM mapped as a device (a driver given a frame as its "registers") is refused too.
	ram, ok := AllocFrame()
	require.True(t, ok)
	require.True(t, as.MapDevice(MMIOWindow+4*PageSize, ram, PageSize))
	assert.False(t, as.CopyIn(addr(buf[:]), MMIOWindow+4*PageSize, 8))

	as.Destroy()
	assert.False(t, frameFree(ram), "device pages are not the space's: destroying it frees none")
}

func frameFree(pa uint64) bool {
	f := pa >> PageShift
	return frameBitmap[f/64]&(1<<(f%64)) != 0
}

func TestLoansAreReadOnlyAndEndBeforeTheLenderLetsGo(t *testing.T) {
	freshMachine(t)
	before := Frames().Free
	lender, server := space(t, 1, 256), space(t, 2, 256)
	require.True(t, lender.AddRegion(data, data+8*PageSize, ProtRead|ProtWrite, KindAnon))
	msg := []byte("lent for one call")
	require.True(t, lender.CopyOut(data+PageSize, addr(msg), uintptr(len(msg))))

	l, ok := Lend(lender, server, data, 2, GrantWindow, false)
	require.True(t, ok)
	assert.True(t, l.Active())
	got := make([]byte, len(msg))
	require.True(t, server.CopyIn(addr(got), GrantWindow+PageSize, uintptr(len(got))))
	assert.Equal(t, msg, got, "the server reads the lender's frame")
	assert.False(t, server.CopyOut(GrantWindow, addr(msg), 1), "and cannot write it")
	assert.Zero(t, server.root.Lookup(GrantWindow)&PTEWrite)
	assert.False(t, server.Changeable(GrantWindow, GrantWindow+PageSize), "nor unmap, remap or protect it")

	// The lender unmaps a lent page: the loan ends first, and the server's window is gone.
	lender.UnmapRange(data+PageSize, data+2*PageSize)
	assert.False(t, l.Active())
	assert.False(t, server.CopyIn(addr(got), GrantWindow+PageSize, 1))
	assert.Zero(t, server.root.Lookup(GrantWindow+PageSize)&PTEPresent)
	assert.Equal(t, -1, server.Find(GrantWindow))
	l.End() // an ended loan is inert
	assert.False(t, l.Active())

	// A new loan in the same slot is a new name: the old one stays dead.
	l2, ok := Lend(lender, server, data, 1, GrantWindow, false)
	require.True(t, ok)
	assert.False(t, l.Active())
	l.End()
	assert.True(t, l2.Active(), "ending a stale name ends nothing")

	// The lender ends: its loans end with it, and the server keeps no mapping of its frames.
	lender.Destroy()
	assert.False(t, l2.Active())
	assert.Zero(t, server.root.Lookup(GrantWindow)&PTEPresent)
	server.Destroy()
	assert.Equal(t, before, Frames().Free, "no frame lost, none freed twice")
}

func TestLendRefusesWhatIsNotTheLendersMemory(t *testing.T) {
	freshMachine(t)
	lender, server, third := space(t, 1, 256), space(t, 2, 256), space(t, 3, 256)
	require.True(t, lender.AddRegion(data, data+4*PageSize, ProtRead|ProtWrite, KindAnon))
	require.True(t, lender.AddRegion(data+8*PageSize, data+9*PageSize, 0, KindAnon))
	require.True(t, lender.MapDevice(MMIOWindow, 0xfebf_0000, PageSize))

	refused := []struct {
		name         string
		va, pages, w uintptr
	}{
		{"no pages", data, 0, GrantWindow},
		{"too many pages", data, MaxLoanPages + 1, GrantWindow},
		{"an unaligned address", data + 1, 1, GrantWindow},
		{"unmapped memory", data + 4*PageSize, 1, GrantWindow},
		{"a range running off its region", data + 3*PageSize, 2, GrantWindow},
		{"PROT_NONE memory", data + 8*PageSize, 1, GrantWindow},
		{"device memory", MMIOWindow, 1, GrantWindow},
		{"the kernel", DirectMapBase, 1, GrantWindow},
	}
	for _, c := range refused {
		_, ok := Lend(lender, server, c.va, c.pages, c.w, false)
		assert.False(t, ok, c.name)
		assert.Equal(t, -1, server.Find(GrantWindow), "%s: nothing left mapped", c.name)
		assert.Zero(t, server.root.Lookup(GrantWindow)&PTEPresent, c.name)
	}

	// A borrower cannot lend on what it was lent: the loan could outlive its lender.
	_, ok := Lend(lender, server, data, 1, GrantWindow, false)
	require.True(t, ok)
	_, ok = Lend(server, third, GrantWindow, 1, GrantWindow, false)
	assert.False(t, ok)
}

func TestWritableLoansNeedWritablePagesAndEndWhenTheLenderProtectsThem(t *testing.T) {
	freshMachine(t)
	before := Frames().Free
	lender, server := space(t, 1, 256), space(t, 2, 256)
	require.True(t, lender.AddRegion(data, data+4*PageSize, ProtRead|ProtWrite, KindAnon))
	require.True(t, lender.AddRegion(data+8*PageSize, data+9*PageSize, ProtRead, KindAnon))

	_, ok := Lend(lender, server, data+8*PageSize, 1, GrantWindow, true)
	assert.False(t, ok, "read-only pages are never lent writable")
	assert.Equal(t, -1, server.Find(GrantWindow))

	l, ok := Lend(lender, server, data, 2, GrantWindow, true)
	require.True(t, ok)
	msg := []byte("written by the server")
	require.True(t, server.CopyOut(GrantWindow+PageSize, addr(msg), uintptr(len(msg))), "the server writes the loan")
	got := make([]byte, len(msg))
	require.True(t, lender.CopyIn(addr(got), data+PageSize, uintptr(len(got))))
	assert.Equal(t, msg, got, "into the lender's own frame")
	assert.False(t, server.Changeable(GrantWindow, GrantWindow+PageSize), "but cannot unmap, remap or protect it")

	// The lender makes its pages read-only: the writable loan ends first.
	lender.ProtectRange(data, data+PageSize, ProtRead)
	assert.False(t, l.Active())
	assert.False(t, server.CopyOut(GrantWindow, addr(msg), 1))
	lender.Destroy()
	server.Destroy()
	assert.Equal(t, before, Frames().Free, "no frame lost, none freed twice")
}

func TestAllocRunForIsPhysicallyConsecutive(t *testing.T) {
	freshMachine(t)
	before := Frames().Free
	// Break up low memory: every other frame of the first 64 taken.
	var singles []uint64
	for range 128 {
		f, ok := AllocFrame()
		require.True(t, ok)
		singles = append(singles, f)
	}
	for i := 0; i < len(singles); i += 2 {
		FreeFrame(singles[i])
	}
	var s Share
	require.True(t, FramePool.Admit(&s, 16, 16))
	pa, ok := AllocRunFor(&s, 16)
	require.True(t, ok)
	assert.NotZero(t, pa)
	for i := uint64(0); i < 16; i++ {
		f := (pa >> PageShift) + i
		assert.Zero(t, frameBitmap[f/64]&(1<<(f%64)), "frame %d of the run is taken", i)
		assert.Equal(t, make([]byte, 64), unsafe.Slice((*byte)(unsafe.Pointer(DirectMap(pa+i*PageSize))), 64), "zeroed")
	}
	_, ok = AllocRunFor(&s, 1)
	assert.False(t, ok, "over the share's limit: nothing taken")
	assert.Equal(t, int64(16), s.held)
	_, ok = AllocRunFor(nil, int(Frames().Total))
	assert.False(t, ok, "no run that long")
	_, ok = AllocRunFor(&s, 0)
	assert.False(t, ok)
	for i := uint64(0); i < 16; i++ {
		FreeFrameFor(&s, pa+i*PageSize)
	}
	FramePool.Release(&s)
	for i := 1; i < len(singles); i += 2 {
		FreeFrame(singles[i])
	}
	assert.Equal(t, before, Frames().Free, "every frame back")
}
