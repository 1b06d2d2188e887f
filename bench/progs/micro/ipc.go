package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

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
			buf, err := ipc.NewBuffer() // for the calls that carry bytes in IPC buffers ("1kbuf")
			if err != nil {
				fmt.Printf("micro: IPC buffer for %s: %v\n", name, err)
				os.Exit(1)
			}
			var once sync.Once
			serve := ep.Serve
			if strings.HasSuffix(name, "-locked") {
				serve = ep.ServeLocked // without the runtime's system-call bookkeeping
			}
			err = serve(func(m ipc.Msg) ipc.Msg {
				if m.Label == quitLabel {
					once.Do(wg.Done)
				}
				var sum uint64
				if m.GrantPages != 0 { // a 1 KiB call, lent or in the IPC buffer: read it
					if g := m.Grant(); g != nil {
						sum = checksum(g[:1024])
					} else if n := m.Buffered(); n > 0 {
						sum = checksum(buf.Bytes()[:n])
					}
				}
				return ipc.Msg{Label: m.Label + 1 + sum}
			})
			fmt.Printf("micro: serving %s: %v\n", name, err)
			os.Exit(1)
		}()
	}
	wg.Wait()
	time.Sleep(20 * time.Millisecond) // the last quit call gets its reply
	return 0
}

// checksum reads b (a multiple of 8 bytes) a word at a time: what the server of a 1 KiB call
// adds to its reply's label, so the client knows it read the bytes it was sent. (Byte by
// byte, the reading cost 4,100 instructions of the figure.)
func checksum(b []byte) uint64 {
	var x uint64
	for _, w := range unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8) {
		x ^= w
	}
	return x & 0xffff
}

// callReply times n call+reply round trips per batch to endpoint, as benchmark name. kind
// says what each call carries: "" a label ("keep": the same, and the endpoint is not ended
// afterwards: a later task calls it too), "4w" four words each way, "1k" 1 KiB lent with a
// one-page grant (the server reads it), "x4" a label from four client threads at once (the
// figure is time per call), "locked" a label by Endpoint.CallLocked from a goroutine that owns
// its thread (no runtime bookkeeping on the client's side), "1kbuf" 1 KiB in the client
// thread's IPC buffer (Endpoint.CallBuffer; the server reads it in its own).
func callReply(name, endpoint, kind string, count, n int) (result.Result, error) {
	ep, err := lookup(endpoint)
	if err != nil {
		return result.Result{}, err
	}
	var msg func(i int) ipc.Msg
	var sum uint64 // the checksum of the KiB sent, which the server adds to its reply's label
	switch kind {
	case "", "x4", "keep", "locked":
		msg = func(i int) ipc.Msg { return ipc.Msg{Label: uint64(i) + 8} }
	case "4w":
		msg = func(i int) ipc.Msg { return ipc.Msg{Label: uint64(i) + 8, Words: [4]uint64{uint64(i), 2, 3, 4}} }
	case "1kbuf":
		runtime.LockOSThread() // the buffer is this thread's
		defer runtime.UnlockOSThread()
		buf, err := ipc.NewBuffer()
		if err != nil {
			return result.Result{}, fmt.Errorf("IPC buffer: %w", err)
		}
		for i := range 1024 {
			buf.Bytes()[i] = byte(i%251 + 1)
		}
		sum = checksum(buf.Bytes()[:1024])
		msg = func(i int) ipc.Msg { return ipc.Msg{Label: uint64(i) + 8} }
	case "1k":
		page, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			return result.Result{}, fmt.Errorf("1 KiB buffer: %w", err)
		}
		for i := range 1024 {
			page[i] = byte(i%251 + 1)
		}
		sum = checksum(page[:1024])
		addr := uint64(uintptr(unsafe.Pointer(&page[0])))
		msg = func(i int) ipc.Msg { return ipc.Msg{Label: uint64(i) + 8, GrantAddr: addr, GrantPages: 1} }
	default:
		return result.Result{}, fmt.Errorf("unknown call kind %q", kind)
	}
	locked := kind == "locked"
	if locked {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	calls := func(from, to int) error {
		for i := from; i < to; i++ {
			var r ipc.Msg
			var err error
			switch { // a direct call each way: a function value would add its own instructions to the figure
			case locked:
				r, err = ep.CallLocked(msg(i))
			case kind == "1kbuf":
				r, _, err = ep.CallBuffer(msg(i), 1024)
			default:
				r, err = ep.Call(msg(i), 0)
			}
			if err != nil {
				return fmt.Errorf("call %s: %w", endpoint, err)
			}
			if want := uint64(i) + 9 + sum; r.Label != want {
				return fmt.Errorf("call %s: reply label %d, want %d", endpoint, r.Label, want)
			}
		}
		return nil
	}
	if kind != "x4" {
		return measure.Batches(name, count, n, func(n int) error { return calls(0, n) })
	}
	return measure.Batches(name, count, n, func(n int) error {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for k := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				errs[k] = calls(k*n/4, (k+1)*n/4)
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
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

// profile makes n repetitions of one operation between two marks, profileStart and
// profileStop, which the host finds by their addresses in QEMU's instruction trace
// (bench/itrace): an IPC call+reply round trip to an endpoint, a getppid or a sched_yield
// (op "getppid", "yield"; anything else names an endpoint, "locked:ENDPOINT" called with
// Endpoint.CallLocked from a goroutine that owns its thread, "buffer:ENDPOINT" with 1 KiB in
// the thread's IPC buffer). The host turns the trace on when
// "profile: ready" arrives and off at "profile: done"; the pause between them leaves it time
// to.
func profile(op string, n int) error {
	var do func(i int) error
	switch op {
	case "getppid":
		do = func(int) error {
			syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
			return nil
		}
	case "yield":
		do = func(int) error {
			if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0); e != 0 {
				return fmt.Errorf("sched_yield: %w", e)
			}
			return nil
		}
	default:
		endpoint, locked := strings.CutPrefix(op, "locked:")
		endpoint, buffered := strings.CutPrefix(endpoint, "buffer:")
		ep, err := lookup(endpoint)
		if err != nil {
			return err
		}
		var sum uint64
		if locked || buffered {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		if buffered {
			buf, err := ipc.NewBuffer()
			if err != nil {
				return fmt.Errorf("IPC buffer: %w", err)
			}
			for i := range 1024 {
				buf.Bytes()[i] = byte(i%251 + 1)
			}
			sum = checksum(buf.Bytes()[:1024])
		}
		do = func(i int) error {
			m := ipc.Msg{Label: uint64(i) + 8, Words: [4]uint64{1, 2, 3, 4}}
			var r ipc.Msg
			var err error
			switch {
			case locked:
				r, err = ep.CallLocked(m)
			case buffered:
				r, _, err = ep.CallBuffer(m, 1024)
			default:
				r, err = ep.Call(m, 0)
			}
			if err == nil && r.Label != uint64(i)+9+sum {
				err = fmt.Errorf("reply label %d, want %d", r.Label, uint64(i)+9+sum)
			}
			if err != nil {
				return fmt.Errorf("call %s: %w", op, err)
			}
			return nil
		}
	}
	for i := range 1000 { // warm: both sides' code and data mapped, the runtimes settled
		if err := do(i); err != nil {
			return err
		}
	}
	fmt.Printf("profile: ready n=%d\n", n)
	time.Sleep(200 * time.Millisecond) // the host turns the log on within milliseconds
	start := time.Now()
	profileStart()
	for i := range n {
		if err := do(i); err != nil {
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
