package sys

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/task"
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
	if prot&mm.ProtWrite != 0 {
		prot |= mm.ProtRead // x86 cannot map write-only
	}
	return prot, true
}

// pageRange returns [addr, addr+length rounded up to a page), ok=false if addr is not
// page-aligned, the length is zero or the range wraps.
//
//go:nosplit
func pageRange(addr, length uintptr) (uintptr, uintptr, bool) {
	if addr&(mm.PageSize-1) != 0 || length == 0 || length > mm.UserLimit {
		return 0, 0, false
	}
	end := addr + mm.PageUp(length)
	return addr, end, end > addr
}

//go:nosplit
func mmap(c task.Call) task.Result {
	addr, length, flags := c.Ptr(0), c.Size(1), c.Arg(3)
	prot, ok := protOf(c.Arg(2))
	if !ok || length == 0 || addr&(mm.PageSize-1) != 0 || length > mm.UserLimit {
		return task.Err(abi.EINVAL)
	}
	if flags&mapAnonymous == 0 {
		return task.Err(abi.ENODEV) // there are no files to map
	}
	if flags&(mapShared|mapPrivate) == 0 {
		return task.Err(abi.EINVAL)
	}
	length = mm.PageUp(length)
	as := c.Space()
	switch {
	case flags&mapFixedNoreplace != 0:
		if !mm.UserRange(addr, addr+length) || addr+length < addr {
			return task.Err(abi.EINVAL)
		}
		if !as.IsFree(addr, addr+length) {
			return task.Err(abi.EEXIST)
		}
	case flags&mapFixed != 0:
		if addr+length < addr || !as.Changeable(addr, addr+length) {
			return task.Err(abi.EINVAL)
		}
		as.UnmapRange(addr, addr+length)
	default:
		addr = as.FindFree(length, addr)
		if addr == 0 {
			return task.Err(abi.ENOMEM)
		}
	}
	if !as.AddRegion(addr, addr+length, prot, mm.KindAnon) {
		return task.Err(abi.ENOMEM)
	}
	return task.Ret(int64(addr))
}

//go:nosplit
func munmap(c task.Call) task.Result {
	start, end, ok := pageRange(c.Ptr(0), c.Size(1))
	if !ok || !c.Space().Changeable(start, end) {
		return task.Err(abi.EINVAL)
	}
	as := c.Space()
	as.UnmapRange(start, end)
	if !as.Carve(start, end) {
		return task.Err(abi.ENOMEM)
	}
	return task.Ret(0)
}

//go:nosplit
func mprotect(c task.Call) task.Result {
	start, end, ok := pageRange(c.Ptr(0), c.Size(1))
	prot, pok := protOf(c.Arg(2))
	if c.Size(1) == 0 && c.Ptr(0)&(mm.PageSize-1) == 0 && pok {
		return task.Ret(0) // an empty range, as on Linux
	}
	if !ok || !pok {
		return task.Err(abi.EINVAL)
	}
	as := c.Space()
	// Every page must belong to a region (Linux: ENOMEM otherwise), all of them the task's.
	for va := start; va < end; {
		i := as.Find(va)
		if i < 0 {
			return task.Err(abi.ENOMEM)
		}
		va = as.At(i).End
	}
	if !as.Changeable(start, end) {
		return task.Err(abi.EACCES)
	}
	for va := start; va < end; {
		i := as.Find(va)
		stop := as.At(i).End
		if stop > end {
			stop = end
		}
		if !as.AddRegion(va, stop, prot, mm.KindAnon) {
			return task.Err(abi.ENOMEM)
		}
		as.ProtectRange(va, stop, prot)
		va = stop
	}
	return task.Ret(0)
}

//go:nosplit
func madvise(c task.Call) task.Result {
	start, end, ok := pageRange(c.Ptr(0), c.Size(1))
	if c.Size(1) == 0 && c.Ptr(0)&(mm.PageSize-1) == 0 {
		return task.Ret(0)
	}
	if !ok || !mm.UserRange(start, end) {
		return task.Err(abi.EINVAL)
	}
	switch c.Arg(2) {
	case madvDontneed, madvFree:
		// Drop the pages of anonymous regions; the next touch sees zeroes.
		as := c.Space()
		for va := start; va < end; {
			i := as.Find(va)
			if i < 0 {
				// Skip the hole to the next region (page by page could take hours).
				next := as.NextRegion(va)
				if next == 0 || next >= end {
					break
				}
				va = next
				continue
			}
			stop := as.At(i).End
			if stop > end {
				stop = end
			}
			if as.At(i).Kind == mm.KindAnon {
				as.UnmapRange(va, stop)
			}
			va = stop
		}
	}
	return task.Ret(0)
}

//go:nosplit
func brk(c task.Call) task.Result { return task.Ret(0) } // no program break: callers fall back to mmap
