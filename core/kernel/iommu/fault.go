package iommu

// Fault reporting: when a device's access is blocked, the unit records the requester, the
// address, read or write and the reason in one of its fault-recording registers and raises
// its fault event interrupt. NextFault reads and clears one record.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// Fault is one blocked DMA access.
type Fault struct {
	Source uint16 // bus<<8 | device<<3 | function
	Addr   uint64 // the IO virtual address (page) it tried to reach
	Write  bool
	Reason uint8 // the VT-d fault reason code
}

// NextFault returns a recorded fault and clears its record; ok=false when none is left.
//
//go:nosplit
func NextFault() (Fault, bool) {
	if !unit.on {
		return Fault{}, false
	}
	for i := 0; i < unit.nfaults; i++ {
		reg := unit.faults + uintptr(i)*16
		hi := load64(reg + 8)
		if hi&(1<<63) == 0 {
			continue
		}
		f := Fault{
			Source: uint16(hi),
			Addr:   load64(reg) &^ 0xfff,
			Write:  hi&(1<<62) == 0,
			Reason: uint8(hi >> 32),
		}
		store32(reg+12, 1<<31) // write 1 to F: the record is free again
		unit.blocked++
		return f, true
	}
	store32(regFaultSts, 1) // clear a primary fault overflow, if any
	return Fault{}, false
}
