package mm

// Loading a program image into an address space.
//
// Runs in goroutine context with interrupts off (the task API), nosplit: no allocation, no
// heap pointer writes.

import "github.com/simpleos/simpleos/core/kernel/arch"

// LoadSegment maps [va, va+memsz) into as with prot, copying filesz
// bytes from kernel address data; the rest is zero. The pages holding file bytes are loaded
// now; the rest (a Go binary's BSS can be tens of MiB it never touches) are demand-zero
// memory of the segment's region, charged only when touched. Pages already mapped by a
// previous segment are shared with it (their protection widened).
//
//go:nosplit
func (as *AddressSpace) LoadSegment(va, memsz uintptr, prot uint32, data, filesz uintptr) bool {
	start, end := PageDown(va), PageUp(va+memsz)
	loaded := PageUp(va + filesz)
	for page := start; page < loaded; page += PageSize {
		e := as.root.Lookup(page)
		var f uint64
		if e&PTEPresent != 0 {
			f = e & PTEAddrMask
		} else {
			nf, ok := AllocFrameFor(&as.mem)
			if !ok {
				return false
			}
			f = nf
			as.resident++
		}
		if !as.root.MapPage(page, f, as.PTEFlags(prot)|PTEOwned, &as.mem) {
			return false
		}
		// Copy the part of the file image that falls in this page.
		lo, hi := page, page+PageSize
		if lo < va {
			lo = va
		}
		if hi > va+filesz {
			hi = va + filesz
		}
		if hi > lo {
			arch.Memmove(DirectMap(f)+(lo-page), data+(lo-va), hi-lo)
		}
	}
	return as.AddRegion(start, end, prot, KindAnon)
}
