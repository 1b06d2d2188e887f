package abi

// Devices: the PCI device a ring-1 driver's policy grants it (`device VENDOR:DEVICE` or
// `device BB:DD.F`, with `dma BYTES`), as device_info returns it.

// DeviceBARs is the number of base address registers of a PCI function.
const DeviceBARs = 6

// NoIRQ is DeviceInfo.IRQBit when the core delivers no interrupt of the device.
const NoIRQ = ^uint32(0)

// DeviceBAR is one memory BAR the driver may map with mmio_map. Size 0: not a memory BAR, or
// one the core keeps (the MSI-X table's).
type DeviceBAR struct {
	Phys uint64
	Size uint64
}

// DeviceInfo describes the caller's device. Slot is bus<<8 | device<<3 | function. The core
// programs every MSI-X entry of the device itself (the table's BAR is never the driver's):
// each delivers notification bit IRQBit. DMAQuota is what dma_alloc may hold at once, in
// bytes; DMAUsed what it holds now.
type DeviceInfo struct {
	Slot        uint32
	Vendor      uint16
	Device      uint16
	Class       uint32 // class<<16 | subclass<<8 | prog-if
	IRQBit      uint32
	MSIXVectors uint32
	_           uint32
	BARs        [DeviceBARs]DeviceBAR
	DMAQuota    uint64
	DMAUsed     uint64
}

// DeviceInfoSize is the size of a DeviceInfo in bytes: what device_info copies out.
const DeviceInfoSize = 24 + DeviceBARs*16 + 16

// GrantWrite, or'd into Message.GrantPages, lends the pages writable: the server may write
// into them (a block driver's read). The lender's pages must be writable.
const GrantWrite = 1 << 63
