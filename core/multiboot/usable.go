// Runs in trap context: nosplit, no allocation, no heap pointer writes.

package multiboot

// PageSize is the granularity of UsableRanges.
const PageSize = 4096

// lastPage is the highest page-aligned address; rounding up past it clamps here.
const lastPage = ^uint64(0) &^ (PageSize - 1)

// Range is a physical address range [Start, End).
type Range struct{ Start, End uint64 }

//go:nosplit
func pageDown(a uint64) uint64 { return a &^ (PageSize - 1) }

//go:nosplit
func pageUp(a uint64) uint64 {
	if a > lastPage {
		return lastPage
	}
	return pageDown(a + PageSize - 1)
}

// regionEnd is base+length, saturating instead of wrapping on a corrupt length.
//
//go:nosplit
func regionEnd(base, length uint64) uint64 {
	if length > ^uint64(0)-base {
		return ^uint64(0)
	}
	return base + length
}

// inward shrinks [base, base+length) to whole pages: RAM we may hand out.
//
//go:nosplit
func inward(base, length uint64) Range {
	return Range{pageUp(base), pageDown(regionEnd(base, length))}
}

// outward grows [start, end) to whole pages: everything a blocker touches.
//
//go:nosplit
func outward(start, end uint64) Range {
	return Range{pageDown(start), pageUp(end)}
}

// UsableRanges writes into out the page-aligned available-RAM ranges of the memory map
// (type 1, rounded inward to pages) minus every range in exclude (rounded outward),
// splitting where needed, and returns how many it wrote (at most len(out)). The result
// is sorted, non-overlapping and has no empty ranges; overlapping or touching available
// entries are merged. Memory any non-available entry also claims is left out, since a
// buggy firmware map may list a reserved hole inside RAM. If out is too small, the
// lowest ranges win.
//
//go:nosplit
func (i Info) UsableRanges(exclude []Range, out []Range) int {
	n := 0
	from := uint64(0)
	for n < len(out) {
		r, ok := i.nextUsable(from, exclude)
		if !ok {
			break
		}
		out[n] = r
		n++
		from = r.End
	}
	return n
}

// nextUsable returns the lowest usable range starting at or above from (page-aligned).
// Each retry moves from strictly forward past a blocker, so the loop terminates.
//
//go:nosplit
func (i Info) nextUsable(from uint64, exclude []Range) (Range, bool) {
	for {
		start, ok := i.lowestAvailable(from)
		if !ok {
			return Range{}, false
		}
		if blockEnd, blocked := i.blockedAt(start, exclude); blocked {
			from = blockEnd
			continue
		}
		end := i.availableEnd(start)
		return Range{start, i.nextBlockStart(start, end, exclude)}, true
	}
}

// lowestAvailable returns the lowest address >= from inside some available region.
//
//go:nosplit
func (i Info) lowestAvailable(from uint64) (uint64, bool) {
	best, found := uint64(0), false
	w := i.walk()
	for {
		entry, ok := w.next()
		if !ok {
			return best, found
		}
		base, length, typ := region(entry)
		r := inward(base, length)
		if typ != RegionAvailable || r.End <= r.Start || r.End <= from {
			continue
		}
		candidate := max(r.Start, from)
		if !found || candidate < best {
			best, found = candidate, true
		}
	}
}

// availableEnd follows available regions that overlap or touch [start, end) upward,
// returning where the merged run of RAM starting at start ends.
//
//go:nosplit
func (i Info) availableEnd(start uint64) uint64 {
	end := start
	for grown := true; grown; {
		grown = false
		w := i.walk()
		for {
			entry, ok := w.next()
			if !ok {
				break
			}
			base, length, typ := region(entry)
			r := inward(base, length)
			if typ == RegionAvailable && r.Start <= end && r.End > end {
				end, grown = r.End, true
			}
		}
	}
	return end
}

// blockedAt reports whether addr lies in an excluded range or a non-available region,
// and if so where that blocker ends.
//
//go:nosplit
func (i Info) blockedAt(addr uint64, exclude []Range) (uint64, bool) {
	for k := range exclude {
		r := outward(exclude[k].Start, exclude[k].End)
		if exclude[k].Start < exclude[k].End && r.Start <= addr && addr < r.End {
			return r.End, true
		}
	}
	w := i.walk()
	for {
		entry, ok := w.next()
		if !ok {
			return 0, false
		}
		base, length, typ := region(entry)
		r := outward(base, regionEnd(base, length))
		if typ != RegionAvailable && length != 0 && r.Start <= addr && addr < r.End {
			return r.End, true
		}
	}
}

// nextBlockStart clips end at the first blocker starting inside (start, end).
//
//go:nosplit
func (i Info) nextBlockStart(start, end uint64, exclude []Range) uint64 {
	for k := range exclude {
		r := outward(exclude[k].Start, exclude[k].End)
		if exclude[k].Start < exclude[k].End && r.Start > start && r.Start < end {
			end = r.Start
		}
	}
	w := i.walk()
	for {
		entry, ok := w.next()
		if !ok {
			return end
		}
		base, length, typ := region(entry)
		r := outward(base, regionEnd(base, length))
		if typ != RegionAvailable && length != 0 && r.Start > start && r.Start < end {
			end = r.Start
		}
	}
}
