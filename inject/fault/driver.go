package fault

// Driver classes: faults of a device driver that only the driver can commit, because they
// are about its device — what it tells the device to do. They are not executed by Inject:
// Arm hands the Spec back to the driver (tier1/blk), which commits the fault in its own
// request path after the delay; the core's monolithic runner does the same to the driver
// it runs in ring 0.
const (
	// DMAWild points the data descriptors of the next read request at Targets.CoreAddr, the
	// physical address of a canary page the core keeps outside every DMA allocation: the
	// device is told to write a sector into memory its driver was never given.
	DMAWild = "dma-wild"
	// DMAStale allocates a DMA buffer, frees it, and points the next read request's data
	// descriptors at its I/O address: a use after free by the device.
	DMAStale = "dma-stale"
	// DeviceHang makes the device stop completing requests. QEMU's device cannot be made to
	// hang, so the driver withholds the doorbell of its next request: to the driver that is
	// indistinguishable from a device that never answers.
	DeviceHang = "device-hang"
	// CrashMidWrite dereferences nil while a write is in flight: after the device completed
	// it and before the driver answered it.
	CrashMidWrite = "crash-mid-write"
)

var driverClasses = [...]string{DMAWild, DMAStale, DeviceHang, CrashMidWrite}

// DriverClasses returns the driver classes, in order.
func DriverClasses() []string { return append([]string(nil), driverClasses[:]...) }

// IsDriver reports whether class is a driver class: committed by the driver itself in its
// request path, not by Inject.
func IsDriver(class string) bool {
	for _, c := range driverClasses {
		if c == class {
			return true
		}
	}
	return false
}
