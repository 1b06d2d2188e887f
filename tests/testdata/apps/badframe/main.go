// Command badframe hands the kernel a forged signal frame whose saved instruction pointer is a
// non-canonical address, through rt_sigreturn, and a clone with a kernel-half stack. The
// kernel must refuse both (the clone gets EINVAL, the frame kills the task) without faulting
// itself: IRETQ to such an address would fault in ring 0.
//
// Output: "badframe: clone with a kernel stack: invalid argument", "badframe: sigreturn";
// the task is then killed ("bad signal frame").
package main

import (
	"fmt"
	"syscall"
	"unsafe"
)

func main() {
	_, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, 0x50f00, 0xffff800000001000, 0, 0, 0, 0)
	fmt.Printf("badframe: clone with a kernel stack: %v\n", e)
	// A ucontext: RIP (mcontext register 16) non-canonical, RSP (15) in the kernel half.
	var uc [64]uint64
	uc[5+16] = 0x8000_0000_0000_0000
	uc[5+15] = 0xffff_8000_0000_0000
	fmt.Println("badframe: sigreturn")
	sigreturn(uintptr(unsafe.Pointer(&uc[0])))
	fmt.Println("badframe: survived a forged frame")
}
