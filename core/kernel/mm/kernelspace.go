package mm

// The core's own address space: the kernel's page table, built at boot.
//
// Runs before the Go runtime exists: nosplit, no allocation, no heap pointer writes.

import "github.com/simpleos/simpleos/core/kernel/arch"

// KernelPML4 is the core's page table: its lower half is the core's Go runtime's, its upper
// half (direct map, kernel stacks, entry area) every address space's.
var KernelPML4 PageTable

// ImageExtent reads the core's own program headers (its ELF header is the first page of
// the image) and returns the page range its segments occupy.
//
//go:nosplit
func ImageExtent() (start, end uintptr) {
	phoff := uintptr(arch.Load64(ImageBase + 0x20))
	phent := uintptr(*(*uint16)(arch.Pointer(ImageBase + 0x36)))
	phnum := int(*(*uint16)(arch.Pointer(ImageBase + 0x38)))
	start = ^uintptr(0)
	for i := 0; i < phnum; i++ {
		ph := ImageBase + phoff + uintptr(i)*phent
		if arch.Load32(ph) != 1 { // PT_LOAD
			continue
		}
		va, memsz := uintptr(arch.Load64(ph+16)), uintptr(arch.Load64(ph+40))
		if va < start {
			start = va
		}
		if va+memsz > end {
			end = va + memsz
		}
	}
	return PageDown(start), PageUp(end)
}

// BuildKernelSpace creates the core's page table: the direct map (2 MiB pages), the shared
// kernel-stack table, the core image with the permissions of its ELF segments, and the
// interrupt-controller registers.
//
//go:nosplit
func BuildKernelSpace() {
	root, ok := AllocFrame()
	if !ok {
		arch.Panic("out of memory building page tables", 0)
	}
	KernelPML4 = PageTable(root)
	// Direct map: cover physical memory up to the highest usable frame, in whole GiB.
	top := (frameTop*PageSize + 1<<30 - 1) &^ (1<<30 - 1)
	DirectMapEnd = top
	pdpt, _ := AllocFrame()
	arch.Store64(DirectMap(root)+256*8, pdpt|PTEPresent|PTEWrite)
	for gb := uint64(0); gb < top>>30; gb++ {
		pd, ok := AllocFrame()
		if !ok {
			arch.Panic("out of memory building the direct map", gb)
		}
		arch.Store64(DirectMap(pdpt)+uintptr(gb)*8, pd|PTEPresent|PTEWrite)
		for i := uint64(0); i < 512; i++ {
			pa := gb<<30 | i<<21
			arch.Store64(DirectMap(pd)+uintptr(i)*8, pa|PTEPresent|PTEWrite|PTEHuge|PTEGlobal|PTENX)
		}
	}
	// Kernel stacks: pre-create the level-3 table so every address space shares it.
	ks, _ := AllocFrame()
	arch.Store64(DirectMap(root)+tableIndex(KernelStackBase, 3)*8, ks|PTEPresent|PTEWrite)

	core := &spaces[0]
	core.root = KernelPML4
	core.setCR3()
	phoff := uintptr(arch.Load64(ImageBase + 0x20))
	phent := uintptr(*(*uint16)(arch.Pointer(ImageBase + 0x36)))
	phnum := int(*(*uint16)(arch.Pointer(ImageBase + 0x38)))
	for i := 0; i < phnum; i++ {
		ph := ImageBase + phoff + uintptr(i)*phent
		if arch.Load32(ph) != 1 {
			continue
		}
		pflags := arch.Load32(ph + 4)
		va, memsz := uintptr(arch.Load64(ph+16)), uintptr(arch.Load64(ph+40))
		prot := uint32(ProtRead)
		if pflags&2 != 0 {
			prot |= ProtWrite
		}
		if pflags&1 != 0 {
			prot |= ProtExec
		}
		start, end := PageDown(va), PageUp(va+memsz)
		for p := start; p < end; p += PageSize {
			if !KernelPML4.MapPage(p, uint64(p), core.PTEFlags(prot), nil) {
				arch.Panic("cannot map the core image at", uint64(p))
			}
		}
		core.AddRegion(start, end, prot, KindImage)
	}
	for _, dev := range [...]uintptr{arch.LAPICPhys, arch.IOAPICPhys} {
		KernelPML4.MapPage(dev, uint64(dev), PTEPresent|PTEWrite|PTENoCache|PTEWriteThrough|PTENX, nil)
		core.AddRegion(dev, dev+PageSize, ProtRead|ProtWrite, KindDevice)
	}
}

// MapCoreDevice maps n bytes (whole pages) of device registers at phys into the core's page
// table at the same address, uncached, and records them as a device region of the core's
// space so that its Go runtime never places memory there. Boot-time, interrupts off.
func MapCoreDevice(phys, n uint64) bool {
	core := &spaces[CoreSpace]
	start, end := uintptr(phys), uintptr(phys+n)
	if !core.IsFree(start, end) {
		return core.Find(start) >= 0 && core.At(core.Find(start)).Kind == KindDevice && core.At(core.Find(start)).End >= end
	}
	for p := start; p < end; p += PageSize {
		if !KernelPML4.MapPage(p, uint64(p), PTEPresent|PTEWrite|PTENoCache|PTEWriteThrough|PTENX, nil) {
			return false
		}
	}
	return core.AddRegion(start, end, ProtRead|ProtWrite, KindDevice)
}
