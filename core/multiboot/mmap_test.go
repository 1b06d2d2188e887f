package multiboot

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func regions(i Info) []entry {
	got := []entry{}
	for n := 0; n < i.MemoryMapCount(); n++ {
		base, length, typ, ok := i.MemoryRegion(n)
		if !ok {
			panic("MemoryRegion failed below MemoryMapCount")
		}
		got = append(got, entry{base, length, typ})
	}
	return got
}

func TestQemuMemoryMap(t *testing.T) {
	i := qemuBoot(t).info()
	assert.Equal(t, qemuMap, regions(i))
	_, _, _, ok := i.MemoryRegion(len(qemuMap))
	assert.False(t, ok)
	_, _, _, ok = i.MemoryRegion(-1)
	assert.False(t, ok)
}

func TestMemoryMapBiggerEntrySize(t *testing.T) {
	f := newFakeBoot(t)
	end := f.setMemoryMapSized(qemuMap, 28) // e.g. ACPI 3.0 extended attributes
	f.put32(infoPhys+offMmapLength, uint32(end-mmapPhys))
	assert.Equal(t, qemuMap, regions(f.info()))
}

func TestMalformedMemoryMaps(t *testing.T) {
	full := uint32(len(qemuMap) * 24)
	tests := []struct {
		name   string
		edit   func(f *fakeBoot)
		expect int
	}{
		{"length zero", func(f *fakeBoot) { f.put32(infoPhys+offMmapLength, 0) }, 0},
		{"null address", func(f *fakeBoot) { f.put32(infoPhys+offMmapAddr, 0) }, 0},
		{"first size zero", func(f *fakeBoot) { f.put32(mmapPhys, 0) }, 0},
		{"third size zero", func(f *fakeBoot) { f.put32(mmapPhys+2*24, 0) }, 2},
		{"size too small", func(f *fakeBoot) { f.put32(mmapPhys+24, 19) }, 1},
		{"size huge", func(f *fakeBoot) { f.put32(mmapPhys+24, 0xffffffff) }, 1},
		{"length not a multiple", func(f *fakeBoot) { f.put32(infoPhys+offMmapLength, full+10) }, 6},
		{"last entry truncated", func(f *fakeBoot) { f.put32(infoPhys+offMmapLength, full-1) }, 5},
		{"length cuts a header", func(f *fakeBoot) { f.put32(infoPhys+offMmapLength, 2*24+3) }, 2},
		// Zeroed memory after the map reads as size 0 and ends the walk.
		{"absurd length", func(f *fakeBoot) { f.put32(infoPhys+offMmapLength, 0xffffffff) }, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := qemuBoot(t)
			tc.edit(f)
			i := f.info()
			assert.Equal(t, tc.expect, i.MemoryMapCount())
			assert.Equal(t, qemuMap[:tc.expect], regions(i))
			_, _, _, ok := i.MemoryRegion(tc.expect)
			assert.False(t, ok)
		})
	}
}

func TestMemoryMapCountIsCapped(t *testing.T) {
	f := newFakeBoot(t)
	many := make([]entry, 300)
	for n := range many {
		many[n] = entry{uint64(n) << 20, 1 << 20, RegionAvailable}
	}
	f.setMemoryMap(many)
	i := f.info()
	require.Equal(t, maxRegions, i.MemoryMapCount())
	base, _, _, ok := i.MemoryRegion(maxRegions - 1)
	assert.True(t, ok)
	assert.Equal(t, uint64(maxRegions-1)<<20, base)
	_, _, _, ok = i.MemoryRegion(maxRegions)
	assert.False(t, ok)
}
