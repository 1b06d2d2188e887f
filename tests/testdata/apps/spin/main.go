// Command spin loops forever without making calls or system calls, to check
// that a spinning task is preempted and does not starve the others.
//
// Usage: spin [seconds=N]
//
// Output:
//
//	spin: spinning
//	spin: done      (only with seconds=N, after N seconds; exit 0)
//
// Without an argument it never exits. With seconds=N the clock is checked
// only once every 1<<20 iterations. Bad argument: exit 2.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// counter is updated atomically so the loop cannot be optimised away; the
// atomic add is an intrinsic (a LOCK XADD), not a call.
var counter atomic.Uint64

func main() {
	secs := -1
	for _, a := range os.Args[1:] {
		v, ok := strings.CutPrefix(a, "seconds=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			fmt.Printf("spin: bad argument %q\n", a)
			os.Exit(2)
		}
		secs = n
	}
	fmt.Println("spin: spinning")
	if secs < 0 {
		for {
			counter.Add(1)
		}
	}
	start := time.Now()
	limit := time.Duration(secs) * time.Second
	for {
		if counter.Add(1)&(1<<20-1) == 0 && time.Since(start) >= limit {
			break
		}
	}
	fmt.Println("spin: done")
}
