// Command mmio is a driver-style check of device memory grants: it maps the HPET's registers
// (physical 0xfed00000, which its policy module grants) with SimpleOS's mmio_map call and reads
// the capabilities register, then asks for a page it was not granted.
//
// Output: "mmio: hpet vendor 0x8086 ..." and "mmio: 0xfee00000 refused: ..."; exit 0.
package main

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

const sysMMIOMap = abi.SysMMIOMap

func main() {
	va, _, e := syscall.RawSyscall(sysMMIOMap, 0xfed00000, 4096, 0)
	if e != 0 {
		fmt.Printf("mmio: map 0xfed00000: %v\n", e)
		os.Exit(1)
	}
	// The address is a mapping the core made for this task, not Go memory.
	caps := *(*uint64)(unsafe.Pointer(va))
	fmt.Printf("mmio: hpet vendor %#x, %d timers, period %d fs (mapped at %#x)\n",
		caps>>16&0xffff, caps>>8&0x1f+1, caps>>32, va)
	_, _, e = syscall.RawSyscall(sysMMIOMap, 0xfee00000, 4096, 0)
	fmt.Printf("mmio: 0xfee00000 refused: %v\n", e)
}
