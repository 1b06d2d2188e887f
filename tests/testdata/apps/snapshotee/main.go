// Command snapshotee is the module of the snapshot tests (tests/snapshot_test.go, the core's
// selftest=snapshot). It builds state the core must keep in its snapshot — a heap filled with
// a pattern, goroutines locked to threads of their own that wait in the kernel (sleeps, futex
// waits on a channel), and optionally an endpoint — calls ipc.Ready, and then checks that
// state in every instance, the first and each restored one: the pattern intact, every thread
// running again, the endpoint served. Then it writes to its whole heap (every page is copied
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
	"time"

	"github.com/simpleos/simpleos/ipc"
)

const threads = 3

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
	for w := range threads {
		go func() {
			runtime.LockOSThread()
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
	for i := 0; i < len(heap); i += 4096 {
		heap[i] = ^byte(i * 7) // this instance's own copy of every page
	}
	if !*quiet || !restored {
		fmt.Printf("snapshotee: pid %d restored=%v: heap of %d MiB intact, %d threads running\n", os.Getpid(), restored, *mb, threads)
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
