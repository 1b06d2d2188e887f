// Package pcidev is a ring-1 driver's PCI device: the one function its policy module names
// (`device VENDOR:DEVICE` or `device BB:DD.F`), which the core gives it when it starts and
// takes back when it ends. The driver gets
//
//   - the device's memory BARs, through mmio_map (the MSI-X table's BAR stays the core's);
//   - its interrupts: the core programs every MSI-X entry to raise the driver's notification
//     bit (device_info says which);
//   - its configuration space through device_config, mediated: reads anywhere, writes only to
//     the command register's decode and bus-master bits and to vendor-specific capabilities;
//     BARs, the MSI/MSI-X capabilities and the rest of the header are the core's;
//   - DMA memory through dma_alloc, up to its quota: frames mapped in the driver's space and
//     at IO virtual addresses of the device's IOMMU domain (package iommu). Nothing else is in
//     the domain, so a device it programs to reach anything else is blocked and reported, and
//     the driver is treated as faulted.
//
// When the driver ends, the device stops first (bus mastering and MSI-X off), then its domain
// goes, then the DMA frames are freed: the device never writes into a frame given to
// someone else.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (but Attach and
// SetECAM, which run in goroutine context with interrupts off).
package pcidev

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/iommu"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/notify"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// MSI lines: interrupts the core delivers as notification bits above the I/O APIC's.
const (
	FirstMSILine = 24
	MSILines     = task.MaxIRQs - FirstMSILine
)

// Spec is what the core's boot code found of the device a task's policy names.
type Spec struct {
	Source      uint16 // bus<<8 | device<<3 | function
	Info        abi.DeviceInfo
	MSIXCap     int    // offset of the MSI-X capability, 0 if none
	MSIXTable   uint64 // physical address of the MSI-X table (mapped in the core by the caller)
	MSIXVectors int
	DMAPages    int
	Confined    bool // the IOMMU translates its DMA: only then does it get a domain and DMA memory
}

// owned is the device state of a driver task.
type owned struct {
	used   bool
	spec   Spec
	domain int // iommu.At(domain); -1: none (an index, not a pointer: no write barrier here)
}

var devices task.Attached[owned]

// dom returns the device's IOMMU domain, or nil.
//
//go:nosplit
func (o *owned) dom() *iommu.Domain {
	if !o.used {
		return nil
	}
	return iommu.At(o.domain)
}

var ecam struct {
	base       uintptr
	start, end uint8
}

// SetECAM tells the package where the PCI configuration space is mapped (boot).
func SetECAM(base uintptr, startBus, endBus uint8) {
	ecam.base, ecam.start, ecam.end = base, startBus, endBus
}

// configAddr returns the address of register off of source's configuration space.
//
//go:nosplit
func configAddr(source uint16, off uintptr) (uintptr, bool) {
	bus := uint8(source >> 8)
	if ecam.base == 0 || bus < ecam.start || bus > ecam.end || off >= 4096 {
		return 0, false
	}
	return ecam.base + uintptr(bus-ecam.start)<<20 | uintptr(source&0xff)<<12 | off, true
}

//go:nosplit
func read32(source uint16, off uintptr) uint32 {
	if a, ok := configAddr(source, off&^3); ok {
		return arch.Load32(a)
	}
	return ^uint32(0)
}

//go:nosplit
func write32(source uint16, off uintptr, v uint32) {
	if a, ok := configAddr(source, off&^3); ok {
		arch.Store32(a, v)
	}
}

// PCI command register bits.
const (
	cmdIO        = 1 << 0
	cmdMemory    = 1 << 1
	cmdBusMaster = 1 << 2
	cmdINTxOff   = 1 << 10
)

// quiesce stops the device's DMA and interrupts: bus mastering off, MSI-X disabled.
//
//go:nosplit
func quiesce(s *Spec) {
	cmd := read32(s.Source, 4)
	write32(s.Source, 4, cmd&0xffff&^cmdBusMaster|cmdINTxOff)
	if s.MSIXCap != 0 {
		ctl := read32(s.Source, uintptr(s.MSIXCap))
		write32(s.Source, uintptr(s.MSIXCap), ctl&^(1<<31)|1<<30) // disable, function masked
	}
}

// Attach gives t the device of s: the device is stopped, gets a fresh domain, its MSI-X
// entries are programmed to the line t's notification bit stands for, and its BARs join t's
// device-memory grants. ok=false with a reason when it cannot be had. Goroutine context,
// interrupts off.
func Attach(t *task.Task, s *Spec, line int) (ok bool, why string) {
	for i := 0; i < task.Max; i++ {
		if o := &devices[i]; o.used && o.spec.Source == s.Source {
			return false, "the device is already owned by a running driver"
		}
	}
	if line < FirstMSILine || line >= task.MaxIRQs {
		return false, "no interrupt line is free"
	}
	o := devices.Of(t)
	*o = owned{spec: *s, domain: -1}
	quiesce(&o.spec)
	if iommu.Enabled() && s.Confined || iommu.Identity() { // Identity: dma=unconfined, no unit
		d, ok := iommu.Attach(s.Source, s.DMAPages)
		if !ok {
			return false, "no IOMMU domain (or the DMA quota cannot be promised)"
		}
		o.domain = d.Index()
	}
	o.used = true
	o.spec.Info.IRQBit = abi.NoIRQ
	if s.MSIXCap != 0 && s.MSIXTable != 0 {
		for i := 0; i < s.MSIXVectors; i++ {
			e := uintptr(s.MSIXTable) + uintptr(i)*16
			arch.Store32(e, 0xfee0_0000) // this CPU's local APIC
			arch.Store32(e+4, 0)
			arch.Store32(e+8, uint32(arch.VectorIRQBase+line))
			arch.Store32(e+12, 0) // unmasked
		}
		ctl := read32(s.Source, uintptr(s.MSIXCap))
		write32(s.Source, uintptr(s.MSIXCap), ctl&^(1<<30)|1<<31) // enabled, not masked
		o.spec.Info.IRQBit = uint32(line)
		o.spec.Info.MSIXVectors = uint32(s.MSIXVectors)
		t.Grants.IRQs |= 1 << line
		notify.RouteMSI(t, line)
	}
	g := &t.Grants
	for _, b := range o.spec.Info.BARs {
		if b.Size != 0 && g.NMMIO < task.MaxMMIO {
			g.MMIO[g.NMMIO] = [2]uint64{b.Phys, b.Phys + (b.Size+mm.PageSize-1)&^(mm.PageSize-1)}
			g.NMMIO++
		}
	}
	return true, ""
}

// Owner returns the task that owns device source, or nil.
//
//go:nosplit
func Owner(source uint16) *task.Task {
	for i := 0; i < task.Max; i++ {
		if o := &devices[i]; o.used && o.spec.Source == source {
			return task.Get(int32(i))
		}
	}
	return nil
}

// TaskEnded stops t's device and takes it back: the device first, then the DMA window of
// t's space, then the domain and its frames.
//
//go:nosplit
func TaskEnded(t *task.Task) {
	o := devices.Of(t)
	if !o.used {
		return
	}
	quiesce(&o.spec)
	if as := t.Space(); as != nil && as.Root() != 0 {
		as.UnmapRange(mm.DMAWindow, mm.DMAWindow+iommu.MaxDMAPages*mm.PageSize)
		as.Carve(mm.DMAWindow, mm.DMAWindow+iommu.MaxDMAPages*mm.PageSize)
	}
	if d := o.dom(); d != nil {
		d.Detach()
	}
	*o = owned{domain: -1}
}

// SourceString formats a device as bus:device.function (goroutine context).
func SourceString(s uint16) string {
	const hex = "0123456789abcdef"
	return string([]byte{hex[s>>12&0xf], hex[s>>8&0xf], ':', hex[s>>7&1], hex[s>>3&0xf], '.', hex[s&7]})
}
