package pcidev

// Blocked DMA: the IOMMU's fault event interrupt. Each recorded fault is reported with the
// device and the driver that owns it, the device is stopped and the driver is treated as
// faulted (ended; its supervisor restarts it by its rules).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/iommu"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// DMAFaults reports and handles every fault the IOMMU has recorded.
//
//go:nosplit
func DMAFaults() {
	for {
		f, ok := iommu.NextFault()
		if !ok {
			return
		}
		console.LineStart()
		console.Puts("iommu: blocked DMA ")
		if f.Write {
			console.Puts("write")
		} else {
			console.Puts("read")
		}
		console.Puts(" by ")
		putSource(f.Source)
		console.Puts(" to 0x")
		for shift := 44; shift >= 0; shift -= 4 {
			console.Putc(arch.HexDigits[f.Addr>>uint(shift)&0xf])
		}
		console.Puts(" (fault reason 0x")
		console.Putc(arch.HexDigits[f.Reason>>4])
		console.Putc(arch.HexDigits[f.Reason&0xf])
		t := Owner(f.Source)
		if t == nil {
			console.Puts("; no driver owns it)\n")
			continue
		}
		console.Puts("; driver ")
		console.Puts(t.Name())
		console.Puts(", pid ")
		console.PutDec(uint64(t.PID()))
		console.Puts(": faulted)\n")
		quiesce(&devices.Of(t).spec)
		t.MarkEnding(task.Faulted, task.BlockedDMA, 0, task.NoVector, 0, f.Addr)
	}
}
