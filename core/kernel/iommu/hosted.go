package iommu

// A remapping unit on a host, for tests: the tables live in host memory (mm.UseHostMemory) and
// there are no registers: invalidations are counted, not issued.

import "github.com/simpleos/simpleos/core/kernel/mm"

// hosted says there is no unit behind the tables (UseHostUnit).
var hosted bool

// UseHostUnit starts afresh with an empty root table and levels-level domain tables (3 or 4),
// translation "on". For host tests; never on the machine.
func UseHostUnit(levels int) {
	hosted = true
	domains = [MaxDomains]Domain{}
	root, _ := mm.AllocFrame()
	unit.root, unit.on, unit.levels, unit.aw = root, true, levels, uint64(levels-2)
	unit.flushes, unit.blocked, unit.identity = 0, 0, false
}

// UseHostNoUnit starts afresh with no remapping unit at all (as on a machine without
// intel-iommu): nothing is on until UseIdentity. For host tests.
func UseHostNoUnit() {
	hosted = true
	domains = [MaxDomains]Domain{}
	unit.root, unit.on, unit.levels, unit.aw, unit.identity = 0, false, 0, 0, false
	unit.flushes, unit.blocked = 0, 0
}

// Flushes returns how many invalidations were issued (host tests check that an unmap is
// followed by one).
func Flushes() uint64 { return unit.flushes }
