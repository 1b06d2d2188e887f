package main

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/bench/result"
)

const pageSize = 4096

// getppid: the cheapest system call there is, made without the runtime's wrapper.
func getppid(name string, count, n int) (result.Result, error) {
	return batches(name, count, n, func(n int) error {
		for range n {
			syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		}
		return nil
	})
}

// firstTouch writes one byte into each page of a fresh anonymous mapping: one demand-zero
// page fault per page. The mapping is made and dropped outside the timed part.
func firstTouch(name string, count, pages int) (result.Result, error) {
	c := collector{name: name, samples: make([]float64, 0, count)}
	for i := -1; i < count; i++ { // batch -1 warms up
		mem, err := syscall.Mmap(-1, 0, pages*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			return result.Result{}, fmt.Errorf("mmap %d KiB: %w", pages*pageSize>>10, err)
		}
		w := startWatch()
		for p := 0; p < len(mem); p += pageSize {
			mem[p] = 1
		}
		ns, cycles := w.stop()
		if err := syscall.Munmap(mem); err != nil {
			return result.Result{}, fmt.Errorf("munmap: %w", err)
		}
		if i >= 0 {
			c.add(pages, ns, cycles)
		}
	}
	return c.result(), nil
}

// The thread switch: the main goroutine stores a sequence number in ping and wakes the peer,
// which answers in pong; both sleep in FUTEX_WAIT in between, on their own OS threads and
// with a P each, so every hand-over is a switch between two kernel threads. A round trip is
// two switches.

const (
	futexWaitPrivate = 0 | 128 // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
	futexWakePrivate = 1 | 128 // FUTEX_WAKE | FUTEX_PRIVATE_FLAG
	futexAbort       = ^uint32(0)
)

var ping, pong atomic.Uint32

func threadSwitch(name string, count, n int) (result.Result, error) {
	ping.Store(0)
	pong.Store(0)
	prev := runtime.GOMAXPROCS(0)
	if prev < 3 {
		runtime.GOMAXPROCS(3)
	}
	defer runtime.GOMAXPROCS(prev)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		close(ready)
		done <- futexPeer()
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	<-ready
	var seq uint32
	r, err := batches(name, count, n, func(n int) error {
		for range n {
			seq++
			ping.Store(seq)
			if err := futexWake(&ping); err != nil {
				return err
			}
			for pong.Load() != seq {
				if err := futexWait(&pong, seq-1); err != nil {
					return err
				}
			}
		}
		return nil
	})
	ping.Store(futexAbort)
	if werr := futexWake(&ping); werr != nil {
		err = errors.Join(err, werr)
	}
	err = errors.Join(err, <-done)
	// Per switch: half a round trip.
	r.Iters *= 2
	r.NsPerOp /= 2
	r.CyclesPerOp /= 2
	for i := range r.Samples {
		r.Samples[i] /= 2
	}
	return r, err
}

func futexPeer() error {
	for seq := uint32(1); ; seq++ {
		for {
			v := ping.Load()
			if v == futexAbort {
				return nil
			}
			if v == seq {
				break
			}
			if err := futexWait(&ping, v); err != nil {
				return err
			}
		}
		pong.Store(seq)
		if err := futexWake(&pong); err != nil {
			return err
		}
	}
}

// futexWait sleeps while *w == val; a changed value (EAGAIN) or a signal (EINTR) is no error.
func futexWait(w *atomic.Uint32, val uint32) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWaitPrivate, uintptr(val), 0, 0, 0)
	if e != 0 && e != syscall.EAGAIN && e != syscall.EINTR {
		return fmt.Errorf("futex wait: %w", e)
	}
	return nil
}

func futexWake(w *atomic.Uint32) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWakePrivate, 1, 0, 0, 0)
	if e != 0 {
		return fmt.Errorf("futex wake: %w", e)
	}
	return nil
}
