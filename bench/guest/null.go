package main

import (
	"syscall"

	"github.com/simpleos/simpleos/bench/measure"
	"github.com/simpleos/simpleos/bench/result"
)

// Null system calls: the cost of entering and leaving the kernel, and of asking the
// scheduler for nothing.

// getppid: the call does no work on either system (SimpleOS answers 0).
func getppid(name string, count, n int) (result.Result, error) {
	return measure.Batches(name, count, n, func(n int) error {
		for range n {
			syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		}
		return nil
	})
}

// schedYield with one thread runnable: the scheduler has nobody to switch to.
func schedYield(name string, count, n int) (result.Result, error) {
	return measure.Batches(name, count, n, func(n int) error {
		for range n {
			if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0); e != 0 {
				return e
			}
		}
		return nil
	})
}
