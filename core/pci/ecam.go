package pci

// ECAM is a mapped PCI Express enhanced configuration window (one MCFG entry): function
// b's 4 KiB of configuration space is at Base + (b.Bus-StartBus)<<20 | b.Device<<15 |
// b.Function<<12. Load32 and Store32 perform the 32-bit accesses, which the core does
// on its uncached mapping of the window.
type ECAM struct {
	Base             uintptr
	StartBus, EndBus uint8
	Load32           func(addr uintptr) uint32
	Store32          func(addr uintptr, v uint32)
}

// Size of a function's configuration space through ECAM.
const ecamFunctionSize = 4096

// addr returns the address of register off of function b, or false outside the window or
// for an unaligned or out-of-range offset.
func (e ECAM) addr(b BDF, off int) (uintptr, bool) {
	if b.Bus < e.StartBus || b.Bus > e.EndBus || b.Device > 31 || b.Function > 7 ||
		off < 0 || off >= ecamFunctionSize || off&3 != 0 {
		return 0, false
	}
	return e.Base + (uintptr(b.Bus-e.StartBus)<<20 | uintptr(b.Device)<<15 |
		uintptr(b.Function)<<12 | uintptr(off)), true
}

// Read32 reads register off of b; all ones when b or off is outside the window.
func (e ECAM) Read32(b BDF, off int) uint32 {
	a, ok := e.addr(b, off)
	if !ok {
		return 0xffffffff
	}
	return e.Load32(a)
}

// Write32 writes register off of b; nothing when b or off is outside the window.
func (e ECAM) Write32(b BDF, off int, v uint32) {
	if a, ok := e.addr(b, off); ok {
		e.Store32(a, v)
	}
}
