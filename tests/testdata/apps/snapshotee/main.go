// Command snapshotee is the module of the snapshot tests (tests/snapshot_test.go, the core's
// selftest=snapshot). It builds state the core must keep in its snapshot — a heap filled with
// a pattern, goroutines locked to threads of their own that wait in the kernel (sleeps, futex
// waits on a channel), and optionally an endpoint — calls ipc.Ready, and then checks that
// state in every instance, the first and each restored one: the pattern intact, every thread
// running again, the endpoint served, a thread's IPC buffer still registered. Then it writes to its whole heap (every page is copied
// from the snapshot on its first write) and waits, or serves.
//
// Flags: -serve NAME registers NAME and answers calls (words[0]+1; label 99 crashes it, a nil
// dereference); -mb N fills N MiB (default 8); -quiet prints nothing but failures after the
// first instance.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/ipc"
)

const threads = 3

// readyDone is closed once ipc.Ready has returned, in every instance.
var readyDone = make(chan struct{})

func main() {
	serve := flag.String("serve", "", "register and serve this endpoint")
	mb := flag.Int("mb", 8, "MiB of heap to fill")
	quiet := flag.Bool("quiet", false, "print only failures after the first instance")
	flag.Parse()

	heap := make([]byte, *mb<<20)
	for i := range heap {
		heap[i] = byte(i * 7)
	}
	var ep *ipc.Endpoint
	if *serve != "" {
		var err error
		if ep, err = ipc.Register(*serve); err != nil {
			fmt.Println("snapshotee: FAIL: register:", err)
			os.Exit(1)
		}
	}
	ticks := make(chan int)
	bufferKept := make(chan bool, 1)
	for w := range threads {
		go func() {
			runtime.LockOSThread()
			if w == 0 {
				// This thread's IPC buffer: the kernel keeps its registration in the snapshot
				// and registers it again in every restored thread. Registering the same page
				// after Ready returns the one it replaces: this page, in every instance.
				page, err := syscall.Mmap(-1, 0, ipc.BufferSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
				if err != nil {
					fmt.Println("snapshotee: FAIL: mmap:", err)
					os.Exit(1)
				}
				va := uintptr(unsafe.Pointer(&page[0]))
				if _, _, errno := syscall.RawSyscall(abi.SysIPCBuffer, va, 0, 0); errno != 0 {
					fmt.Println("snapshotee: FAIL: ipc_buffer:", errno)
					os.Exit(1)
				}
				<-readyDone
				old, _, errno := syscall.RawSyscall(abi.SysIPCBuffer, va, 0, 0)
				bufferKept <- errno == 0 && old == va
			}
			for {
				time.Sleep(time.Duration(3+w) * time.Millisecond)
				select {
				case ticks <- w:
				default:
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond) // every thread is made and waiting in the kernel

	restored := ipc.Ready()
	close(readyDone)

	bad := 0
	for i := range heap {
		if heap[i] != byte(i*7) {
			bad++
		}
	}
	seen := map[int]bool{}
	deadline := time.After(5 * time.Second)
	for len(seen) < threads {
		select {
		case w := <-ticks:
			seen[w] = true
		case <-deadline:
			fmt.Printf("snapshotee: FAIL: pid %d: %d of %d threads ran again\n", os.Getpid(), len(seen), threads)
			os.Exit(1)
		}
	}
	if bad != 0 {
		fmt.Printf("snapshotee: FAIL: pid %d: %d heap bytes changed\n", os.Getpid(), bad)
		os.Exit(1)
	}
	if !<-bufferKept {
		fmt.Printf("snapshotee: FAIL: pid %d restored=%v: its thread's IPC buffer is not registered\n", os.Getpid(), restored)
		os.Exit(1)
	}
	for i := 0; i < len(heap); i += 4096 {
		heap[i] = ^byte(i * 7) // this instance's own copy of every page
	}
	if !*quiet || !restored {
		fmt.Printf("snapshotee: pid %d restored=%v: heap of %d MiB intact, %d threads running, IPC buffer kept\n", os.Getpid(), restored, *mb, threads)
	}
	if ep == nil {
		select {}
	}
	err := ep.Serve(func(m ipc.Msg) ipc.Msg {
		if m.Label == 99 {
			var p *int
			*p = 1 // crash on request: the supervisor restores it
		}
		m.Words[0]++
		return m
	})
	fmt.Println("snapshotee: serve:", err)
	os.Exit(1)
}
