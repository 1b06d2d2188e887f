package main

import (
	"syscall"

	"github.com/simpleos/simpleos/bench/measure"
	"github.com/simpleos/simpleos/bench/result"
)

// getppid: the cheapest system call there is, made without the runtime's wrapper.
func getppid(name string, count, n int) (result.Result, error) {
	return measure.Batches(name, count, n, func(n int) error {
		for range n {
			syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		}
		return nil
	})
}

// threadSwitch is the futex round trip between two threads of this task (package measure),
// reported per switch: half a round trip.
func threadSwitch(name string, count, n int) (result.Result, error) {
	r, err := measure.FutexRoundTrip(name, count, n)
	r.Iters *= 2
	r.NsPerOp /= 2
	r.CyclesPerOp /= 2
	for i := range r.Samples {
		r.Samples[i] /= 2
	}
	return r, err
}
