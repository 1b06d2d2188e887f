// Package iommu is the core's Intel VT-d DMA remapping: every PCI device a driver owns gets a
// domain — its own second-level page table — and a device may reach only the pages mapped
// there, at the IO virtual addresses (IOVAs) the core chose. A device with no domain reaches
// nothing: its context entry is absent and the IOMMU blocks and records each access. The
// core's memory and other tasks' memory are never in any domain: a domain maps only frames
// that dma_alloc took for that driver.
//
// The tables: a root table (one entry per bus) points at context tables (one entry per
// device/function); a present context entry names the device's domain (DID) and its page
// table. Changes are made visible by invalidating the context cache and the IOTLB through
// the unit's registers (register-based invalidation).
//
// Init runs at boot in goroutine context; everything else runs in trap context: nosplit, no
// allocation, no heap pointer writes.
package iommu

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// Registers of a remapping unit (VT-d specification, chapter 11).
const (
	regVersion  = 0x00
	regCap      = 0x08
	regExtCap   = 0x10
	regGlobCmd  = 0x18
	regGlobSts  = 0x1c
	regRootAddr = 0x20
	regCtxCmd   = 0x28
	regFaultSts = 0x34
	regFaultCtl = 0x38
	regFaultDat = 0x3c
	regFaultAdr = 0x40
	regFaultUpr = 0x44
)

// Global command and status bits.
const (
	gcmdTE   = 1 << 31 // translation enable
	gcmdSRTP = 1 << 30 // set root table pointer
	// gstsKeep are the status bits that are states (not one-shot commands): what a write of
	// the command register must repeat so as not to turn them off.
	gstsKeep = 0x96ff_ffff
)

const (
	ctxInvalidate = 1 << 63 // CCMD.ICC
	ctxGlobal     = 1 << 61 // CCMD.CIRG = 01
	tlbInvalidate = 1 << 63 // IOTLB.IVT
	tlbDomain     = 2 << 60 // IOTLB.IIRG = 10: one domain
	tlbGlobal     = 1 << 60 // IOTLB.IIRG = 01
	tlbDrainAll   = 3 << 48 // drain reads and writes first
)

// unit is the one remapping unit the core drives (QEMU's q35 has one, covering every device).
var unit struct {
	regs    uintptr // its registers, identity-mapped uncached
	on      bool
	root    uint64 // root table frame
	levels  int    // second-level page-table levels: 3 (39-bit) or 4 (48-bit)
	aw      uint64 // context entry address-width field
	iotlb   uintptr
	faults  uintptr // first fault-recording register
	nfaults int
	caching bool // CAP.CM: not-present entries may be cached too
	domains uint64
	fixed   uint64 // IOVA top the page table covers
	blocked uint64 // DMA faults recorded
	vector  int
	flushes uint64 // invalidations issued
	// identity: there is no unit and the core hands out DMA memory anyway (dma=unconfined):
	// domains keep their tables as a record of the driver's frames, and IOVAs are physical
	// addresses. Never together with on.
	identity bool
}

// UseIdentity makes domains work without a remapping unit: Attach gives a device a domain
// that confines nothing, and Alloc hands out physically consecutive pages at IOVA = physical
// address. For measuring what the IOMMU costs (dma=unconfined), on a machine whose unit is off
// or absent; it reports false if the unit is on. Boot, before any driver starts.
func UseIdentity() bool {
	if unit.on {
		return false
	}
	unit.identity, unit.levels = true, 3 // 3 levels cover the MaxDMAPages IOVA pages of the record
	if unit.root == 0 {
		root, ok := mm.AllocFrame() // an empty root table: contextEntry finds nothing in it
		if !ok {
			unit.identity = false
			return false
		}
		unit.root = root
	}
	return true
}

// Identity reports whether domains are identity records (UseIdentity).
//
//go:nosplit
func Identity() bool { return unit.identity }

// Enabled reports whether DMA remapping is on.
//
//go:nosplit
func Enabled() bool { return unit.on }

// Blocked returns how many blocked DMA accesses the unit has reported.
//
//go:nosplit
func Blocked() uint64 { return unit.blocked }

//go:nosplit
func load32(reg uintptr) uint32 { return arch.Load32(unit.regs + reg) }

//go:nosplit
func store32(reg uintptr, v uint32) { arch.Store32(unit.regs+reg, v) }

//go:nosplit
func load64(reg uintptr) uint64 { return arch.Load64(unit.regs + reg) }

//go:nosplit
func store64(reg uintptr, v uint64) { arch.Store64(unit.regs+reg, v) }

// command sets one global command bit and waits until the status shows it (the unit may
// take its time: TCG does it at once, hardware within microseconds).
//
//go:nosplit
func command(bit uint32) bool {
	store32(regGlobCmd, load32(regGlobSts)&gstsKeep|bit)
	for i := 0; i < 1_000_000; i++ {
		if load32(regGlobSts)&bit != 0 {
			return true
		}
	}
	return false
}

// Init takes over the unit whose registers are mapped at regs: it builds an empty root
// table, installs it, invalidates the caches and turns translation on, so that from then on
// no device reaches memory without a domain. vector is the interrupt the unit raises when it
// records a fault. It returns a message on failure (the unit stays off).
func Init(regs uintptr, vector int) string {
	unit.regs = regs
	capReg, ecap := load64(regCap), load64(regExtCap)
	switch sagaw := capReg >> 8 & 0x1f; {
	case sagaw&2 != 0:
		unit.levels, unit.aw = 3, 1
	case sagaw&4 != 0:
		unit.levels, unit.aw = 4, 2
	default:
		return "no supported page-table depth (SAGAW)"
	}
	unit.caching = capReg&(1<<7) != 0
	unit.domains = 1 << (4 + 2*(capReg&7))
	unit.iotlb = uintptr(ecap>>8&0x3ff) * 16
	unit.faults = uintptr(capReg>>24&0x3ff) * 16
	unit.nfaults = int(capReg>>40&0xff) + 1
	root, ok := mm.AllocFrame()
	if !ok {
		return "no memory for the root table"
	}
	unit.root = root
	store64(regRootAddr, root)
	if !command(gcmdSRTP) {
		return "the unit did not take the root table"
	}
	invalidateAll()
	// Fault events: an MSI to this CPU's local APIC with the given vector.
	unit.vector = vector
	store32(regFaultDat, uint32(vector))
	store32(regFaultAdr, 0xfee0_0000)
	store32(regFaultUpr, 0)
	store32(regFaultCtl, 0) // unmasked
	if !command(gcmdTE) {
		return "the unit did not turn translation on"
	}
	unit.on = true
	return ""
}

// Describe returns the unit's version, page-table depth and fault registers for the boot line.
func Describe() (version uint32, levels, faultRecords int, caching bool) {
	return load32(regVersion), unit.levels, unit.nfaults, unit.caching
}

// invalidateAll flushes the context cache and the whole IOTLB.
//
//go:nosplit
func invalidateAll() {
	unit.flushes++
	if hosted || unit.identity {
		return
	}
	store64(regCtxCmd, ctxInvalidate|ctxGlobal)
	for i := 0; i < 1_000_000 && load64(regCtxCmd)&ctxInvalidate != 0; i++ {
	}
	flushIOTLB(tlbGlobal)
}

// flushDomain drops domain did's translations from the IOTLB.
//
//go:nosplit
func flushDomain(did uint16) { flushIOTLB(tlbDomain | uint64(did)<<32) }

//go:nosplit
func flushIOTLB(cmd uint64) {
	unit.flushes++
	if hosted || unit.identity {
		return
	}
	reg := unit.iotlb + 8
	store64(reg, tlbInvalidate|tlbDrainAll|cmd)
	for i := 0; i < 1_000_000 && load64(reg)&tlbInvalidate != 0; i++ {
	}
}
