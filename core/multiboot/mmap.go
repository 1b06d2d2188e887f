// Runs in trap context: nosplit, no allocation, no heap pointer writes.

package multiboot

// Memory map region types.
const (
	RegionAvailable = 1
	RegionReserved  = 2
)

// maxRegions caps the walk so an absurd mmap_length cannot take forever.
const maxRegions = 128

// minEntrySize is the smallest valid `size` field: base u64 + length u64 + type u32.
const minEntrySize = 20

// mmapWalk steps through the memory map. Offsets are relative to mmap_addr and kept
// in uintptr (64-bit) so size+4 sums of 32-bit fields cannot overflow.
type mmapWalk struct {
	base   uintptr // virtual address of the first entry
	pos    uintptr // offset of the next entry
	length uintptr // mmap_length
	seen   int
}

// walk starts a memory map walk; it yields nothing if the map is absent.
//
//go:nosplit
func (i Info) walk() mmapWalk {
	if !i.has(FlagMemoryMap) || i.field(offMmapAddr) == 0 {
		return mmapWalk{}
	}
	return mmapWalk{
		base:   i.virt(uintptr(i.field(offMmapAddr))),
		length: uintptr(i.field(offMmapLength)),
	}
}

// next returns the virtual address of the next entry's `size` field. It stops at the
// end of the map, on an entry that would not fit, on a too-small size, or at the cap.
//
//go:nosplit
func (w *mmapWalk) next() (entry uintptr, ok bool) {
	if w.seen >= maxRegions || w.pos+4+minEntrySize > w.length {
		return 0, false
	}
	entry = w.base + w.pos
	size := uintptr(read32(entry))
	if size < minEntrySize || w.pos+4+size > w.length {
		return 0, false
	}
	w.pos += 4 + size
	w.seen++
	return entry, true
}

// region decodes the entry whose `size` field is at entry.
//
//go:nosplit
func region(entry uintptr) (base, length uint64, typ uint32) {
	return read64(entry + 4), read64(entry + 12), read32(entry + 20)
}

// MemoryMapCount returns the number of well-formed memory map entries (at most 128).
//
//go:nosplit
func (i Info) MemoryMapCount() int {
	w := i.walk()
	for {
		if _, ok := w.next(); !ok {
			return w.seen
		}
	}
}

// MemoryRegion returns memory map entry n.
//
//go:nosplit
func (i Info) MemoryRegion(n int) (base, length uint64, typ uint32, ok bool) {
	if n < 0 {
		return 0, 0, 0, false
	}
	w := i.walk()
	for {
		entry, ok := w.next()
		if !ok {
			return 0, 0, 0, false
		}
		if w.seen == n+1 {
			base, length, typ = region(entry)
			return base, length, typ, true
		}
	}
}
