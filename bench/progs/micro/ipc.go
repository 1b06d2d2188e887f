package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/simpleos/simpleos/bench/measure"
	"github.com/simpleos/simpleos/bench/result"
	"github.com/simpleos/simpleos/ipc"
)

// quitLabel ends a server's endpoint (the filter on the guarded endpoint refuses label 7
// only, so it lets this through).
const quitLabel = 0x71756974

// serve answers every call with Label+1 until each endpoint got a quit call, then exits 0.
func serve(names []string) int {
	if len(names) == 0 {
		fmt.Println("micro: serve: no endpoint")
		return 2
	}
	var wg sync.WaitGroup
	for _, name := range names {
		ep, err := ipc.Register(name)
		if err != nil {
			fmt.Printf("micro: register %s: %v\n", name, err)
			return 1
		}
		wg.Add(1)
		go func() {
			runtime.LockOSThread()
			var once sync.Once
			err := ep.Serve(func(m ipc.Msg) ipc.Msg {
				if m.Label == quitLabel {
					once.Do(wg.Done)
				}
				return ipc.Msg{Label: m.Label + 1}
			})
			fmt.Printf("micro: serving %s: %v\n", name, err)
			os.Exit(1)
		}()
	}
	wg.Wait()
	time.Sleep(20 * time.Millisecond) // the last quit call gets its reply
	return 0
}

// callReply times n call+reply round trips per batch to endpoint, as benchmark name.
func callReply(name, endpoint string, count, n int) (result.Result, error) {
	ep, err := lookup(endpoint)
	if err != nil {
		return result.Result{}, err
	}
	return measure.Batches(name, count, n, func(n int) error {
		for i := range n {
			r, err := ep.Call(ipc.Msg{Label: uint64(i) + 8}, 0)
			if err != nil {
				return fmt.Errorf("call %s: %w", endpoint, err)
			}
			if r.Label != uint64(i)+9 {
				return fmt.Errorf("call %s: reply label %d, want %d", endpoint, r.Label, i+9)
			}
		}
		return nil
	})
}

// quit ends the server's endpoint name.
func quit(name string) {
	ep, err := ipc.Lookup(name)
	if err == nil {
		_, err = ep.Call(ipc.Msg{Label: quitLabel}, 10*time.Second)
	}
	if err != nil {
		fmt.Printf("micro: quit %s: %v\n", name, err)
	}
}

// profile makes n call+reply round trips to endpoint between two marks, profileStart and
// profileStop, which the host finds by their addresses in QEMU's instruction trace
// (bench/itrace). The host turns the trace on when "profile: ready" arrives and off at
// "profile: done"; the pause between them leaves it time to.
func profile(endpoint string, n int) error {
	ep, err := lookup(endpoint)
	if err != nil {
		return err
	}
	call := func(i int) error {
		r, err := ep.Call(ipc.Msg{Label: uint64(i) + 8}, 0)
		if err == nil && r.Label != uint64(i)+9 {
			err = fmt.Errorf("reply label %d, want %d", r.Label, i+9)
		}
		if err != nil {
			return fmt.Errorf("call %s: %w", endpoint, err)
		}
		return nil
	}
	for i := range 1000 { // warm: both sides' code and data mapped, the runtimes settled
		if err := call(i); err != nil {
			return err
		}
	}
	fmt.Printf("profile: ready n=%d\n", n)
	time.Sleep(time.Second)
	start := time.Now()
	profileStart()
	for i := range n {
		if err := call(i); err != nil {
			return err
		}
	}
	profileStop()
	// The guest clock's view of the same stretch: instructions under -icount shift=0.
	fmt.Printf("profile: done ns-per-trip=%d\n", time.Since(start).Nanoseconds()/int64(n))
	return nil
}

// The marks of a profiled stretch: empty, never inlined, so each has an address of its own.
//
//go:noinline
func profileStart() {}

//go:noinline
func profileStop() {}
