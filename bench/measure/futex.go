package measure

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/bench/result"
)

// The futex round trip: two OS-thread-locked goroutines hand a sequence number back and forth
// through two shared words, sleeping in FUTEX_WAIT and waking each other with FUTEX_WAKE, each
// on its own OS thread with a P of its own. Half a round trip is one thread switch through the
// kernel.

const (
	futexWaitPrivate = 0 | 128 // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
	futexWakePrivate = 1 | 128 // FUTEX_WAKE | FUTEX_PRIVATE_FLAG
	futexAbort       = ^uint32(0)
)

// ping carries the main side's sequence number, pong the peer's answer.
var ping, pong atomic.Uint32

// FutexRoundTrip measures count batches of n round trips.
func FutexRoundTrip(name string, count, n int) (result.Result, error) {
	ping.Store(0)
	pong.Store(0)
	defer MoreProcs()()
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
	r, err := Batches(name, count, n, func(n int) error {
		for range n {
			seq++
			ping.Store(seq)
			if err := futexWake(&ping); err != nil {
				return err
			}
			for v := pong.Load(); v != seq; v = pong.Load() {
				if v == futexAbort {
					return errors.New("futex peer failed")
				}
				if err := futexWait(&pong, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	ping.Store(futexAbort) // the peer stops
	if werr := futexWake(&ping); werr != nil {
		err = errors.Join(err, werr)
	}
	return r, errors.Join(err, <-done)
}

// futexPeer answers every sequence number until the main side stores futexAbort. On an error
// it stores futexAbort itself, so that the main side does not wait forever.
func futexPeer() error {
	err := answer()
	if err != nil {
		pong.Store(futexAbort)
		_ = futexWake(&pong)
	}
	return err
}

func answer() error {
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

// futexWait sleeps while *w == val. A changed value (EAGAIN) or a signal (EINTR) is no
// error: the caller looks at the word again.
func futexWait(w *atomic.Uint32, val uint32) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWaitPrivate, uintptr(val), 0, 0, 0)
	if e != 0 && e != syscall.EAGAIN && e != syscall.EINTR {
		return fmt.Errorf("futex wait: %w", e)
	}
	return nil
}

// futexWake wakes one thread sleeping on w.
func futexWake(w *atomic.Uint32) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWakePrivate, 1, 0, 0, 0)
	if e != 0 {
		return fmt.Errorf("futex wake: %w", e)
	}
	return nil
}
