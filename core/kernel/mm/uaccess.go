package mm

import "github.com/simpleos/simpleos/core/kernel/arch"

// Checked access to memory named by a Go runtime (the core's or a task's): every address is
// checked against the address space's own regions and page tables, and reached through the
// direct map. Demand-zero pages are faulted in. Only RAM is a buffer: device memory a driver
// maps (KindDevice) is refused, and so is any frame the direct map does not cover. A bad
// address gives ok=false, never a kernel fault.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// UserPage returns the kernel address for user address va, faulting the page in if needed.
//
//go:nosplit
func (as *AddressSpace) UserPage(va uintptr, write bool) (uintptr, bool) {
	if va >= UserTop || va < PageSize {
		return 0, false
	}
	i := as.Find(va)
	if i < 0 {
		return 0, false
	}
	if r := as.At(i); r.Kind == KindDevice || r.Prot&ProtRead == 0 && !write {
		return 0, false // device registers are never a system call's buffer
	}
	for try := 0; try < 2; try++ {
		v := as.root.Lookup(PageDown(va))
		if v&PTEPresent != 0 {
			pa := v & PTEAddrMask
			if write && v&PTECOW != 0 { // a snapshot's page: the space gets its own copy first
				if as.Fault(va, true, false) != FaultHandled {
					return 0, false
				}
				continue
			}
			if write && v&PTEWrite == 0 || pa >= DirectMapEnd {
				return 0, false
			}
			return DirectMap(pa) + va&(PageSize-1), true
		}
		if as.Fault(va, write, false) != FaultHandled {
			return 0, false
		}
	}
	return 0, false
}

//go:nosplit
func RangeOK(va, n uintptr) bool { return va+n >= va && va+n <= UserTop }

// What transfer does with user memory.
const (
	fromUser = iota // copy user memory to the kernel
	toUser          // copy kernel memory to the user
	zeroUser        // clear user memory
)

// transfer moves n bytes between user address user and kernel address kernel, page by page,
// each page checked (and faulted in) through the address space's own mappings.
//
//go:nosplit
func (as *AddressSpace) transfer(user, kernel, n uintptr, op int) bool {
	if !RangeOK(user, n) {
		return false
	}
	for n > 0 {
		k, ok := as.UserPage(user, op != fromUser)
		if !ok {
			return false
		}
		chunk := PageSize - user&(PageSize-1)
		if chunk > n {
			chunk = n
		}
		switch op {
		case fromUser:
			arch.Memmove(kernel, k, chunk)
		case toUser:
			arch.Memmove(k, kernel, chunk)
		default:
			arch.Memzero(k, chunk)
		}
		user += chunk
		kernel += chunk
		n -= chunk
	}
	return true
}

// CopyIn copies n bytes from user address src to kernel address dst.
//
//go:nosplit
func (as *AddressSpace) CopyIn(dst, src, n uintptr) bool { return as.transfer(src, dst, n, fromUser) }

// CopyOut copies n bytes from kernel address src to user address dst.
//
//go:nosplit
func (as *AddressSpace) CopyOut(dst, src, n uintptr) bool { return as.transfer(dst, src, n, toUser) }

// ZeroOut clears n bytes at user address dst.
//
//go:nosplit
func (as *AddressSpace) ZeroOut(dst, n uintptr) bool { return as.transfer(dst, 0, n, zeroUser) }

//go:nosplit
func (as *AddressSpace) Read64(va uintptr) (uint64, bool) {
	var v uint64
	ok := as.CopyIn(arch.Addr(&v), va, 8)
	return v, ok
}

//go:nosplit
func (as *AddressSpace) Read32(va uintptr) (uint32, bool) {
	var v uint32
	ok := as.CopyIn(arch.Addr(&v), va, 4)
	return v, ok
}

//go:nosplit
func (as *AddressSpace) Write64(va uintptr, v uint64) bool {
	return as.CopyOut(va, arch.Addr(&v), 8)
}

//go:nosplit
func (as *AddressSpace) Write32(va uintptr, v uint32) bool {
	return as.CopyOut(va, arch.Addr(&v), 4)
}
