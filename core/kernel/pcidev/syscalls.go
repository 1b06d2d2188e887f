package pcidev

// The device system calls: device_info, device_config, dma_alloc, dma_free. Every refusal
// is EPERM with an audit line, but for malformed arguments (EINVAL).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/iommu"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// mine returns the caller's device, or nil (and the audit line) when it has none.
//
//go:nosplit
func mine(c task.Call, what string) *owned {
	o := devices.Of(c.Task())
	if !o.used {
		deny(c.Task(), what, "its policy grants it no device")
		return nil
	}
	return o
}

// SysInfo is device_info(buf, size): the caller's device, as an abi.DeviceInfo.
//
//go:nosplit
func SysInfo(c task.Call) task.Result {
	if c.Size(1) < abi.DeviceInfoSize {
		return task.Err(abi.EINVAL)
	}
	o := mine(c, "device_info")
	if o == nil {
		return task.Err(abi.EPERM)
	}
	info := o.spec.Info
	info.DMAQuota = uint64(o.spec.DMAPages) * mm.PageSize
	if d := o.dom(); d != nil {
		info.DMAUsed = uint64(d.Pages()) * mm.PageSize
	}
	if !c.Space().CopyOut(c.Ptr(0), uintptr(unsafe.Pointer(&info)), abi.DeviceInfoSize) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(0)
}

// SysConfig is device_config(offset, width, value, write): a read (write 0) returns the
// register; a write is done only where the driver may write.
//
//go:nosplit
func SysConfig(c task.Call) task.Result {
	off, width, value, write := c.Arg(0), c.Arg(1), c.Arg(2), c.Arg(3)
	if (width != 1 && width != 2 && width != 4) || off >= 4096 || off&(width-1) != 0 || write > 1 {
		return task.Err(abi.EINVAL)
	}
	o := mine(c, "device_config")
	if o == nil {
		return task.Err(abi.EPERM)
	}
	shift := (off & 3) * 8
	mask := uint32(1<<(width*8) - 1)
	if width == 4 {
		mask = ^uint32(0)
	}
	cur := read32(o.spec.Source, uintptr(off))
	if write == 0 {
		return task.Ret(int64(cur >> shift & mask))
	}
	if !mayWrite(o, off, width, uint32(value)) {
		deny(c.Task(), "device_config write", "a register the core keeps (BARs, MSI/MSI-X, header)")
		return task.Err(abi.EPERM)
	}
	v := cur&^(mask<<shift) | (uint32(value)&mask)<<shift
	if off&^3 == 4 {
		v &^= 0xffff_0000 // status bits are write-1-to-clear: never clear them by accident
	}
	write32(o.spec.Source, uintptr(off), v)
	return task.Ret(0)
}

// mayWrite reports whether a driver may write width bytes at off: in the command register,
// changes to the I/O, memory, bus-master and INTx-disable bits only (bus mastering only with
// an IOMMU domain; other bits must be written as they are); and registers inside
// vendor-specific capabilities (virtio's configuration windows).
//
//go:nosplit
func mayWrite(o *owned, off, width uint64, value uint32) bool {
	if off == 4 && (width == 2 || width == 4) {
		allowed := uint32(cmdIO | cmdMemory | cmdINTxOff)
		if o.dom() != nil {
			allowed |= cmdBusMaster
		}
		changed := (value ^ read32(o.spec.Source, 4)) & 0xffff
		return changed&^allowed == 0
	}
	if off < 0x40 {
		return false
	}
	// Walk the capability list: the write must fall inside one vendor-specific capability.
	p := uintptr(read32(o.spec.Source, 0x34) & 0xfc)
	for i := 0; i < 48 && p >= 0x40; i++ {
		hdr := read32(o.spec.Source, p)
		if uint8(hdr) == 0x09 {
			length := uint64(hdr >> 16 & 0xff)
			if off >= uint64(p)+4 && off+width <= uint64(p)+length {
				return true
			}
		}
		p = uintptr(hdr >> 8 & 0xfc)
	}
	return false
}

// SysDMAAlloc is dma_alloc(length, iova *uint64): length bytes (whole pages) of DMA memory,
// mapped in the caller's DMA window and in its device's domain; it returns the address and
// writes the IO virtual address through iova.
//
//go:nosplit
func SysDMAAlloc(c task.Call) task.Result {
	n := c.Arg(0)
	if n == 0 || n&(mm.PageSize-1) != 0 || n > iommu.MaxDMAPages*mm.PageSize {
		return task.Err(abi.EINVAL)
	}
	o := mine(c, "dma_alloc")
	if o == nil {
		return task.Err(abi.EPERM)
	}
	d := o.dom()
	if d == nil {
		deny(c.Task(), "dma_alloc", "no IOMMU domain: DMA is not confined, so none is given")
		return task.Err(abi.EPERM)
	}
	if o.spec.DMAPages == 0 {
		deny(c.Task(), "dma_alloc", "its policy grants it no DMA memory (dma)")
		return task.Err(abi.EPERM)
	}
	pages := int(n / mm.PageSize)
	if d.Pages()+pages > o.spec.DMAPages {
		deny(c.Task(), "dma_alloc", "over its policy's dma quota")
		return task.Err(abi.ENOMEM)
	}
	as := c.Space()
	iova, first, ok := d.Alloc(pages, as, mm.DMAWindow)
	if !ok {
		return task.Err(abi.ENOMEM)
	}
	va := mm.DMAWindow + uintptr(first)*mm.PageSize
	if !as.AddRegion(va, va+uintptr(n), mm.ProtRead|mm.ProtWrite, mm.KindDevice) || !as.Write64(c.Ptr(1), iova) {
		d.Free(first, pages, as, mm.DMAWindow)
		as.Carve(va, va+uintptr(n))
		return task.Err(abi.EFAULT)
	}
	return task.Ret(int64(va))
}

// SysDMAFree is dma_free(address, length): the pages leave the device's domain (the IOTLB
// flushed) and the caller's space, and are freed.
//
//go:nosplit
func SysDMAFree(c task.Call) task.Result {
	va, n := c.Ptr(0), c.Arg(1)
	if n == 0 || n&(mm.PageSize-1) != 0 || va&(mm.PageSize-1) != 0 || va < mm.DMAWindow ||
		va+uintptr(n) > mm.DMAWindow+iommu.MaxDMAPages*mm.PageSize || va+uintptr(n) < va {
		return task.Err(abi.EINVAL)
	}
	o := mine(c, "dma_free")
	if o == nil || o.dom() == nil {
		return task.Err(abi.EPERM)
	}
	as := c.Space()
	if !o.dom().Free(int((va-mm.DMAWindow)/mm.PageSize), int(n/mm.PageSize), as, mm.DMAWindow) {
		return task.Err(abi.EINVAL)
	}
	as.Carve(va, va+uintptr(n))
	return task.Ret(0)
}

// deny writes the audit line of a refused device request.
//
//go:nosplit
func deny(t *task.Task, what, why string) {
	if !console.AuditHead(t) {
		return
	}
	console.Puts(what)
	console.Puts(": ")
	console.Puts(why)
	console.Putc('\n')
}

// putSource writes a device's bus:device.function.
//
//go:nosplit
func putSource(s uint16) {
	console.Putc(arch.HexDigits[s>>12&0xf])
	console.Putc(arch.HexDigits[s>>8&0xf])
	console.Putc(':')
	console.Putc(arch.HexDigits[s>>7&1])
	console.Putc(arch.HexDigits[s>>3&0xf])
	console.Putc('.')
	console.Putc(arch.HexDigits[s&7])
}
