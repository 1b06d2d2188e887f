package kernel

import "unsafe"

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

// memmove copies n bytes between kernel addresses (runtime.memmove is nosplit assembly).
//
//go:nosplit
func memmove(dst, src uintptr, n uintptr) {
	if n == 0 {
		return
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(dst)), n), unsafe.Slice((*byte)(unsafe.Pointer(src)), n))
}

//go:nosplit
func memzero(dst uintptr, n uintptr) {
	if n == 0 {
		return
	}
	clear(unsafe.Slice((*byte)(unsafe.Pointer(dst)), n))
}

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

//go:nosplit
func unsafeString(p *byte, n int) string { return unsafe.String(p, n) }

//go:nosplit
func addrOfPipeByte(p *pipeObj, i int) uintptr {
	return uintptr(unsafe.Pointer(&p.buf[0])) + uintptr(i&(pipeBufLen-1))
}

//go:nosplit
func addrOfMsg(m *ipcMsg) uintptr { return uintptr(unsafe.Pointer(m)) }

//go:nosplit
func addrOfConByte(i int) uintptr { return uintptr(unsafe.Pointer(&con.buf[i&(conBufSize-1)])) }

//go:nosplit
func addrOfEvent(e *event) uintptr { return uintptr(unsafe.Pointer(e)) }
