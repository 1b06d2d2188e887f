package virtio

import "time"

// Platform is how the driver reaches its device. The ring-1 task implements it with SimpleOS's
// device system calls (tier1/blk); the core can implement it with its own PCI and IOMMU code to
// run the same driver in ring 0 (the monolithic comparison); the tests implement it with a
// model of a virtio-blk device in memory.
type Platform interface {
	// ConfigRead and ConfigWrite access the device's PCI configuration space: width 1, 2 or 4
	// bytes at off.
	ConfigRead(off, width int) (uint32, error)
	ConfigWrite(off, width int, v uint32) error
	// MapBAR maps the registers of memory BAR bar (0-5).
	MapBAR(bar int) (Region, error)
	// DMAAlloc returns n bytes of zeroed memory the device can reach at I/O virtual address
	// iova (contiguous in the device's address space); DMAFree gives it back.
	DMAAlloc(n int) (buf []byte, iova uint64, err error)
	DMAFree(buf []byte) error
	// WaitInterrupt waits up to timeout for the device's interrupt and reports whether it came.
	// A false return without error is a timeout; spurious returns are harmless.
	WaitInterrupt(timeout time.Duration) (bool, error)
}
