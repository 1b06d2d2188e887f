package kernel

// Memory system calls: mmap, munmap, mprotect, madvise, brk. Anonymous memory only; pages are
// allocated on first touch (see AddressSpace.fault).
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

//go:nosplit
func sysMmap(tf *TrapFrame) int64 {
	addr, length, flags := uintptr(tf.RDI), uintptr(tf.RSI), tf.R10
	prot, ok := protOf(tf.RDX)
	if !ok || length == 0 || addr&(pageSize-1) != 0 || length > userLimit {
		return -EINVAL
	}
	if flags&mapAnonymous == 0 {
		return -ENODEV // there are no files to map
	}
	if flags&(mapShared|mapPrivate) == 0 {
		return -EINVAL
	}
	length = pageUp(length)
	as := curSpace()
	switch {
	case flags&mapFixedNoreplace != 0:
		if addr+length < addr || addr+length > userLimit || !as.isFree(addr, addr+length) {
			return -EEXIST
		}
	case flags&mapFixed != 0:
		if addr < pageSize || addr+length < addr || addr+length > userLimit {
			return -EINVAL
		}
		as.unmapRange(addr, addr+length)
	default:
		addr = as.findFree(length, addr)
		if addr == 0 {
			return -ENOMEM
		}
	}
	if !as.addRegion(addr, addr+length, prot, vmaAnon) {
		return -ENOMEM
	}
	return int64(addr)
}

//go:nosplit
func sysMunmap(tf *TrapFrame) int64 {
	addr, length := uintptr(tf.RDI), pageUp(uintptr(tf.RSI))
	if addr&(pageSize-1) != 0 || length == 0 || addr+length < addr || addr+length > userLimit {
		return -EINVAL
	}
	as := curSpace()
	as.unmapRange(addr, addr+length)
	if !as.carve(addr, addr+length) {
		return -ENOMEM
	}
	return 0
}

//go:nosplit
func sysMprotect(tf *TrapFrame) int64 {
	addr, length := uintptr(tf.RDI), pageUp(uintptr(tf.RSI))
	prot, ok := protOf(tf.RDX)
	if !ok || addr&(pageSize-1) != 0 || addr+length < addr || addr+length > userLimit {
		return -EINVAL
	}
	as := curSpace()
	// Every page must belong to a region (Linux: ENOMEM otherwise).
	for va := addr; va < addr+length; {
		i := as.find(va)
		if i < 0 {
			return -ENOMEM
		}
		va = as.vmas[i].end
	}
	for va := addr; va < addr+length; {
		i := as.find(va)
		end := as.vmas[i].end
		if end > addr+length {
			end = addr + length
		}
		if !as.addRegion(va, end, prot, as.vmas[i].kind) {
			return -ENOMEM
		}
		as.protectRange(va, end, prot)
		va = end
	}
	return 0
}

//go:nosplit
func sysMadvise(tf *TrapFrame) int64 {
	addr, length := uintptr(tf.RDI), pageUp(uintptr(tf.RSI))
	if addr&(pageSize-1) != 0 || addr+length < addr || addr+length > userLimit {
		return -EINVAL
	}
	switch tf.RDX {
	case madvDontneed, madvFree:
		// Drop the pages of anonymous regions; the next touch sees zeroes.
		as := curSpace()
		for va := addr; va < addr+length; {
			i := as.find(va)
			if i < 0 {
				// Skip the hole to the next region (page by page could take hours).
				next := as.nextRegion(va)
				if next == 0 || next >= addr+length {
					break
				}
				va = next
				continue
			}
			end := as.vmas[i].end
			if end > addr+length {
				end = addr + length
			}
			if as.vmas[i].kind == vmaAnon {
				as.unmapRange(va, end)
			}
			va = end
		}
	}
	return 0
}

//go:nosplit
func sysBrk(tf *TrapFrame) int64 { return 0 } // no program break: callers fall back to mmap
