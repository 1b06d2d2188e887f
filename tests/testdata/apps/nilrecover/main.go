// Command nilrecover checks that memory faults are delivered to the Go runtime
// as ordinary recoverable panics: a nil pointer dereference, and (with
// debug.SetPanicOnFault) a read of an unmapped non-nil address.
//
// Output (identical on Linux and under SimpleOS):
//
//	recovered: runtime error: invalid memory address or nil pointer dereference
//	recovered fault: runtime error: invalid memory address or nil pointer dereference
//	nilrecover ok
//
// Exit status: 0.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"unsafe"
)

// unmapped is an address that is very unlikely to be mapped. It is a
// canonical user address (so the access is an ordinary page fault, not a #GP)
// that nobody has a reason to map:
//   - the Go 1.26 runtime places its (randomized) heap arenas below 1<<46
//     (0x400000000000); static executables load at 0x400000;
//   - Linux places mmap regions and the stack just below 0x7fffffffffff,
//     randomized downwards by at most 1 TiB (so above ~0x7eff00000000);
//   - it is neither the core's kernel image (0x200000) nor its direct map
//     (0xffff800000000000), which belong to other tests.
const unmapped = uintptr(0x500000001000)

//go:noinline
func deref(p *int) int { return *p }

//go:noinline
func readByte(p *byte) byte { return *p }

func nilDeref() (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Printf("recovered: %v\n", r)
			ok = true
		}
	}()
	var p *int
	fmt.Printf("nilrecover: not reached %d\n", deref(p))
	return false
}

func faultRead() (ok bool) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			fmt.Printf("recovered fault: %v\n", r)
			ok = true
		}
	}()
	p := (*byte)(unsafe.Add(nil, unmapped)) // unsafe.Add: keeps go vet quiet
	fmt.Printf("nilrecover: read 0x%x from %#x without fault\n", readByte(p), unmapped)
	return false
}

func main() {
	a := nilDeref()
	b := faultRead()
	if !a || !b {
		fmt.Println("nilrecover failed")
		os.Exit(1)
	}
	fmt.Println("nilrecover ok")
}
