package main

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/tier1/blk/virtio"
)

// SimpleOS's device system calls (abi/device.go).
const (
	sysDeviceInfo   = abi.SysDeviceInfo
	sysDeviceConfig = abi.SysDeviceConfig
	sysMMIOMap      = abi.SysMMIOMap
	sysDMAAlloc     = abi.SysDMAAlloc
	sysDMAFree      = abi.SysDMAFree
	sysNotifyWait   = abi.SysNotifyWait
)

const pageSize = 4096

// platform is virtio.Platform for a ring-1 task: the device its policy grants, through the
// core.
type platform struct {
	info abi.DeviceInfo
	dma  map[uintptr]uintptr // address of each allocation → its length
}

// newPlatform asks the core for the caller's device.
func newPlatform() (*platform, error) {
	p := &platform{dma: map[uintptr]uintptr{}}
	_, _, e := syscall.Syscall(sysDeviceInfo, uintptr(unsafe.Pointer(&p.info)), abi.DeviceInfoSize, 0)
	if e != 0 {
		return nil, fmt.Errorf("device_info: %w", e)
	}
	return p, nil
}

func (p *platform) String() string {
	i := p.info
	irq := "no interrupt"
	if i.IRQBit != abi.NoIRQ {
		irq = fmt.Sprintf("MSI-X (%d vectors) as notification bit %d", i.MSIXVectors, i.IRQBit)
	}
	return fmt.Sprintf("%02x:%02x.%d %04x:%04x, %s, DMA quota %d KiB",
		i.Slot>>8, i.Slot>>3&0x1f, i.Slot&7, i.Vendor, i.Device, irq, i.DMAQuota>>10)
}

func (p *platform) ConfigRead(off, width int) (uint32, error) {
	v, _, e := syscall.Syscall6(sysDeviceConfig, uintptr(off), uintptr(width), 0, 0, 0, 0)
	if e != 0 {
		return 0, fmt.Errorf("device_config read %d@%#x: %w", width, off, e)
	}
	return uint32(v), nil
}

func (p *platform) ConfigWrite(off, width int, v uint32) error {
	_, _, e := syscall.Syscall6(sysDeviceConfig, uintptr(off), uintptr(width), uintptr(v), 1, 0, 0)
	if e != 0 {
		return fmt.Errorf("device_config write %d@%#x: %w", width, off, e)
	}
	return nil
}

func (p *platform) MapBAR(bar int) (virtio.Region, error) {
	if bar < 0 || bar >= abi.DeviceBARs {
		return nil, fmt.Errorf("no BAR %d", bar)
	}
	b := p.info.BARs[bar]
	if b.Size == 0 || b.Size > 1<<30 {
		return nil, fmt.Errorf("BAR %d is not a memory BAR the driver may map (size %#x)", bar, b.Size)
	}
	addr, _, e := syscall.Syscall(sysMMIOMap, uintptr(b.Phys), uintptr(b.Size), 0)
	if e != 0 {
		return nil, fmt.Errorf("mmio_map BAR %d (%#x+%#x): %w", bar, b.Phys, b.Size, e)
	}
	return virtio.NewMMIO(addr, int(b.Size)), nil
}

func (p *platform) DMAAlloc(n int) ([]byte, uint64, error) {
	if n <= 0 {
		return nil, 0, fmt.Errorf("dma_alloc of %d bytes", n)
	}
	size := uintptr(n+pageSize-1) &^ (pageSize - 1)
	var iova uint64
	addr, _, e := syscall.Syscall(sysDMAAlloc, size, uintptr(unsafe.Pointer(&iova)), 0)
	if e != 0 {
		return nil, 0, fmt.Errorf("dma_alloc %d bytes: %w", size, e)
	}
	p.dma[addr] = size
	return unsafe.Slice((*byte)(pointer(addr)), size)[:n:n], iova, nil
}

func (p *platform) DMAFree(buf []byte) error {
	if len(buf) == 0 {
		return fmt.Errorf("dma_free of nothing")
	}
	addr := uintptr(unsafe.Pointer(&buf[0]))
	size, ok := p.dma[addr]
	if !ok {
		return fmt.Errorf("dma_free of %#x: not an allocation", addr)
	}
	if _, _, e := syscall.Syscall(sysDMAFree, addr, size, 0); e != 0 {
		return fmt.Errorf("dma_free %#x+%#x: %w", addr, size, e)
	}
	delete(p.dma, addr)
	return nil
}

// WaitInterrupt waits for the device's notification bit. notify_wait's timeout 1 means "do
// not wait", so a shorter wait is rounded up to 2 ns.
func (p *platform) WaitInterrupt(timeout time.Duration) (bool, error) {
	if p.info.IRQBit >= 64 {
		time.Sleep(timeout) // no interrupt: the driver polls
		return false, nil
	}
	mask := uint64(1) << p.info.IRQBit
	bits, _, e := syscall.Syscall(sysNotifyWait, uintptr(mask), uintptr(max(timeout, 2)), 0)
	switch e {
	case 0:
		return uint64(bits)&mask != 0, nil
	case syscall.ETIMEDOUT, syscall.EINTR:
		return false, nil
	}
	return false, fmt.Errorf("notify_wait: %w", e)
}

// pointer turns an address the core mapped for the task into a pointer (it is not Go memory).
func pointer(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }
