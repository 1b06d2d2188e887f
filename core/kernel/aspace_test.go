package kernel

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
		out = append(out, [3]uintptr{as.vmas[i].start, as.vmas[i].end, uintptr(as.vmas[i].prot)})
	}
	return out
}

func TestAddRegionMergesAndSplits(t *testing.T) {
	as := &AddressSpace{}
	require.True(t, as.addRegion(0x10000, 0x20000, protRead|protWrite, vmaAnon))
	require.True(t, as.addRegion(0x20000, 0x30000, protRead|protWrite, vmaAnon))
	assert.Equal(t, [][3]uintptr{{0x10000, 0x30000, 3}}, regions(as), "adjacent equal regions merge")

	require.True(t, as.addRegion(0x18000, 0x19000, protRead, vmaAnon))
	assert.Equal(t, [][3]uintptr{{0x10000, 0x18000, 3}, {0x18000, 0x19000, 1}, {0x19000, 0x30000, 3}}, regions(as))

	require.True(t, as.addRegion(0x18000, 0x19000, protRead|protWrite, vmaAnon))
	assert.Equal(t, [][3]uintptr{{0x10000, 0x30000, 3}}, regions(as), "restoring the protection merges back")

	require.True(t, as.carve(0x11000, 0x2f000))
	assert.Equal(t, [][3]uintptr{{0x10000, 0x11000, 3}, {0x2f000, 0x30000, 3}}, regions(as))
	require.True(t, as.carve(0, 0x100000))
	assert.Empty(t, regions(as))
}

func TestFindAndIsFree(t *testing.T) {
	as := &AddressSpace{}
	for i := uintptr(0); i < 10; i++ {
		require.True(t, as.addRegion(0x100000+i*0x10000, 0x100000+i*0x10000+0x8000, uint32(i%2+1), vmaAnon))
	}
	assert.Equal(t, 10, as.n)
	assert.Equal(t, 3, as.find(0x130000))
	assert.Equal(t, 3, as.find(0x137fff))
	assert.Equal(t, -1, as.find(0x138000))
	assert.Equal(t, -1, as.find(0xfffff))
	assert.True(t, as.isFree(0x138000, 0x140000))
	assert.False(t, as.isFree(0x138000, 0x140001))
}

func TestFindFree(t *testing.T) {
	as := &AddressSpace{}
	// A hint that is free is honoured; one that overlaps is not.
	assert.Equal(t, uintptr(0xc000000000), as.findFree(0x4000000, 0xc000000000))
	require.True(t, as.addRegion(0xc000000000, 0xc004000000, protRead|protWrite, vmaAnon))
	got := as.findFree(0x4000000, 0xc000000000)
	assert.NotEqual(t, uintptr(0xc000000000), got)
	assert.True(t, as.isFree(got, got+0x4000000))
	assert.Equal(t, uintptr(mmapTop-0x4000000), got, "top-down below mmapTop")
	// Top-down allocations stack below each other.
	require.True(t, as.addRegion(got, got+0x4000000, protRead, vmaAnon))
	next := as.findFree(0x1000, 0)
	assert.Equal(t, got-0x1000, next)
	// Hints that wrap or leave the lower half are ignored.
	assert.NotEqual(t, uintptr(0xffff_ffff_ffff_f000), as.findFree(0x2000, 0xffff_ffff_ffff_f000))
}

func TestRegionTableFull(t *testing.T) {
	as := &AddressSpace{}
	for i := uintptr(0); i < maxVMAs; i++ {
		require.True(t, as.addRegion(0x100000+i*0x2000, 0x101000+i*0x2000, protRead, vmaAnon))
	}
	assert.False(t, as.addRegion(0x90000000, 0x90001000, protRead, vmaAnon), "no room: refused, not corrupted")
	assert.Equal(t, maxVMAs, as.n)
	// Splitting a region needs a slot too.
	assert.False(t, as.carve(0x100400, 0x100800))
}

func TestProtOf(t *testing.T) {
	p, ok := protOf(2)
	assert.True(t, ok)
	assert.Equal(t, uint32(protRead|protWrite), p, "write implies read on x86")
	_, ok = protOf(8)
	assert.False(t, ok)
}

func TestTasksChangeOnlyTheirOwnAnonymousMemory(t *testing.T) {
	as := &AddressSpace{}
	require.True(t, as.addRegion(0x100000, 0x200000, protRead|protWrite, vmaAnon))
	require.True(t, as.addRegion(grantWindow, grantWindow+pageSize, protRead, vmaGrant))
	require.True(t, as.addRegion(0x300000, 0x301000, protRead|protWrite, vmaDevice))
	assert.True(t, as.changeable(0x100000, 0x200000))
	assert.True(t, as.changeable(0x400000, 0x500000), "free address space is the task's")
	assert.False(t, as.changeable(0x2ff000, 0x301000), "a device region")
	assert.False(t, as.changeable(grantWindow, grantWindow+pageSize), "a grant")
	assert.False(t, as.changeable(mmioWindow+0x10000, mmioWindow+0x20000), "the kernel-managed windows, mapped or not")
	assert.False(t, as.changeable(windowsEnd-pageSize, windowsEnd+pageSize))
	assert.True(t, as.changeable(windowsEnd, windowsEnd+pageSize))
	assert.False(t, as.changeable(userLimit, userLimit+pageSize), "the last page below 2^47")
	assert.False(t, as.changeable(0, pageSize), "page 0")
	assert.False(t, as.changeable(0x200000, 0x100000), "backwards")
	assert.NotEqual(t, uintptr(grantWindow), as.findFree(pageSize, grantWindow), "a hint in a window is not honoured")
}
