package kernel

// The machine's hardware as the core's boot code finds it: physical memory to read ACPI
// tables from, device registers to map, the PCI configuration space and the IOMMU.

import (
	"errors"
	"fmt"

	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/iommu"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/pcidev"
)

// PhysMemory reads physical memory through the direct map: RAM and the BIOS area below 1 MiB,
// never device memory. It implements io.ReaderAt with physical addresses.
type PhysMemory struct{}

// ReadAt copies len(p) bytes from physical address pa.
func (PhysMemory) ReadAt(p []byte, pa int64) (int, error) {
	if pa < 0 || uint64(pa)+uint64(len(p)) > mm.DirectMapEnd || uint64(pa)+uint64(len(p)) < uint64(pa) {
		return 0, fmt.Errorf("physical range %#x+%#x is outside the memory the core maps", pa, len(p))
	}
	for i := range p {
		p[i] = arch.Load8(mm.DirectMap(uint64(pa) + uint64(i)))
	}
	return len(p), nil
}

// MapDeviceRegisters maps n bytes of device registers at phys (page-aligned) into the core's
// address space at the same address, uncached.
func MapDeviceRegisters(phys, n uint64) error {
	if phys&(mm.PageSize-1) != 0 || n == 0 || phys+n < phys {
		return fmt.Errorf("device registers %#x+%#x: not whole pages", phys, n)
	}
	n = (n + mm.PageSize - 1) &^ (mm.PageSize - 1)
	if IsRAM(phys, phys+n) {
		return fmt.Errorf("device registers %#x+%#x: that is RAM", phys, n)
	}
	interruptsOff()
	defer interruptsOn()
	if !mm.MapCoreDevice(phys, n) {
		return fmt.Errorf("device registers %#x+%#x: the range is taken or out of page tables", phys, n)
	}
	return nil
}

// UsePCIConfig tells the kernel where the PCI configuration space (ECAM) of buses
// start..end is mapped (by MapDeviceRegisters).
func UsePCIConfig(base uint64, start, end uint8) {
	pcidev.SetECAM(uintptr(base), start, end)
}

// StartIOMMU takes over the VT-d unit whose registers are mapped at regs and turns DMA
// remapping on: from then on a device reaches only the DMA memory of its driver's domain.
func StartIOMMU(regs uint64) error {
	interruptsOff()
	defer interruptsOn()
	if why := iommu.Init(uintptr(regs), arch.VectorIOMMU); why != "" {
		return errors.New("iommu: " + why)
	}
	return nil
}

// UnconfinedDMA lets drivers have DMA memory on a machine whose IOMMU is absent or off
// (dma=unconfined): physically consecutive pages, the device told their physical addresses.
// Nothing confines the device: for measuring what the IOMMU costs, never for a system that
// trusts its drivers' devices less than the core. It fails if the IOMMU is on.
func UnconfinedDMA() error {
	interruptsOff()
	defer interruptsOn()
	if !iommu.UseIdentity() {
		return errors.New("iommu: dma=unconfined: the IOMMU is on (or no memory for the record)")
	}
	return nil
}

// IOMMUState returns the unit's description and how many DMA accesses it has blocked.
func IOMMUState() (on bool, version uint32, levels, faultRecords int, blocked uint64) {
	if !iommu.Enabled() {
		return false, 0, 0, 0, 0
	}
	version, levels, faultRecords, _ = iommu.Describe()
	return true, version, levels, faultRecords, iommu.Blocked()
}
