package arch

import (
	"unsafe"
	_ "unsafe" // for go:linkname
)

// Raw memory access for kernel addresses (the direct map, kernel stacks, the core image).
// Callers check addresses that come from outside the kernel first (package mm's user access).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

//go:nosplit
func Pointer(p uintptr) unsafe.Pointer { return unsafe.Pointer(p) }

//go:nosplit
func Load8(p uintptr) uint8 { return *(*uint8)(unsafe.Pointer(p)) }

//go:nosplit
func Load32(p uintptr) uint32 { return *(*uint32)(unsafe.Pointer(p)) }

//go:nosplit
func Load64(p uintptr) uint64 { return *(*uint64)(unsafe.Pointer(p)) }

//go:nosplit
func Store8(p uintptr, v uint8) { *(*uint8)(unsafe.Pointer(p)) = v }

//go:nosplit
func Store32(p uintptr, v uint32) { *(*uint32)(unsafe.Pointer(p)) = v }

//go:nosplit
func Store64(p uintptr, v uint64) { *(*uint64)(unsafe.Pointer(p)) = v }

// runtimeMemmove and runtimeMemclr are the Go runtime's own nosplit assembly (the runtime
// marks both for use by linkname). Calling them directly, rather than copy and clear over
// unsafe.Slice, leaves no length or nil check that could panic in trap context.
//
//go:linkname runtimeMemmove runtime.memmove
//go:noescape
func runtimeMemmove(to, from unsafe.Pointer, n uintptr)

//go:linkname runtimeMemclr runtime.memclrNoHeapPointers
//go:noescape
func runtimeMemclr(ptr unsafe.Pointer, n uintptr)

// Memmove copies n bytes between kernel addresses.
//
//go:nosplit
func Memmove(dst, src uintptr, n uintptr) {
	runtimeMemmove(unsafe.Pointer(dst), unsafe.Pointer(src), n)
}

// Memzero clears n bytes at a kernel address (memory holding no Go pointers).
//
//go:nosplit
func Memzero(dst uintptr, n uintptr) { runtimeMemclr(unsafe.Pointer(dst), n) }

// Addr is the kernel address of a kernel object (a static table entry, a kernel stack
// variable), for the copies and the user-memory access that take addresses.
//
//go:nosplit
func Addr[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

// StringAddr is the address of a string's bytes.
//
//go:nosplit
func StringAddr(s string) uintptr { return uintptr(unsafe.Pointer(unsafe.StringData(s))) }

// UnsafeString makes a string of n bytes at p by its header: unsafe.String would check n,
// with a panic behind the check.
//
//go:nosplit
func UnsafeString(p *byte, n int) string {
	var s string
	h := (*[2]uintptr)(unsafe.Pointer(&s))
	h[0], h[1] = uintptr(unsafe.Pointer(p)), uintptr(n)
	return s
}
