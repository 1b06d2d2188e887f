// Command ipcserver registers an endpoint (first argument, default "echo") and answers each
// call with Label+1, the words reversed, and the caller's badge (its pid, as the core reports
// it) in the last word; for a call that lends pages, the sum of their bytes, their length and
// the address they appeared at. Label 1<<40 makes it crash mid-call (nil dereference: peer
// death for the caller); label 1<<41 makes it never answer (for timeouts); label 1<<42 makes
// it write into lent pages, which faults: they are read-only to it. A call with bit 43 set in
// its label is answered after 3 ms (longer than a CallLocked caller waits with its P).
//
// A second argument lifetime=D makes it exit 0 after D (e.g. 3s), so that a boot with it ends.
// An argument "buffer" serves with ipc's ServeBuffer: a call's IPC-buffer bytes come back
// reversed, the label + 1 and, in the first word, how many bytes came.
// An argument "locked" serves with ipc's ServeLocked (no runtime bookkeeping around its
// system calls: the thread keeps its P while it waits) and runs a goroutine beside it that
// ticks every millisecond and collects garbage every 100 ms; at the end of its lifetime it
// prints "ipcserver: beside the locked server: N ticks, M collections".
//
// Output: "ipcserver: serving <name>", then nothing unless it fails.
package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/simpleos/simpleos/ipc"
)

func main() {
	name := "echo"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	locked := len(os.Args) > 2 && os.Args[len(os.Args)-1] == "locked"
	var ticks, collections atomic.Int64
	if len(os.Args) > 2 && strings.HasPrefix(os.Args[2], "lifetime=") {
		d, err := time.ParseDuration(strings.TrimPrefix(os.Args[2], "lifetime="))
		if err != nil {
			fmt.Printf("ipcserver: bad %s\n", os.Args[2])
			os.Exit(2)
		}
		time.AfterFunc(d, func() {
			if locked {
				fmt.Printf("ipcserver: beside the locked server: %d ticks, %d collections\n", ticks.Load(), collections.Load())
			}
			os.Exit(0)
		})
	}
	if locked {
		go func() {
			for i := 1; ; i++ {
				time.Sleep(time.Millisecond)
				ticks.Add(1)
				if i%100 == 0 {
					runtime.GC()
					collections.Add(1)
				}
			}
		}()
	}
	ep, err := ipc.Register(name)
	if err != nil {
		fmt.Printf("ipcserver: register %s: %v\n", name, err)
		os.Exit(1)
	}
	fmt.Printf("ipcserver: serving %s\n", name)
	if os.Args[len(os.Args)-1] == "buffer" {
		err = ep.ServeBuffer(func(req ipc.Msg, buf []byte, n int) (ipc.Msg, int) {
			slices.Reverse(buf[:n])
			return ipc.Msg{Label: req.Label + 1, Words: [4]uint64{uint64(n), 0, 0, req.Badge}}, n
		})
		fmt.Printf("ipcserver: %v\n", err)
		os.Exit(1)
	}
	serve := ep.Serve
	if locked {
		serve = ep.ServeLocked
	}
	err = serve(func(req ipc.Msg) ipc.Msg {
		switch req.Label {
		case 1 << 40:
			var p *int
			*p = 1 // crash while the caller waits
		case 1 << 41:
			time.Sleep(time.Hour)
		case 1 << 42:
			req.Grant()[0] = 1 // granted pages are read-only: this faults
		}
		if req.Label&(1<<43) != 0 {
			time.Sleep(3 * time.Millisecond)
		}
		if g := req.Grant(); g != nil {
			// Answer with the sum of the granted bytes and where they appeared.
			sum := uint64(0)
			for _, b := range g {
				sum += uint64(b)
			}
			return ipc.Msg{Label: req.Label + 1, Words: [4]uint64{sum, uint64(len(g)), req.GrantAddr, req.Badge}}
		}
		w := req.Words
		return ipc.Msg{Label: req.Label + 1, Words: [4]uint64{w[2], w[1], w[0], req.Badge}}
	})
	fmt.Printf("ipcserver: %v\n", err)
	os.Exit(1)
}
