// Package mmio is device memory for drivers: a ring-1 task maps a physical range its policy
// module grants (memory LO-HI) into its device window, uncached, with mmio_map(phys, length).
// Anything else is EPERM and an audit line. The frames are not the task's: they are never
// freed with it, and never a system call's buffer (package mm).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.
package mmio

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// windows[t] is the next free address of task t's device window (an offset from
// mm.MMIOWindow).
var windows task.Attached[uintptr]

// Attach gives t an empty window (its start hook).
func Attach(t *task.Task) { *windows.Of(t) = 0 }

// SysMap is mmio_map(phys, length): it maps granted device memory and returns its address.
//
//go:nosplit
func SysMap(c task.Call) task.Result {
	phys, n := c.Arg(0), c.Arg(1)
	if phys&(mm.PageSize-1) != 0 || n == 0 || n&(mm.PageSize-1) != 0 || phys+n < phys {
		return task.Err(abi.EINVAL)
	}
	if c.Task().Ring() != 1 || !c.Task().Grants.MayMap(phys, n) {
		deny(c.Task(), phys)
		return task.Err(abi.EPERM)
	}
	next := windows.Of(c.Task())
	va := uintptr(mm.MMIOWindow) + *next
	if va+uintptr(n) > mm.DMAWindow || !c.Space().MapDevice(va, phys, n) {
		return task.Err(abi.ENOMEM)
	}
	*next += uintptr(n)
	return task.Ret(int64(va))
}

// deny writes the audit line of a refused device-memory request.
//
//go:nosplit
func deny(t *task.Task, phys uint64) {
	if !console.AuditHead(t) {
		return
	}
	console.Puts("map device memory at 0x")
	for shift := 60; shift >= 0; shift -= 4 {
		console.Putc(arch.HexDigits[(phys>>uint(shift))&0xf])
	}
	console.Puts(": not in its policy 'memory' list\n")
}
