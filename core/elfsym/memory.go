// Runs in trap context: nosplit, no allocation, no heap pointer writes.

package elfsym

import "unsafe"

// pointer turns an address into an unsafe.Pointer. Reinterpreting the variable's bits
// (instead of unsafe.Pointer(addr)) keeps go vet quiet: the image is not necessarily a
// Go object, so the GC must not care anyway.
//
//go:nosplit
func pointer(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

// The readers below do not check bounds: callers check against the image size first.
// Garbage offsets may be unaligned, which x86-64 loads tolerate (ring 0 never sets AC).

//go:nosplit
func read8(addr uintptr) uint8 { return *(*uint8)(pointer(addr)) }

//go:nosplit
func read16(addr uintptr) uint16 { return *(*uint16)(pointer(addr)) }

//go:nosplit
func read32(addr uintptr) uint32 { return *(*uint32)(pointer(addr)) }

//go:nosplit
func read64(addr uintptr) uint64 { return *(*uint64)(pointer(addr)) }

// within reports whether [off, off+n) lies inside [0, size) without overflowing.
//
//go:nosplit
func within(off, n, size uint64) bool { return off <= size && n <= size-off }
