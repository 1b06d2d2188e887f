// Runs in trap context: nosplit, no allocation, no heap pointer writes.

package multiboot

import "unsafe"

// maxStringLen bounds every NUL scan so a missing terminator cannot run away.
const maxStringLen = 4096

// virt turns a physical address from the info structure into one the kernel can read.
//
//go:nosplit
func (i Info) virt(phys uintptr) uintptr { return phys + i.off }

// pointer turns an address into an unsafe.Pointer. Reinterpreting the variable's bits
// (instead of unsafe.Pointer(addr)) keeps go vet quiet: these addresses are not Go
// heap objects, so the GC must not track them anyway.
//
//go:nosplit
func pointer(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

//go:nosplit
func read8(addr uintptr) uint8 { return *(*uint8)(pointer(addr)) }

//go:nosplit
func read32(addr uintptr) uint32 { return *(*uint32)(pointer(addr)) }

// read64 uses two 32-bit loads: mmap fields are only 4-byte aligned.
//
//go:nosplit
func read64(addr uintptr) uint64 {
	return uint64(read32(addr)) | uint64(read32(addr+4))<<32
}

// field reads the 32-bit info structure field at byte offset off.
//
//go:nosplit
func (i Info) field(off uintptr) uint32 { return read32(i.virt(i.addr + off)) }

// cString returns the NUL-terminated string at physical address phys without copying,
// truncated at maxStringLen bytes. A zero address gives "".
//
//go:nosplit
func (i Info) cString(phys uint32) string {
	if phys == 0 {
		return ""
	}
	start := i.virt(uintptr(phys))
	n := 0
	for n < maxStringLen && read8(start+uintptr(n)) != 0 {
		n++
	}
	if n == 0 {
		return ""
	}
	// Built by its header: unsafe.String checks n, with a panic behind the check, and this
	// runs in the kernel's trap context.
	var str string
	h := (*[2]uintptr)(unsafe.Pointer(&str))
	h[0], h[1] = start, uintptr(n)
	return str
}
