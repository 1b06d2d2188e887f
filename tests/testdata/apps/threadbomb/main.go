// Command threadbomb forces the Go runtime to create as many OS threads as it
// can: every millisecond it starts a goroutine that locks itself to its OS
// thread (runtime.LockOSThread) and then blocks forever, so each one pins a
// thread. The Go runtime's own limit is raised (debug.SetMaxThreads(100000))
// so that the kernel's cap is what stops it.
//
// Usage: threadbomb [max=N]
//
// Output:
//
//	threadbomb: 16 threads
//	threadbomb: 32 threads
//	...                        (every 16 locked threads)
//	threadbomb: done <N>       (with max=N, after N; exit 0)
//
// Without max=N it runs until the kernel (or, on Linux, the thread limit)
// stops it. Bad argument: exit 2.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

func main() {
	maxN := -1
	for _, a := range os.Args[1:] {
		v, ok := strings.CutPrefix(a, "max=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			fmt.Printf("threadbomb: bad argument %q\n", a)
			os.Exit(2)
		}
		maxN = n
	}
	debug.SetMaxThreads(100000)
	block := make(chan struct{}) // never closed
	ready := make(chan struct{})
	n := 0
	for maxN < 0 || n < maxN {
		go func() {
			runtime.LockOSThread()
			ready <- struct{}{}
			<-block
		}()
		<-ready // the goroutine now owns its thread
		n++
		if n%16 == 0 {
			fmt.Printf("threadbomb: %d threads\n", n)
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("threadbomb: done %d\n", n)
}
