package main

// The machine's hardware, found at boot: ACPI tables (RSDP -> XSDT/RSDT -> MCFG, MADT, DMAR),
// PCI functions through ECAM (one line each), and the VT-d unit, which the core turns on
// before any driver runs so that no device reaches memory outside its driver's domain.
//
// Without an MCFG there is no PCI (and no device a policy can grant); without a DMAR there is
// no IOMMU, and drivers get their devices but no DMA memory: their DMA could not be confined.
// iommu=off on the command line leaves the unit off (to measure what it costs); dma=unconfined
// then (or on a machine without one) gives drivers DMA memory that nothing confines.

import (
	"fmt"

	"github.com/simpleos/simpleos/core/acpi"
	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/pci"
	"github.com/simpleos/simpleos/policy"
)

// maxECAMBuses bounds the buses whose configuration space the core maps (1 MiB each).
const maxECAMBuses = 8

// machine is what the core found.
type machine struct {
	tables  *acpi.Tables
	ecam    *acpi.ECAM
	devices []pci.Device
	config  pci.Config
	iommu   bool
	unit    *acpi.DRHD // the remapping unit, when on
}

var hw machine

// discoverHardware reads the ACPI tables, enumerates PCI and starts the IOMMU, printing one
// line for each. A machine without ACPI or PCI is not an error: it has no devices to grant.
func discoverHardware(args map[string]string) {
	mem := kernel.PhysMemory{}
	rsdp, err := acpi.FindRSDP(mem)
	if err != nil {
		fmt.Printf("acpi: %v: no PCI devices, no IOMMU\n", err)
		return
	}
	t, err := acpi.Parse(mem, rsdp)
	if err != nil {
		fmt.Printf("acpi: %v: no PCI devices, no IOMMU\n", err)
		return
	}
	hw.tables = t
	fmt.Println(t.String())
	if len(t.MCFG) == 0 {
		fmt.Println("pci: no MCFG table: no PCI devices")
	} else if err := enumeratePCI(t.MCFG[0]); err != nil {
		fmt.Printf("pci: %v\n", err)
	}
	switch {
	case t.DMAR == nil || len(t.DMAR.DRHDs) == 0:
		noIOMMU("none (no DMAR table)", args)
	case args["iommu"] == "off":
		noIOMMU("off (iommu=off)", args)
	default:
		startIOMMU(t.DMAR)
	}
}

// noIOMMU says what drivers get without an IOMMU: no DMA memory, unless dma=unconfined asks
// for it at physical addresses (to measure what the IOMMU costs: nothing confines the device).
func noIOMMU(why string, args map[string]string) {
	if args["dma"] != "unconfined" {
		fmt.Printf("iommu: %s: drivers get no DMA memory\n", why)
		return
	}
	if err := kernel.UnconfinedDMA(); err != nil {
		fmt.Printf("%v: drivers get no DMA memory\n", err)
		return
	}
	fmt.Printf("iommu: %s; dma=unconfined: drivers get DMA memory at physical addresses, NOT confined\n", why)
}

func enumeratePCI(e acpi.ECAM) error {
	end := e.EndBus
	if end-e.StartBus >= maxECAMBuses {
		end = e.StartBus + maxECAMBuses - 1
	}
	size := uint64(end-e.StartBus+1) << 20
	if err := kernel.MapDeviceRegisters(e.Base, size); err != nil {
		return fmt.Errorf("ECAM at %#x: %v", e.Base, err)
	}
	hw.ecam = &e
	kernel.UsePCIConfig(e.Base, e.StartBus, end)
	hw.config = pci.ECAM{Base: uintptr(e.Base), StartBus: e.StartBus, EndBus: end, Load32: arch.Load32, Store32: arch.Store32}
	devs, err := pci.Enumerate(hw.config, e.StartBus, end)
	hw.devices = devs
	for _, d := range devs {
		fmt.Println(d.String())
	}
	fmt.Printf("pci: %d functions on buses %02x-%02x (ECAM %#x)\n", len(devs), e.StartBus, end, e.Base)
	return err
}

func startIOMMU(d *acpi.DMAR) {
	u := d.DRHDs[0]
	if len(d.DRHDs) > 1 || u.Segment != 0 {
		fmt.Printf("iommu: %d remapping units; only one, on segment 0, is supported: left off\n", len(d.DRHDs))
		return
	}
	if err := kernel.MapDeviceRegisters(u.RegBase, 4096); err != nil {
		fmt.Printf("iommu: registers at %#x: %v\n", u.RegBase, err)
		return
	}
	if err := kernel.StartIOMMU(u.RegBase); err != nil {
		fmt.Printf("%v\n", err)
		return
	}
	hw.iommu, hw.unit = true, &u
	_, version, levels, records, _ := kernel.IOMMUState()
	fmt.Printf("iommu: VT-d %d.%d at %#x, DMA remapping on (%d-level tables, %d fault records); every device blocked until its driver has a domain\n",
		version>>4&0xf, version&0xf, u.RegBase, levels, records)
}

// resolveDevice finds the PCI function a policy reference names.
func resolveDevice(r policy.DeviceRef) (uint16, bool) {
	for _, d := range hw.devices {
		if r.BySlot && d.Bus == r.Bus && d.Device == r.Dev && d.Function == r.Fn ||
			!r.BySlot && d.Vendor == r.Vendor && d.DeviceID == r.DeviceID {
			return slotOf(d.BDF), true
		}
	}
	return 0, false
}

func slotOf(b pci.BDF) uint16 { return uint16(b.Bus)<<8 | uint16(b.Device)<<3 | uint16(b.Function) }

// deviceSpec describes function slot for the driver of module mod: its memory BARs (the
// MSI-X table's kept back), its MSI-X table (mapped in the core, which programs it), and the
// module's DMA quota.
func deviceSpec(slot uint16, mod *policy.Module) (*kernel.DeviceSpec, error) {
	var d *pci.Device
	for i := range hw.devices {
		if slotOf(hw.devices[i].BDF) == slot {
			d = &hw.devices[i]
		}
	}
	if d == nil {
		return nil, fmt.Errorf("no PCI function %04x", slot)
	}
	s := &kernel.DeviceSpec{Source: slot, DMAPages: int(mod.DMA / 4096), Confined: hw.iommu && covered(d.BDF)}
	if hw.iommu && !s.Confined {
		fmt.Printf("iommu: %s is outside the remapping unit's scope: its driver gets no DMA memory\n", d.BDF)
	}
	s.Info.Slot = uint32(slot)
	s.Info.Vendor, s.Info.Device = d.Vendor, d.DeviceID
	s.Info.Class = uint32(d.Class)<<16 | uint32(d.Subclass)<<8 | uint32(d.ProgIF)
	s.Info.IRQBit = ^uint32(0)
	for i, b := range d.BARs {
		if b.Size == 0 || b.IO || d.MSIX != nil && (i == d.MSIX.TableBAR || i == d.MSIX.PBABAR) {
			continue
		}
		s.Info.BARs[i].Phys, s.Info.BARs[i].Size = b.Addr, b.Size
	}
	if m := d.MSIX; m != nil {
		bar := d.BARs[m.TableBAR]
		table := bar.Addr + uint64(m.TableOffset)
		page := table &^ 4095
		if err := kernel.MapDeviceRegisters(page, (table+uint64(m.TableSize)*16-page+4095)&^4095); err != nil {
			return nil, fmt.Errorf("%s: MSI-X table: %v", d.BDF, err)
		}
		s.MSIXCap, s.MSIXTable, s.MSIXVectors = m.CapOffset, table, m.TableSize
	}
	return s, nil
}

// giveDevices describes, for each app whose module names a device, the device it drives.
func giveDevices(apps []*app, slots map[string]uint16) error {
	for _, a := range apps {
		if a.module == nil || a.module.Device == nil {
			continue
		}
		slot, ok := slots[a.module.Name]
		if !ok {
			continue
		}
		s, err := deviceSpec(slot, a.module)
		if err != nil {
			return fmt.Errorf("app %s: device %s: %v", a.spec.Name, a.module.Device, err)
		}
		a.device = s
	}
	return nil
}

// covered reports whether the remapping unit translates function b's DMA: it covers every
// device (INCLUDE_PCI_ALL), or lists b as an endpoint, or lists a bridge b is behind.
func covered(b pci.BDF) bool {
	u := hw.unit
	if u == nil {
		return false
	}
	if u.Flags&acpi.DRHDIncludePCIAll != 0 {
		return true
	}
	for _, sc := range u.Scopes {
		if len(sc.Path) != 1 {
			continue // deeper paths (devices behind bridges) are not followed
		}
		p := sc.Path[0]
		switch sc.Type {
		case acpi.ScopePCIEndpoint:
			if b.Bus == sc.StartBus && b.Device == p.Device && b.Function == p.Function {
				return true
			}
		case acpi.ScopePCISubHierarchy:
			if b.Bus > sc.StartBus {
				return true // behind a listed bridge (buses are not followed further)
			}
		}
	}
	return false
}
