// Command ipcclient calls the endpoint named by its first argument.
//
//	ipcclient NAME basic N      N calls; checks every reply and the badge the server saw
//	ipcclient NAME peerdeath    a call during which the server crashes gets ipc.ErrPeerDied;
//	                            calls succeed again once the server has been restarted
//	ipcclient NAME timeout      a call the server never answers times out
//	ipcclient NAME denied       the policy refuses the call: ipc.ErrDenied
//	ipcclient NAME filtered     an eBPF filter on NAME refuses label 7 and lets label 8 through
//	ipcclient NAME grant        lends 3 pages; the server reads them; then a server that writes
//	                            into lent pages dies (they are read-only to it)
//	ipcclient NAME buffer       calls with up to a page in its IPC buffer (a ServeBuffer server
//	                            answers them reversed), then NAME2 (second name after "buffer")
//	                            without a buffer: EFAULT, and the call after it works
//	ipcclient NAME locked N     four threads make N calls each with Endpoint.CallLocked (every
//	                            16th one answered after 3 ms: past its raw wait), while a
//	                            goroutine collects garbage every millisecond; every reply checked
//
// Output: one "ipcclient: ..." result line; exit 0 on success, 1 otherwise.
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/ipc"
)

func fail(format string, args ...any) {
	fmt.Printf("ipcclient: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// waitFor looks the name up until the server has registered it.
func waitFor(name string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := ipc.Lookup(name)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			fail("lookup %s: %v", name, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func check(c *ipc.Client, i uint64) {
	reply, err := c.Call(ipc.Msg{Label: i, Words: [4]uint64{i, i * 2, i * 3, 0}})
	if err != nil {
		fail("call %d: %v", i, err)
	}
	if reply.Label != i+1 || reply.Words[0] != i*3 || reply.Words[1] != i*2 || reply.Words[2] != i {
		fail("call %d: wrong reply %+v", i, reply)
	}
	if reply.Words[3] != uint64(os.Getpid()) {
		fail("the server saw badge %d, my pid is %d", reply.Words[3], os.Getpid())
	}
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: ipcclient NAME basic N | peerdeath | timeout")
	}
	name, mode := os.Args[1], os.Args[2]
	if mode == "denied" {
		_, err := ipc.NewClient(name, time.Second).Call(ipc.Msg{Label: 1})
		if err != ipc.ErrDenied {
			fail("call to %s: got %v, want ErrDenied", name, err)
		}
		fmt.Printf("ipcclient: denied: %v\n", err)
		return
	}
	waitFor(name)
	c := ipc.NewClient(name, 5*time.Second)
	switch mode {
	case "basic":
		n, _ := strconv.Atoi(os.Args[3])
		start := time.Now()
		for i := 1; i <= n; i++ {
			check(c, uint64(i))
		}
		el := time.Since(start)
		fmt.Printf("ipcclient: %d calls ok in %v (%d ns per call), server saw badge=%d\n", n, el.Round(time.Millisecond), el.Nanoseconds()/int64(n), os.Getpid())
	case "peerdeath":
		check(c, 1)
		_, err := c.Call(ipc.Msg{Label: 1 << 40})
		if err != ipc.ErrPeerDied {
			fail("call during a server crash: got %v, want ErrPeerDied", err)
		}
		fmt.Println("ipcclient: peer died during the call")
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := c.Call(ipc.Msg{Label: 2, Words: [4]uint64{2, 4, 6, 0}})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				fail("server never came back: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		check(c, 3)
		fmt.Println("ipcclient: calls succeed again after the server's restart")
	case "timeout":
		t := ipc.NewClient(name, 200*time.Millisecond)
		start := time.Now()
		_, err := t.Call(ipc.Msg{Label: 1 << 41})
		if err != ipc.ErrTimeout {
			fail("unanswered call: got %v, want ErrTimeout", err)
		}
		fmt.Printf("ipcclient: unanswered call timed out after %v\n", time.Since(start).Round(10*time.Millisecond))
	case "locked":
		n, _ := strconv.Atoi(os.Args[3])
		lockedRace(name, n)
	case "buffer":
		buffers(name, os.Args[3])
	case "filtered":
		if _, err := c.Call(ipc.Msg{Label: 7}); err != ipc.ErrDenied {
			fail("label 7: got %v, want ErrDenied from the filter", err)
		}
		reply, err := c.Call(ipc.Msg{Label: 8})
		if err != nil || reply.Label != 9 {
			fail("label 8: got %v, %+v", err, reply)
		}
		fmt.Println("ipcclient: the filter refused label 7 and passed label 8")
	case "grant":
		pages, err := syscall.Mmap(-1, 0, 3*4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			fail("mmap: %v", err)
		}
		want := uint64(0)
		for i := range pages {
			pages[i] = byte(i * 7)
			want += uint64(pages[i])
		}
		addr := uint64(uintptr(unsafe.Pointer(&pages[0])))
		reply, err := c.Call(ipc.Msg{Label: 5, GrantAddr: addr, GrantPages: 3})
		if err != nil {
			fail("grant call: %v", err)
		}
		if reply.Words[0] != want || reply.Words[1] != 3*4096 {
			fail("server saw sum %d of %d bytes, want %d of %d", reply.Words[0], reply.Words[1], want, 3*4096)
		}
		fmt.Printf("ipcclient: server read 3 lent pages at %#x (mine at %#x): sum %d ok\n", reply.Words[2], addr, want)
		_, err = c.Call(ipc.Msg{Label: 1 << 42, GrantAddr: addr, GrantPages: 1})
		if err != ipc.ErrPeerDied {
			fail("server writing into lent pages: got %v, want ErrPeerDied", err)
		}
		if pages[0] != 0 {
			fail("my page was changed to %d", pages[0])
		}
		fmt.Println("ipcclient: a server writing into lent pages died; my pages are unchanged")
	default:
		fail("unknown mode %q", mode)
	}
}

// lockedRace makes n calls from each of four threads with Endpoint.CallLocked, while another
// goroutine collects garbage every millisecond (stop-the-world signals end raw waits); every
// 16th call is one the server answers after 3 ms, past the raw wait's 1 ms, so its reply is
// collected with ipc_await_regs. Each reply must be the answer to its own call: none lost,
// none twice, none another's.
func lockedRace(name string, n int) {
	ep, err := ipc.Lookup(name)
	if err != nil {
		fail("lookup %s: %v", name, err)
	}
	stop := make(chan struct{})
	var collections atomic.Int64
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				runtime.GC()
				collections.Add(1)
			}
		}
	}()
	start := time.Now()
	var slow atomic.Int64
	var wg sync.WaitGroup
	for k := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			for i := 1; i <= n; i++ {
				label := uint64(k)<<32 | uint64(i)
				if i%16 == 0 {
					label |= 1 << 43
				}
				t0 := time.Now()
				reply, err := ep.CallLocked(ipc.Msg{Label: label, Words: [4]uint64{label, uint64(k), 0, 0}})
				if err != nil {
					fail("thread %d call %d: %v", k, i, err)
				}
				if reply.Label != label+1 || reply.Words[2] != label || reply.Words[1] != uint64(k) || reply.Words[3] != uint64(os.Getpid()) {
					fail("thread %d call %d: reply %+v is not the answer to label %#x", k, i, reply, label)
				}
				if time.Since(t0) > 2*time.Millisecond {
					slow.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	fmt.Printf("ipcclient: locked: %d calls from 4 threads ok in %v, %d past 2 ms, %d collections meanwhile\n",
		4*n, time.Since(start).Round(time.Millisecond), slow.Load(), collections.Load())
}

// buffers calls name with 1, 1,000 and 4,096 bytes in the thread's IPC buffer and checks each
// reply's bytes (the server reverses them); then a call with bytes to plain, whose server has
// no IPC buffer, fails with EFAULT — and a plain call to it works.
func buffers(name, plain string) {
	runtime.LockOSThread()
	ep, err := ipc.Lookup(name)
	if err != nil {
		fail("lookup %s: %v", name, err)
	}
	buf, err := ipc.NewBuffer()
	if err != nil {
		fail("NewBuffer: %v", err)
	}
	for _, n := range []int{1, 1000, ipc.BufferSize} {
		want := make([]byte, n)
		for i := range n {
			want[i] = byte(i*13 + n)
		}
		copy(buf.Bytes(), want)
		reply, got, err := ep.CallBuffer(ipc.Msg{Label: uint64(n)}, n)
		if err != nil {
			fail("%d bytes: %v", n, err)
		}
		slices.Reverse(want)
		if reply.Label != uint64(n)+1 || reply.Words[0] != uint64(n) || got != n || !bytes.Equal(buf.Bytes()[:n], want) {
			fail("%d bytes: reply %+v with %d bytes, not the %d reversed", n, reply, got, n)
		}
	}
	waitFor(plain)
	other, err := ipc.Lookup(plain)
	if err != nil {
		fail("lookup %s: %v", plain, err)
	}
	if _, _, err := other.CallBuffer(ipc.Msg{Label: 1}, 10); err != syscall.EFAULT {
		fail("bytes to a server without an IPC buffer: got %v, want EFAULT", err)
	}
	if r, err := other.Call(ipc.Msg{Label: 1}, time.Second); err != nil || r.Label != 2 {
		fail("the plain call after it: %+v, %v", r, err)
	}
	fmt.Printf("ipcclient: IPC buffers: 1, 1000 and %d bytes both ways ok; a server without one: EFAULT, and it serves on\n", ipc.BufferSize)
}
