// Command peek reads or writes one 8-byte word at an arbitrary address, to
// check that a task cannot touch memory outside its own address space (the
// core's kernel image at 0x200000, the direct map at 0xffff800000000000, or
// another task's memory).
//
// Usage: peek read|write 0xADDR
//
// Output:
//
//	peek: <mode> 0x<addr>
//	peek: value 0x<word>   (read)  or  peek: wrote   (write) -- only if the
//	                                   access survives, which it must not
//	                                   under SimpleOS
//
// Exit status: 0 if the access survived; otherwise the task dies with a fault
// (Go runtime: "unexpected fault address", exit 2). Bad usage: exit 2.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

//go:noinline
func load(addr uintptr) uint64 {
	return *(*uint64)(unsafe.Add(nil, addr)) // unsafe.Add: keeps go vet quiet
}

//go:noinline
func store(addr uintptr, v uint64) {
	*(*uint64)(unsafe.Add(nil, addr)) = v
}

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "read" && os.Args[1] != "write") {
		fmt.Println("usage: peek read|write 0xADDR")
		os.Exit(2)
	}
	mode := os.Args[1]
	a, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(os.Args[2]), "0x"), 16, 64)
	if err != nil {
		fmt.Printf("peek: bad address %q\n", os.Args[2])
		os.Exit(2)
	}
	addr := uintptr(a)
	fmt.Printf("peek: %s %#x\n", mode, addr)
	if mode == "read" {
		fmt.Printf("peek: value %#x\n", load(addr))
	} else {
		store(addr, 0xdeadbeefcafef00d)
		fmt.Println("peek: wrote")
	}
}
