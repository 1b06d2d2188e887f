package kernel

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

// Memory system calls: mmap, munmap, mprotect, madvise, brk. Anonymous memory only; pages are
// allocated on first touch (see AddressSpace.fault). A task changes only its own anonymous
// memory (AddressSpace.changeable): never the kernel-managed windows (device memory, page
// grants), nor a region the kernel mapped.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const (
	mapShared         = 0x01
	mapPrivate        = 0x02
	mapFixed          = 0x10
	mapAnonymous      = 0x20
	mapFixedNoreplace = 0x100000

	madvDontneed = 4
	madvFree     = 8
)

//go:nosplit
func protOf(p uint64) (uint32, bool) {
	if p&^7 != 0 {
		return 0, false
	}
	prot := uint32(p)
	if prot&protWrite != 0 {
		prot |= protRead // x86 cannot map write-only
	}
	return prot, true
}

// pageRange returns [addr, addr+length rounded up to a page), ok=false if addr is not
// page-aligned, the length is zero or the range wraps.
//
//go:nosplit
func pageRange(addr, length uintptr) (uintptr, uintptr, bool) {
	if addr&(pageSize-1) != 0 || length == 0 || length > userLimit {
		return 0, 0, false
	}
	end := addr + pageUp(length)
	return addr, end, end > addr
}

//go:nosplit
func sysMmap(tf *arch.TrapFrame) int64 {
	addr, length, flags := uintptr(tf.RDI), uintptr(tf.RSI), tf.R10
	prot, ok := protOf(tf.RDX)
	if !ok || length == 0 || addr&(pageSize-1) != 0 || length > userLimit {
		return -abi.EINVAL
	}
	if flags&mapAnonymous == 0 {
		return -abi.ENODEV // there are no files to map
	}
	if flags&(mapShared|mapPrivate) == 0 {
		return -abi.EINVAL
	}
	length = pageUp(length)
	as := curSpace()
	switch {
	case flags&mapFixedNoreplace != 0:
		if !userRange(addr, addr+length) || addr+length < addr {
			return -abi.EINVAL
		}
		if !as.isFree(addr, addr+length) {
			return -abi.EEXIST
		}
	case flags&mapFixed != 0:
		if addr+length < addr || !as.changeable(addr, addr+length) {
			return -abi.EINVAL
		}
		as.unmapRange(addr, addr+length)
	default:
		addr = as.findFree(length, addr)
		if addr == 0 {
			return -abi.ENOMEM
		}
	}
	if !as.addRegion(addr, addr+length, prot, vmaAnon) {
		return -abi.ENOMEM
	}
	return int64(addr)
}

//go:nosplit
func sysMunmap(tf *arch.TrapFrame) int64 {
	start, end, ok := pageRange(uintptr(tf.RDI), uintptr(tf.RSI))
	if !ok || !curSpace().changeable(start, end) {
		return -abi.EINVAL
	}
	as := curSpace()
	as.unmapRange(start, end)
	if !as.carve(start, end) {
		return -abi.ENOMEM
	}
	return 0
}

//go:nosplit
func sysMprotect(tf *arch.TrapFrame) int64 {
	start, end, ok := pageRange(uintptr(tf.RDI), uintptr(tf.RSI))
	prot, pok := protOf(tf.RDX)
	if uintptr(tf.RSI) == 0 && uintptr(tf.RDI)&(pageSize-1) == 0 && pok {
		return 0 // an empty range, as on Linux
	}
	if !ok || !pok {
		return -abi.EINVAL
	}
	as := curSpace()
	// Every page must belong to a region (Linux: ENOMEM otherwise), all of them the task's.
	for va := start; va < end; {
		i := as.find(va)
		if i < 0 {
			return -abi.ENOMEM
		}
		va = as.at(i).end
	}
	if !as.changeable(start, end) {
		return -abi.EACCES
	}
	for va := start; va < end; {
		i := as.find(va)
		stop := as.at(i).end
		if stop > end {
			stop = end
		}
		if !as.addRegion(va, stop, prot, vmaAnon) {
			return -abi.ENOMEM
		}
		as.protectRange(va, stop, prot)
		va = stop
	}
	return 0
}

//go:nosplit
func sysMadvise(tf *arch.TrapFrame) int64 {
	start, end, ok := pageRange(uintptr(tf.RDI), uintptr(tf.RSI))
	if uintptr(tf.RSI) == 0 && uintptr(tf.RDI)&(pageSize-1) == 0 {
		return 0
	}
	if !ok || !userRange(start, end) {
		return -abi.EINVAL
	}
	switch tf.RDX {
	case madvDontneed, madvFree:
		// Drop the pages of anonymous regions; the next touch sees zeroes.
		as := curSpace()
		for va := start; va < end; {
			i := as.find(va)
			if i < 0 {
				// Skip the hole to the next region (page by page could take hours).
				next := as.nextRegion(va)
				if next == 0 || next >= end {
					break
				}
				va = next
				continue
			}
			stop := as.at(i).end
			if stop > end {
				stop = end
			}
			if as.at(i).kind == vmaAnon {
				as.unmapRange(va, stop)
			}
			va = stop
		}
	}
	return 0
}

//go:nosplit
func sysBrk(tf *arch.TrapFrame) int64 { return 0 } // no program break: callers fall back to mmap
