// Package measure is how SimpleOS's benchmark programs time what they measure, shared by
// bench/guest (the program both SimpleOS and Linux run) and bench/progs/micro (SimpleOS's own
// micro-benchmarks), so that a figure means the same whichever program measured it: one
// untimed warm-up batch, then `count` timed batches of n operations, each timed by the wall
// clock (time.Now: the vDSO on Linux, clock_gettime on SimpleOS) and by RDTSC. A batch's mean
// is one sample of the distribution. It also holds the two measurements both programs make:
// the futex round trip between two threads and the first-touch page fault.
package measure

import (
	"runtime"
	"time"

	"github.com/simpleos/simpleos/bench/result"
)

// Stopwatch reads both clocks.
type Stopwatch struct {
	t time.Time
	c uint64
}

// Start starts a stopwatch.
func Start() Stopwatch { return Stopwatch{t: time.Now(), c: Rdtsc()} }

// Stop returns the nanoseconds and cycles since the stopwatch started.
func (s Stopwatch) Stop() (ns int64, cycles uint64) {
	c := Rdtsc()
	return time.Since(s.t).Nanoseconds(), c - s.c
}

// Collector adds up the batches of one benchmark.
type Collector struct {
	name    string
	iters   int64
	ns      int64
	cycles  uint64
	samples []float64
}

// NewCollector starts collecting count batches of the named benchmark.
func NewCollector(name string, count int) *Collector {
	return &Collector{name: name, samples: make([]float64, 0, count)}
}

// Add records one batch of n operations.
func (c *Collector) Add(n int, ns int64, cycles uint64) {
	c.iters += int64(n)
	c.ns += ns
	c.cycles += cycles
	c.samples = append(c.samples, float64(ns)/float64(n))
}

// Result is the benchmark's figure: the mean over every operation, and the batch means.
func (c *Collector) Result() result.Result {
	r := result.Result{Name: c.name, Iters: c.iters, Samples: c.samples}
	if c.iters > 0 {
		r.NsPerOp = float64(c.ns) / float64(c.iters)
		r.CyclesPerOp = float64(c.cycles) / float64(c.iters)
	}
	return r
}

// Batches runs one untimed warm-up batch, then times count batches of n operations each;
// do performs n operations.
func Batches(name string, count, n int, do func(n int) error) (result.Result, error) {
	c := NewCollector(name, count)
	if err := do(n); err != nil {
		return result.Result{}, err
	}
	for range count {
		w := Start()
		err := do(n)
		ns, cycles := w.Stop()
		if err != nil {
			return result.Result{}, err
		}
		c.Add(n, ns, cycles)
	}
	return c.Result(), nil
}

// MoreProcs makes room for two goroutines that block in raw system calls while holding their
// Ps (at least 3), and returns the function that puts GOMAXPROCS back.
func MoreProcs() (restore func()) {
	prev := runtime.GOMAXPROCS(0)
	if prev < 3 {
		runtime.GOMAXPROCS(3)
	}
	return func() { runtime.GOMAXPROCS(prev) }
}
