package kernel

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// Device memory for drivers: a ring-1 task maps a physical range its policy module grants
// (memory LO-HI) into its address space, uncached, with mmio_map(phys, length). Anything else
// is EPERM and an audit line. The frames are not the task's: they are not freed with it.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const maxMMIO = 4

// mmioGrants[p] lists process p's granted physical ranges [lo, hi).
var mmioGrants [maxProcs]struct {
	lo, hi [maxMMIO]uint64
	n      int
	next   uintptr // next free address in the window
}

// sysMMIOMap(phys, length) maps granted device memory and returns its address.
//
//go:nosplit
func sysMMIOMap(tf *arch.TrapFrame) int64 {
	phys, n := tf.RDI, tf.RSI
	p := int(cur().proc)
	g := &mmioGrants[p&(maxProcs-1)]
	if phys&(mm.PageSize-1) != 0 || n == 0 || n&(mm.PageSize-1) != 0 || phys+n < phys {
		return -abi.EINVAL
	}
	allowed := false
	for i := 0; i < g.n && i < maxMMIO; i++ {
		if phys >= g.lo[i] && phys+n <= g.hi[i] {
			allowed = true
		}
	}
	if !allowed || curProc().ring != 1 {
		auditMMIO(phys)
		return -abi.EPERM
	}
	va := uintptr(mm.MMIOWindow) + g.next
	if !curSpace().MapDevice(va, phys, n) {
		return -abi.ENOMEM
	}
	g.next += uintptr(n)
	return int64(va)
}

// auditMMIO writes the audit line of a refused device-memory request.
//
//go:nosplit
func auditMMIO(phys uint64) {
	if !auditHead() {
		return
	}
	kputs("map device memory at 0x")
	for shift := 60; shift >= 0; shift -= 4 {
		kputc(arch.HexDigits[(phys>>uint(shift))&0xf])
	}
	kputs(": not in its policy 'memory' list\n")
}
