package kernel

// What the core's fault-injection runner (core/inject.go) needs from the kernel: who serves
// an endpoint, a task's memory seen through the direct map, and bit flips in a task's image.
// Ordinary goroutine context; interrupts are off around every access to kernel state.

import (
	"unsafe"

	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/x86"
)

// EndpointServer returns the pid of the task serving the endpoint name (0 if none).
func EndpointServer(name string) int {
	x86.Cli()
	defer x86.Sti()
	for i := range endpoints {
		e := &endpoints[i]
		if e.used && e.name.String() == name {
			return int(procs[e.owner&(maxProcs-1)].pid)
		}
	}
	return 0
}

// TaskAddress returns the core's (direct-map) address of task pid's byte at va, faulting the
// page in if it is demand-paged; ok=false if the task has no such readable byte.
func TaskAddress(pid int, va uint64) (uintptr, bool) {
	x86.Cli()
	defer x86.Sti()
	p := procOf(pid)
	if p < 0 {
		return 0, false
	}
	return mm.Space(p).UserPage(uintptr(va), false)
}

// FlipTaskBit flips bit (0-7) of task pid's byte at va, through the direct map: the task's own
// protection (read-only code) does not stop it, as it does not stop a hardware bit flip.
func FlipTaskBit(pid int, va uint64, bit uint) bool {
	x86.Cli()
	defer x86.Sti()
	p := procOf(pid)
	if p < 0 {
		return false
	}
	k, ok := mm.Space(p).UserPage(uintptr(va), false)
	if !ok {
		return false
	}
	arch.Store8(k, arch.Load8(k)^1<<(bit&7))
	return true
}

// TaskWord reads the aligned 64-bit word of task pid at va (ok=false if it has none).
func TaskWord(pid int, va uint64) (uint64, bool) {
	x86.Cli()
	defer x86.Sti()
	p := procOf(pid)
	if p < 0 || va&7 != 0 {
		return 0, false
	}
	k, ok := mm.Space(p).UserPage(uintptr(va), false)
	if !ok {
		return 0, false
	}
	return arch.Load64(k), true
}

// DirectMapAddress is where the core sees physical address pa.
func DirectMapAddress(pa uint64) uintptr { return mm.DirectMap(pa) }

func procOf(pid int) int {
	for p := 1; p < maxProcs; p++ {
		if procs[p].live && int(procs[p].pid) == pid {
			return p
		}
	}
	return -1
}

// ConsoleDriver returns the pid of the attached console driver (0 if none).
func ConsoleDriver() int {
	x86.Cli()
	defer x86.Sti()
	if con.driver == 0 {
		return 0
	}
	return int(procs[(con.driver-1)&(maxProcs-1)].pid)
}

// ConsoleLine writes one line straight to the serial port, on its own line, whatever the
// console driver is doing: for lines a program on the host parses (the fault-injection
// protocol), which must arrive whole even while the driver is down or flooded. It may land
// between two chunks of the driver's output, so it starts with a newline.
func ConsoleLine(s string) {
	x86.Cli()
	defer x86.Sti()
	arch.Putc('\n')
	arch.Puts(s)
	arch.Putc('\n')
}

// FlipCoreBit flips bit (0-7) of the core image's byte at va, through the direct map (the
// image is identity-mapped; its code is read-only only through its own mapping).
func FlipCoreBit(va uint64, bit uint) {
	k := mm.DirectMap(va)
	arch.Store8(k, arch.Load8(k)^1<<(bit&7))
}

// FuzzReport is what a fuzzer task last reported (fuzz_report) and how many reports it made.
type FuzzReport struct{ Batch, Calls, Findings, Reports uint64 }

// FuzzReportOf returns what the fuzzer in task pid last reported (ok=false if it is gone).
func FuzzReportOf(pid int) (FuzzReport, bool) {
	x86.Cli()
	defer x86.Sti()
	p := procOf(pid)
	if p < 0 {
		return FuzzReport{}, false
	}
	r := fuzzReports[p&(maxProcs-1)]
	return FuzzReport{r.batch, r.calls, r.findings, r.reports}, true
}

// canary is a page of the kernel's own data that no task may ever change; the fuzz runner
// fills it at the start and checks it after every batch.
var canary [mm.PageSize]byte

// FillCanary writes the pattern derived from seed into the kernel's canary page.
func FillCanary(seed uint64) {
	x86.Cli()
	defer x86.Sti()
	for i := range canary {
		canary[i] = canaryByte(seed, i)
	}
}

// CanaryIntact reports whether the kernel's canary page still holds seed's pattern, and the
// offset of the first byte that changed.
func CanaryIntact(seed uint64) (bool, int) {
	x86.Cli()
	defer x86.Sti()
	for i := range canary {
		if canary[i] != canaryByte(seed, i) {
			return false, i
		}
	}
	return true, -1
}

func canaryByte(seed uint64, i int) byte {
	x := seed + uint64(i)*0x9e37_79b9_7f4a_7c15
	x ^= x >> 29
	return byte(x * 0xbf58_476d_1ce4_e5b9 >> 56)
}

// CanaryAddress is the kernel canary's physical address (its image is identity-mapped): what
// a wild write through the direct map would aim at.
func CanaryAddress() uint64 { return uint64(uintptr(unsafe.Pointer(&canary[0]))) }
