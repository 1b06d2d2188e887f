// Command contentpeek tries the content store's system calls the way a module without a grant,
// or with a bad pointer, would: each attempt must fail with an errno, never crash the core.
//
// Output: one "contentpeek: ..." line per attempt, then "contentpeek: done".
package main

import (
	"fmt"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/ipc"
)

func main() {
	_, err := ipc.ReadContent("sensor.chan")
	fmt.Printf("contentpeek: read sensor.chan: %v\n", err)
	fmt.Printf("contentpeek: write sensor.chan: %v\n", ipc.WriteContent("sensor.chan", []byte("x")))
	name := []byte("sensor.chan")
	for _, p := range []uintptr{0, 0xffff800000000000, 0x0000800000000000} {
		_, _, e := syscall.Syscall6(abi.SysContentWrite, uintptr(unsafe.Pointer(&name[0])), uintptr(len(name)), p, 100, 0, 0)
		fmt.Printf("contentpeek: write from %#x: %v\n", p, e)
		_, _, e = syscall.Syscall6(abi.SysContentRead, p, 11, p, 100, 0, 0)
		fmt.Printf("contentpeek: read with name at %#x: %v\n", p, e)
	}
	fmt.Println("contentpeek: done")
}
