// Command bystander is the task nobody attacks while `simpleos fuzz` runs: it keeps a canary
// at a fixed address (package inject/fuzz/canary), which the core reads after every batch the
// fuzzers report, checks it itself, and serves an endpoint ("bystander") that the fuzzers may
// call with whatever they like. If its canary changes it says so and exits 1; otherwise it runs
// until the core ends it.
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/inject/fuzz/canary"
	"github.com/simpleos/simpleos/ipc"
)

func main() {
	p, _, errno := syscall.RawSyscall6(syscall.SYS_MMAP, canary.Addr, canary.Words*8, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_FIXED, ^uintptr(0), 0)
	if errno != 0 || p != canary.Addr {
		fmt.Printf("bystander: cannot map its canary: %v\n", errno)
		os.Exit(2)
	}
	words := unsafe.Slice((*uint64)(unsafe.Add(unsafe.Pointer(nil), p)), canary.Words)
	for i := range words {
		words[i] = canary.Word(i)
	}
	ep, err := ipc.Register("bystander")
	if err != nil {
		fmt.Printf("bystander: %v\n", err)
		os.Exit(2)
	}
	go func() {
		for {
			if err := ep.Serve(func(m ipc.Msg) ipc.Msg { return ipc.Msg{Label: m.Label, Words: m.Words} }); err != nil {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	fmt.Printf("bystander: canary of %d words at %#x; serving \"bystander\"\n", canary.Words, canary.Addr)
	for {
		time.Sleep(50 * time.Millisecond)
		for i, w := range words {
			if w != canary.Word(i) {
				fmt.Printf("bystander: BREACH: canary word %d changed to %#x\n", i, w)
				os.Exit(1)
			}
		}
	}
}
