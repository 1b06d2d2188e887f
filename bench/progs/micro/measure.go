package main

import (
	"time"

	"github.com/simpleos/simpleos/bench/result"
)

// The timing method is the one of bench/guest, so that figures measured here and there mean
// the same: one untimed warm-up batch, then `count` timed batches of n operations, each
// timed by the wall clock (clock_gettime on SimpleOS) and by RDTSC. A batch's mean is one
// sample of the distribution.

type stopwatch struct {
	t time.Time
	c uint64
}

func startWatch() stopwatch { return stopwatch{t: time.Now(), c: rdtsc()} }

// stop returns the nanoseconds and cycles since the stopwatch started.
func (s stopwatch) stop() (ns int64, cycles uint64) {
	c := rdtsc()
	return time.Since(s.t).Nanoseconds(), c - s.c
}

// collector adds up the batches of one benchmark.
type collector struct {
	name    string
	iters   int64
	ns      int64
	cycles  uint64
	samples []float64
}

func (c *collector) add(n int, ns int64, cycles uint64) {
	c.iters += int64(n)
	c.ns += ns
	c.cycles += cycles
	c.samples = append(c.samples, float64(ns)/float64(n))
}

func (c *collector) result() result.Result {
	r := result.Result{Name: c.name, Iters: c.iters, Samples: c.samples}
	if c.iters > 0 {
		r.NsPerOp = float64(c.ns) / float64(c.iters)
		r.CyclesPerOp = float64(c.cycles) / float64(c.iters)
	}
	return r
}

// batches times count batches of n operations after one warm-up batch; do performs n.
func batches(name string, count, n int, do func(n int) error) (result.Result, error) {
	c := collector{name: name, samples: make([]float64, 0, count)}
	if err := do(n); err != nil {
		return result.Result{}, err
	}
	for range count {
		w := startWatch()
		err := do(n)
		ns, cycles := w.stop()
		if err != nil {
			return result.Result{}, err
		}
		c.add(n, ns, cycles)
	}
	return c.result(), nil
}
