package main

// The device interface, attacked by the driver that owns the device (device) and by tasks
// that own none (device-none). A driver owning the disk tries to take what its grant does not
// give: the MSI-X table's BAR, the BARs and the MSI-X control through configuration space, bus
// mastering's neighbours, DMA memory past its quota, its DMA window as a system-call buffer or
// unmapped from under the core, frees of memory that is not DMA memory; and four threads race
// dma_alloc and dma_free while the task ends under them (the core must free every frame once,
// and keep its domain consistent).

import (
	"sync"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

const dmaWindow = 0x7d80_0000_0000

func devConfig(off, width, value, write uintptr) (uintptr, syscall.Errno) {
	r, _, e := syscall.RawSyscall6(abi.SysDeviceConfig, off, width, value, write, 0, 0)
	return r, e
}

func dmaAlloc(n uintptr) (uintptr, uint64, syscall.Errno) {
	var iova uint64
	r, _, e := syscall.RawSyscall(abi.SysDMAAlloc, n, uintptr(unsafe.Pointer(&iova)), 0)
	return r, iova, e
}

// refused runs one step that the core must refuse with want.
func refused(what string, want syscall.Errno, e syscall.Errno) {
	switch e {
	case want:
		say("device: %s: %v", what, e)
	case 0:
		breach("device: %s succeeded", what)
	default:
		say("device: %s: %v (expected %v)", what, e, want)
		failed = true
	}
}

func device(args []string) {
	var info abi.DeviceInfo
	if _, _, e := syscall.RawSyscall(abi.SysDeviceInfo, uintptr(unsafe.Pointer(&info)), abi.DeviceInfoSize, 0); e != 0 {
		say("device: device_info: %v", e)
		failed = true
		return
	}
	say("device: %04x:%04x, DMA quota %d KiB", info.Vendor, info.Device, info.DMAQuota>>10)

	// The MSI-X table lives in a BAR the driver is not given: mapping it is refused.
	lo, _ := devConfig(0x14, 4, 0, 0) // BAR1 of a virtio-pci function: its MSI-X table
	_, _, e := syscall.RawSyscall(abi.SysMMIOMap, lo&^0xf, 4096, 0)
	refused("mmio_map of the MSI-X table's BAR", syscall.EPERM, e)

	// Configuration space: BARs, MSI-X control, the capability pointer, SERR: the core's.
	_, e = devConfig(0x20, 4, 0x1000, 1)
	refused("moving BAR4", syscall.EPERM, e)
	msix := findCap(0x11)
	_, e = devConfig(uintptr(msix)+2, 2, 0, 1)
	refused("turning MSI-X off", syscall.EPERM, e)
	_, e = devConfig(0x34, 1, 0x40, 1)
	refused("rewriting the capability pointer", syscall.EPERM, e)
	cmd, _ := devConfig(4, 2, 0, 0)
	_, e = devConfig(4, 2, cmd^0x100, 1)
	refused("flipping SERR#", syscall.EPERM, e)
	_, e = devConfig(4096, 4, 0, 0)
	refused("reading past configuration space", syscall.EINVAL, e)

	// DMA memory: the quota holds, and the window is the core's to manage.
	quota := uintptr(info.DMAQuota)
	_, _, e = dmaAlloc(quota + 4096)
	refused("dma_alloc past the quota", syscall.ENOMEM, e)
	va, iova, e := dmaAlloc(4096)
	if e != 0 {
		say("device: dma_alloc: %v", e)
		failed = true
		return
	}
	say("device: one page at %#x, IO address %#x", va, iova)
	_, _, e = syscall.RawSyscall(syscall.SYS_WRITE, 1, va, 16)
	refused("DMA memory as write's buffer", syscall.EFAULT, e)
	_, _, e = syscall.RawSyscall(syscall.SYS_MUNMAP, va, 4096, 0)
	refused("munmap of DMA memory", syscall.EINVAL, e)
	_, _, e = syscall.RawSyscall(syscall.SYS_MPROTECT, va, 4096, syscall.PROT_READ)
	refused("mprotect of DMA memory", syscall.EACCES, e)
	var heap [8192]byte
	_, _, e = syscall.RawSyscall(abi.SysDMAFree, uintptr(unsafe.Pointer(&heap[0]))&^4095, 4096, 0)
	refused("dma_free of ordinary memory", syscall.EINVAL, e)
	_, _, e = syscall.RawSyscall(abi.SysDMAFree, va+4096, 4096, 0)
	refused("dma_free of a page never allocated", syscall.EINVAL, e)
	if _, _, e = syscall.RawSyscall(abi.SysDMAFree, va, 4096, 0); e != 0 {
		say("device: dma_free: %v", e)
		failed = true
	}
	_, _, e = syscall.RawSyscall(abi.SysDMAFree, va, 4096, 0)
	refused("dma_free twice", syscall.EINVAL, e)

	// Four threads race allocations and frees of the whole quota; the task exits under them.
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				va, _, e := dmaAlloc(quota / 4)
				if e == 0 && j%3 != 0 {
					syscall.RawSyscall(abi.SysDMAFree, va, quota/4, 0)
				}
				syscall.RawSyscall(abi.SysDMAFree, dmaWindow+uintptr(j%64)*4096, 4096, 0)
			}
		}()
	}
	wg.Wait()
	say("device: raced 800 allocations; exiting with DMA memory held")
}

// findCap returns the offset of capability id in the device's list, or 0.
func findCap(id uintptr) uintptr {
	p, _ := devConfig(0x34, 1, 0, 0)
	for i := 0; i < 48 && p >= 0x40; i++ {
		hdr, _ := devConfig(p&^3, 4, 0, 0)
		if hdr&0xff == id {
			return p
		}
		p = hdr >> 8 & 0xfc
	}
	return 0
}

// deviceNone: a task whose policy names no device.
func deviceNone(args []string) {
	var info abi.DeviceInfo
	_, _, e := syscall.RawSyscall(abi.SysDeviceInfo, uintptr(unsafe.Pointer(&info)), abi.DeviceInfoSize, 0)
	refused("device_info", syscall.EPERM, e)
	_, e = devConfig(0, 4, 0, 0)
	refused("device_config read", syscall.EPERM, e)
	_, e = devConfig(4, 2, 6, 1)
	refused("device_config write", syscall.EPERM, e)
	_, _, e = dmaAlloc(4096)
	refused("dma_alloc", syscall.EPERM, e)
	_, _, e = syscall.RawSyscall(abi.SysDMAFree, dmaWindow, 4096, 0)
	refused("dma_free", syscall.EPERM, e)
}
