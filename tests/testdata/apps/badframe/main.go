// Command badframe hands the kernel contexts that would make IRETQ fault in ring 0: a clone
// with a kernel-half stack (refused with EINVAL), then, by mode, a forged signal frame whose
// saved RIP is non-canonical (rt_sigreturn; mode "sigreturn", the default) or a signal handler
// at a non-canonical address (mode "handler"). The kernel must kill the task, not fault.
//
// Output: "badframe: clone with a kernel stack: invalid argument", "badframe: MODE"; the task
// is then killed ("bad signal frame").
package main

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

func main() {
	_, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, 0x50f00, 0xffff800000001000, 0, 0, 0, 0)
	fmt.Printf("badframe: clone with a kernel stack: %v\n", e)
	if len(os.Args) > 1 && os.Args[1] == "handler" {
		// sigaction{handler, flags, restorer, mask} for SIGUSR1, handler non-canonical.
		act := [4]uint64{0x8000_0000_0000_0000, 0x04000000 | 4, 0x8000_0000_0000_1000, 0}
		syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGUSR1), uintptr(unsafe.Pointer(&act[0])), 0, 8, 0, 0)
		fmt.Println("badframe: handler")
		syscall.RawSyscall(syscall.SYS_TGKILL, uintptr(syscall.Getpid()), uintptr(syscall.Gettid()), uintptr(syscall.SIGUSR1))
		fmt.Println("badframe: survived a bad handler")
		return
	}
	// A ucontext: RIP (mcontext register 16) non-canonical, RSP (15) in the kernel half.
	var uc [64]uint64
	uc[5+16] = 0x8000_0000_0000_0000
	uc[5+15] = 0xffff_8000_0000_0000
	fmt.Println("badframe: sigreturn")
	sigreturn(uintptr(unsafe.Pointer(&uc[0])))
	fmt.Println("badframe: survived a forged frame")
}
