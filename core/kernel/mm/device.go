package mm

// Device memory in an address space: a driver's registers, mapped uncached. The frames are
// not the space's: they are never freed with it, and never a system call's buffer
// (UserPage refuses them).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// MapDevice maps n bytes (whole pages) of physical device memory at phys to va, uncached and
// writable, as a device region. ok=false, and nothing left mapped, if a page table or the
// region cannot be had.
//
//go:nosplit
func (as *AddressSpace) MapDevice(va uintptr, phys, n uint64) bool {
	flags := uint64(PTEWrite | PTENoCache | PTEWriteThrough | PTENX)
	if as.user {
		flags |= PTEUser
	}
	for off := uint64(0); off < n; off += PageSize {
		if !as.root.MapPage(va+uintptr(off), phys+off, flags, as.src()) {
			as.UnmapRange(va, va+uintptr(off)) // device pages are not owned: nothing is freed
			return false
		}
	}
	if !as.AddRegion(va, va+uintptr(n), ProtRead|ProtWrite, KindDevice) {
		as.UnmapRange(va, va+uintptr(n)) // no mapping without its region
		return false
	}
	return true
}
