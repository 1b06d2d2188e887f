package kernel

import (
	"unsafe"
	_ "unsafe" // for go:linkname

	"github.com/simpleos/simpleos/abi"
)

// Raw memory access for kernel addresses (the direct map, kernel stacks, the core image).
// Callers check addresses that come from outside the kernel first (see uaccess.go).

//go:nosplit
func unsafePointer(p uintptr) unsafe.Pointer { return unsafe.Pointer(p) }

//go:nosplit
func load8(p uintptr) uint8 { return *(*uint8)(unsafe.Pointer(p)) }

//go:nosplit
func load32(p uintptr) uint32 { return *(*uint32)(unsafe.Pointer(p)) }

//go:nosplit
func load64(p uintptr) uint64 { return *(*uint64)(unsafe.Pointer(p)) }

//go:nosplit
func store8(p uintptr, v uint8) { *(*uint8)(unsafe.Pointer(p)) = v }

//go:nosplit
func store32(p uintptr, v uint32) { *(*uint32)(unsafe.Pointer(p)) = v }

//go:nosplit
func store64(p uintptr, v uint64) { *(*uint64)(unsafe.Pointer(p)) = v }

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

// memmove copies n bytes between kernel addresses.
//
//go:nosplit
func memmove(dst, src uintptr, n uintptr) {
	runtimeMemmove(unsafe.Pointer(dst), unsafe.Pointer(src), n)
}

// memzero clears n bytes at a kernel address (memory holding no Go pointers).
//
//go:nosplit
func memzero(dst uintptr, n uintptr) { runtimeMemclr(unsafe.Pointer(dst), n) }

//go:nosplit
func addrOf64(p *uint64) uintptr { return uintptr(unsafe.Pointer(p)) }

//go:nosplit
func addrOf32(p *uint32) uintptr { return uintptr(unsafe.Pointer(p)) }

//go:nosplit
func addrOfFX(tf *TrapFrame) uintptr { return uintptr(unsafe.Pointer(&tf.FX[0])) }

//go:nosplit
func addrOfAction(a *sigAction) uintptr { return uintptr(unsafe.Pointer(a)) }

//go:nosplit
func stringAddr(s string) uintptr { return uintptr(unsafe.Pointer(unsafe.StringData(s))) }

// unsafeString makes a string of n bytes at p by its header: unsafe.String would check n,
// with a panic behind the check.
//
//go:nosplit
func unsafeString(p *byte, n int) string {
	var s string
	h := (*[2]uintptr)(unsafe.Pointer(&s))
	h[0], h[1] = uintptr(unsafe.Pointer(p)), uintptr(n)
	return s
}

//go:nosplit
func addrOfPipeByte(p *pipeObj, i int) uintptr {
	return uintptr(unsafe.Pointer(&p.buf[0])) + uintptr(i&(pipeBufLen-1))
}

//go:nosplit
func addrOfMsg(m *abi.Message) uintptr { return uintptr(unsafe.Pointer(m)) }

//go:nosplit
func addrOfConByte(i int) uintptr { return uintptr(unsafe.Pointer(&con.buf[i&(conBufSize-1)])) }

//go:nosplit
func addrOfEvent(e *abi.Event) uintptr { return uintptr(unsafe.Pointer(e)) }
