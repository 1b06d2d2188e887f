package mm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Region bookkeeping is pure and runs on the host; page-table effects are covered by the
// QEMU tests.

func regions(as *AddressSpace) [][3]uintptr {
	var out [][3]uintptr
	for i := 0; i < as.n; i++ {
		out = append(out, [3]uintptr{as.vmas[i].Start, as.vmas[i].End, uintptr(as.vmas[i].Prot)})
	}
	return out
}

func TestAddRegionMergesAndSplits(t *testing.T) {
	as := &AddressSpace{}
	require.True(t, as.AddRegion(0x10000, 0x20000, ProtRead|ProtWrite, KindAnon))
	require.True(t, as.AddRegion(0x20000, 0x30000, ProtRead|ProtWrite, KindAnon))
	assert.Equal(t, [][3]uintptr{{0x10000, 0x30000, 3}}, regions(as), "adjacent equal regions merge")

	require.True(t, as.AddRegion(0x18000, 0x19000, ProtRead, KindAnon))
	assert.Equal(t, [][3]uintptr{{0x10000, 0x18000, 3}, {0x18000, 0x19000, 1}, {0x19000, 0x30000, 3}}, regions(as))

	require.True(t, as.AddRegion(0x18000, 0x19000, ProtRead|ProtWrite, KindAnon))
	assert.Equal(t, [][3]uintptr{{0x10000, 0x30000, 3}}, regions(as), "restoring the protection merges back")

	require.True(t, as.Carve(0x11000, 0x2f000))
	assert.Equal(t, [][3]uintptr{{0x10000, 0x11000, 3}, {0x2f000, 0x30000, 3}}, regions(as))
	require.True(t, as.Carve(0, 0x100000))
	assert.Empty(t, regions(as))
}

func TestFindAndIsFree(t *testing.T) {
	as := &AddressSpace{}
	for i := uintptr(0); i < 10; i++ {
		require.True(t, as.AddRegion(0x100000+i*0x10000, 0x100000+i*0x10000+0x8000, uint32(i%2+1), KindAnon))
	}
	assert.Equal(t, 10, as.n)
	assert.Equal(t, 3, as.Find(0x130000))
	assert.Equal(t, 3, as.Find(0x137fff))
	assert.Equal(t, -1, as.Find(0x138000))
	assert.Equal(t, -1, as.Find(0xfffff))
	assert.True(t, as.IsFree(0x138000, 0x140000))
	assert.False(t, as.IsFree(0x138000, 0x140001))
}

func TestFindFree(t *testing.T) {
	as := &AddressSpace{}
	// A hint that is free is honoured; one that overlaps is not.
	assert.Equal(t, uintptr(0xc000000000), as.FindFree(0x4000000, 0xc000000000))
	require.True(t, as.AddRegion(0xc000000000, 0xc004000000, ProtRead|ProtWrite, KindAnon))
	got := as.FindFree(0x4000000, 0xc000000000)
	assert.NotEqual(t, uintptr(0xc000000000), got)
	assert.True(t, as.IsFree(got, got+0x4000000))
	assert.Equal(t, uintptr(MMapTop-0x4000000), got, "top-down below MMapTop")
	// Top-down allocations stack below each other.
	require.True(t, as.AddRegion(got, got+0x4000000, ProtRead, KindAnon))
	next := as.FindFree(0x1000, 0)
	assert.Equal(t, got-0x1000, next)
	// Hints that wrap or leave the lower half are ignored.
	assert.NotEqual(t, uintptr(0xffff_ffff_ffff_f000), as.FindFree(0x2000, 0xffff_ffff_ffff_f000))
}

func TestRegionTableFull(t *testing.T) {
	as := &AddressSpace{}
	for i := uintptr(0); i < MaxRegions; i++ {
		require.True(t, as.AddRegion(0x100000+i*0x2000, 0x101000+i*0x2000, ProtRead, KindAnon))
	}
	assert.False(t, as.AddRegion(0x90000000, 0x90001000, ProtRead, KindAnon), "no room: refused, not corrupted")
	assert.Equal(t, MaxRegions, as.n)
	// Splitting a region needs a slot too.
	assert.False(t, as.Carve(0x100400, 0x100800))
}

func TestTasksChangeOnlyTheirOwnAnonymousMemory(t *testing.T) {
	as := &AddressSpace{}
	require.True(t, as.AddRegion(0x100000, 0x200000, ProtRead|ProtWrite, KindAnon))
	require.True(t, as.AddRegion(GrantWindow, GrantWindow+PageSize, ProtRead, KindGrant))
	require.True(t, as.AddRegion(0x300000, 0x301000, ProtRead|ProtWrite, KindDevice))
	assert.True(t, as.Changeable(0x100000, 0x200000))
	assert.True(t, as.Changeable(0x400000, 0x500000), "free address space is the task's")
	assert.False(t, as.Changeable(0x2ff000, 0x301000), "a device region")
	assert.False(t, as.Changeable(GrantWindow, GrantWindow+PageSize), "a grant")
	assert.False(t, as.Changeable(MMIOWindow+0x10000, MMIOWindow+0x20000), "the kernel-managed windows, mapped or not")
	assert.False(t, as.Changeable(WindowsEnd-PageSize, WindowsEnd+PageSize))
	assert.True(t, as.Changeable(WindowsEnd, WindowsEnd+PageSize))
	assert.False(t, as.Changeable(UserLimit, UserLimit+PageSize), "the last page below 2^47")
	assert.False(t, as.Changeable(0, PageSize), "page 0")
	assert.False(t, as.Changeable(0x200000, 0x100000), "backwards")
	assert.NotEqual(t, uintptr(GrantWindow), as.FindFree(PageSize, GrantWindow), "a hint in a window is not honoured")
}
