package multiboot

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
)

func usable(t *testing.T, mmap []entry, exclude []Range, outLen int) []Range {
	f := newFakeBoot(t)
	f.setMemoryMap(mmap)
	out := make([]Range, outLen)
	n := f.info().UsableRanges(exclude, out)
	assert.LessOrEqual(t, n, outLen)
	return out[:n]
}

const kernelStart, kernelEnd = 0x100000, 0x3a5000

func TestUsableRangesQemu(t *testing.T) {
	got := usable(t, qemuMap, nil, 8)
	assert.Equal(t, []Range{{0, 0x9f000}, {0x100000, 0x7fe0000}}, got,
		"the reserved EBDA page eats the partial page below it")

	firstMiB := Range{0, 0x100000}
	kernel := Range{kernelStart, kernelEnd}
	info := Range{infoPhys, infoPhys + 88}
	module := Range{0x800000, 0x812345}
	got = usable(t, qemuMap, []Range{firstMiB, kernel, info, module}, 8)
	assert.Equal(t, []Range{{kernelEnd, 0x800000}, {0x813000, 0x7fe0000}}, got)
}

func TestUsableRangesExclusions(t *testing.T) {
	ram := []entry{{0x100000, 0x100000, RegionAvailable}} // [1 MiB, 2 MiB)
	tests := []struct {
		name    string
		exclude []Range
		want    []Range
	}{
		{"none", nil, []Range{{0x100000, 0x200000}}},
		{"split in the middle", []Range{{0x150000, 0x160000}},
			[]Range{{0x100000, 0x150000}, {0x160000, 0x200000}}},
		{"unaligned rounds outward", []Range{{0x150001, 0x15ffff}},
			[]Range{{0x100000, 0x150000}, {0x160000, 0x200000}}},
		{"one byte takes its page", []Range{{0x180fff, 0x181000}},
			[]Range{{0x100000, 0x180000}, {0x181000, 0x200000}}},
		{"covers everything", []Range{{0, 0x300000}}, []Range{}},
		{"exactly the range", []Range{{0x100000, 0x200000}}, []Range{}},
		{"head", []Range{{0x0, 0x120000}}, []Range{{0x120000, 0x200000}}},
		{"tail", []Range{{0x1f0000, 0x400000}}, []Range{{0x100000, 0x1f0000}}},
		{"overlapping exclusions", []Range{{0x150000, 0x170000}, {0x160000, 0x180000}},
			[]Range{{0x100000, 0x150000}, {0x180000, 0x200000}}},
		{"nested exclusions", []Range{{0x150000, 0x190000}, {0x160000, 0x170000}},
			[]Range{{0x100000, 0x150000}, {0x190000, 0x200000}}},
		{"unsorted exclusions", []Range{{0x1c0000, 0x1d0000}, {0x120000, 0x130000}},
			[]Range{{0x100000, 0x120000}, {0x130000, 0x1c0000}, {0x1d0000, 0x200000}}},
		{"touching exclusions", []Range{{0x120000, 0x130000}, {0x130000, 0x140000}},
			[]Range{{0x100000, 0x120000}, {0x140000, 0x200000}}},
		{"empty and inverted ignored", []Range{{0x150000, 0x150000}, {0x170000, 0x160000}},
			[]Range{{0x100000, 0x200000}}},
		{"up to the top of memory", []Range{{0x180000, ^uint64(0)}}, []Range{{0x100000, 0x180000}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, usable(t, ram, tc.exclude, 8))
		})
	}
}

func TestUsableRangesOddMaps(t *testing.T) {
	tests := []struct {
		name string
		mmap []entry
		want []Range
	}{
		{"unsorted", []entry{{0x300000, 0x100000, 1}, {0x100000, 0x100000, 1}},
			[]Range{{0x100000, 0x200000}, {0x300000, 0x400000}}},
		{"overlapping RAM merges", []entry{{0x100000, 0x100000, 1}, {0x180000, 0x100000, 1}},
			[]Range{{0x100000, 0x280000}}},
		{"touching RAM merges", []entry{{0x200000, 0x100000, 1}, {0x100000, 0x100000, 1}},
			[]Range{{0x100000, 0x300000}}},
		{"unaligned RAM rounds inward", []entry{{0x100001, 0x1fffe, 1}},
			[]Range{{0x101000, 0x11f000}}},
		{"less than a page", []entry{{0x100001, 0xfff, 1}}, []Range{}},
		{"zero length", []entry{{0x100000, 0, 1}}, []Range{}},
		{"reserved hole inside RAM", []entry{{0x100000, 0x100000, 1}, {0x150800, 0x100, 2}},
			[]Range{{0x100000, 0x150000}, {0x151000, 0x200000}}},
		{"ACPI and bad types excluded", []entry{{0x100000, 0x1000, 3}, {0x101000, 0x1000, 5}}, []Range{}},
		{"length wraps past 2^64", []entry{{0xfffffffffff00000, 0x200000, 1}},
			[]Range{{0xfffffffffff00000, lastPage}}},
		{"base in the last page", []entry{{0xfffffffffffff800, 0x100, 1}}, []Range{}},
		{"above 4 GiB", []entry{{0x100000000, 0x80000000, 1}}, []Range{{0x100000000, 0x180000000}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, usable(t, tc.mmap, nil, 8))
		})
	}
}

func TestUsableRangesOutTooSmall(t *testing.T) {
	exclude := []Range{{0x150000, 0x160000}, {0x170000, 0x180000}}
	ram := []entry{{0x100000, 0x100000, 1}}
	assert.Equal(t, []Range{{0x100000, 0x150000}, {0x160000, 0x170000}}, usable(t, ram, exclude, 2),
		"the lowest ranges win")
	assert.Equal(t, []Range{}, usable(t, ram, exclude, 0))
}

// TestUsableRangesMatchPageModel checks random maps and exclusions against a per-page
// model over a small address space.
func TestUsableRangesMatchPageModel(t *testing.T) {
	const pages = 128 // random ranges stay below pages*PageSize
	rng := rand.New(rand.NewSource(1))
	randRange := func() (uint64, uint64) {
		a := uint64(rng.Intn(pages / 2 * PageSize))
		return a, a + uint64(rng.Intn(pages/3*PageSize))
	}
	for iter := 0; iter < 2000; iter++ {
		var mmap []entry
		for n := rng.Intn(6); n >= 0; n-- {
			start, end := randRange()
			typ := uint32(RegionAvailable)
			if rng.Intn(3) == 0 {
				typ = uint32(1 + rng.Intn(5))
			}
			mmap = append(mmap, entry{start, end - start, typ})
		}
		var exclude []Range
		for n := rng.Intn(4); n > 0; n-- {
			start, end := randRange()
			exclude = append(exclude, Range{start, end})
		}

		// A page is usable if some RAM entry covers it wholly and no blocker touches it.
		var free [pages + 1]bool
		for p := uint64(0); p < pages; p++ {
			lo, hi := p*PageSize, (p+1)*PageSize
			for _, e := range mmap {
				if e.typ == RegionAvailable && e.base <= lo && hi <= e.base+e.length {
					free[p] = true
				}
			}
			for _, e := range mmap {
				if e.typ != RegionAvailable && e.length > 0 && e.base < hi && lo < e.base+e.length {
					free[p] = false
				}
			}
			for _, x := range exclude {
				if x.Start < hi && lo < x.End {
					free[p] = false
				}
			}
		}
		want := []Range{}
		for p := uint64(0); p < pages; p++ {
			if free[p] && (p == 0 || !free[p-1]) {
				want = append(want, Range{Start: p * PageSize})
			}
			if free[p] && !free[p+1] {
				want[len(want)-1].End = (p + 1) * PageSize
			}
		}

		got := usable(t, mmap, exclude, 64)
		if !assert.Equal(t, want, got, "mmap %#v exclude %#v", mmap, exclude) {
			return
		}
	}
}
