package main

// Self-tests selected with selftest=NAME[:ARG] on the kernel command line. Each prints one
// result line and returns the exit status (0 = success); the fault tests never return: the
// core crashes on purpose and the launcher sees status 100.

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/tier2/sensor/content"
)

type selftest struct {
	usage string
	run   func(arg string) error
}

var selftests = map[string]selftest{
	"primes":   {"primes:N (N up to 10000000)", testPrimes},
	"gc":       {"gc:MB", testGC},
	"sleep":    {"sleep:MS", testSleep},
	"preempt":  {"preempt", testPreempt},
	"fault":    {"fault:ud|gp|pf|div0|panic", testFault},
	"irq":      {"irq:N (raise a custom interrupt N times)", testIRQ},
	"cf291":    {"cf291:monolithic|verified", testCF291},
	"dma":      {"dma:iommu|none", testDMA},
	"snapshot": {"snapshot:N (restores; the snapshotee module passed with --app)", testSnapshot},
}

func runSelftest(spec string) int {
	name, arg, _ := strings.Cut(spec, ":")
	t, ok := selftests[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "selftest: unknown test %q; known: %s\n", name, knownTests())
		return 2
	}
	if err := t.run(arg); err != nil {
		fmt.Fprintf(os.Stderr, "selftest %s: %v (usage: selftest=%s)\n", name, err, t.usage)
		return 1
	}
	return 0
}

func knownTests() string {
	var names []string
	for _, n := range []string{"primes", "gc", "sleep", "preempt", "fault", "irq", "cf291", "dma", "snapshot"} {
		names = append(names, selftests[n].usage)
	}
	return strings.Join(names, ", ")
}

func intArg(arg string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(arg)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("argument %q: want an integer in [%d, %d]", arg, lo, hi)
	}
	return n, nil
}

// testPrimes counts the primes below N with a segmented sieve, one goroutine per segment.
func testPrimes(arg string) error {
	n, err := intArg(arg, 2, 10_000_000)
	if err != nil {
		return err
	}
	base := smallPrimes(isqrt(n) + 1)
	const workers = 8
	seg := (n + workers - 1) / workers
	var total atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*seg, min((w+1)*seg, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			total.Add(int64(sieveSegment(lo, hi, base)))
		}()
	}
	wg.Wait()
	fmt.Printf("selftest primes N=%d count=%d\n", n, total.Load())
	return nil
}

func isqrt(n int) int {
	r := 0
	for (r+1)*(r+1) <= n {
		r++
	}
	return r
}

func smallPrimes(limit int) []int {
	composite := make([]bool, limit+1)
	var ps []int
	for i := 2; i <= limit; i++ {
		if !composite[i] {
			ps = append(ps, i)
			for j := i * i; j <= limit; j += i {
				composite[j] = true
			}
		}
	}
	return ps
}

// sieveSegment counts primes in [lo, hi).
func sieveSegment(lo, hi int, base []int) int {
	if hi <= lo {
		return 0
	}
	composite := make([]bool, hi-lo)
	for _, p := range base {
		if p*p >= hi {
			break
		}
		start := max(p*p, (lo+p-1)/p*p)
		for j := start; j < hi; j += p {
			composite[j-lo] = true
		}
	}
	count := 0
	for i := range composite {
		if v := lo + i; v >= 2 && !composite[i] {
			count++
		}
	}
	return count
}

var gcSink atomic.Pointer[[]byte]

// testGC allocates MB MiB in short-lived 1 KiB objects and reports GC cycles and live heap.
func testGC(arg string) error {
	mb, err := intArg(arg, 1, 4096)
	if err != nil {
		return err
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < mb*1024; i++ {
		b := make([]byte, 1024)
		b[0] = byte(i)
		gcSink.Store(&b)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	cycles := after.NumGC - before.NumGC
	fmt.Printf("selftest gc MB=%d cycles=%d heap=%d\n", mb, cycles, after.HeapAlloc)
	if cycles == 0 {
		return fmt.Errorf("no GC cycle ran")
	}
	return nil
}

// testSleep sleeps MS milliseconds and reports the time measured by the core's clock.
func testSleep(arg string) error {
	msArg, err := intArg(arg, 0, 600_000)
	if err != nil {
		return err
	}
	t0 := arch.Nanotime()
	time.Sleep(time.Duration(msArg) * time.Millisecond)
	elapsed := (arch.Nanotime() - t0) / 1e6
	fmt.Printf("selftest sleep MS=%d elapsed=%d\n", msArg, elapsed)
	return nil
}

// testPreempt: with GOMAXPROCS=2 on one CPU, a goroutine spinning in a call-free loop for 2 s
// must not stop another goroutine from ticking every 10 ms. A GC in the middle needs the
// spinner to be preempted asynchronously (SIGURG).
func testPreempt(arg string) error {
	if arg != "" {
		return fmt.Errorf("takes no argument")
	}
	runtime.GOMAXPROCS(2)
	var stop atomic.Bool
	var spins uint64
	done := make(chan struct{})
	go func() {
		n := uint64(0)
		for !stop.Load() {
			n++
		}
		spins = n
		close(done)
	}()
	ticks := 0
	start := time.Now()
	gcBefore := numGC()
	for time.Since(start) < 2*time.Second {
		time.Sleep(10 * time.Millisecond)
		ticks++
		if ticks == 50 {
			runtime.GC() // stop-the-world: the spinner must be preempted
		}
	}
	stop.Store(true)
	<-done
	fmt.Printf("selftest preempt spinner=%d ticks=%d gc=%d\n", spins, ticks, numGC()-gcBefore)
	if ticks < 20 || spins == 0 {
		return fmt.Errorf("starved: %d ticks, %d spins", ticks, spins)
	}
	return nil
}

func numGC() uint32 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.NumGC
}

// Assembly helpers in fault_amd64.s.
func invalidOpcode()
func divideByZero(x uint64) uint64

// testFault triggers a fault inside the core. None of them is recovered: the kernel prints a
// CORE CRASH report and the machine stops with status 100.
func testFault(arg string) error {
	fmt.Printf("selftest fault %s: triggering\n", arg)
	switch arg {
	case "ud":
		invalidOpcode()
	case "gp":
		p := (*uint64)(unsafe.Pointer(uintptr(0x8000_0000_0000_0000))) // non-canonical
		fmt.Println(*p)
	case "pf":
		var p *int
		fmt.Println(*p)
	case "div0":
		fmt.Println(divideByZero(0))
	case "panic":
		panic("selftest: deliberate panic in the core")
	default:
		return fmt.Errorf("unknown fault %q", arg)
	}
	return fmt.Errorf("fault %s did not fault", arg)
}

const testVector = 200

var irqHandled atomic.Uint64

// onTestVector is a custom interrupt handler: it runs in trap context, so it is nosplit and
// only updates a counter.
//
//go:nosplit
func onTestVector(tf *arch.TrapFrame) bool {
	irqHandled.Add(1)
	return true
}

// testIRQ registers a handler for a free vector, raises it N times through the local APIC and
// checks that every one was handled.
func testIRQ(arg string) error {
	n, err := intArg(arg, 1, 1_000_000)
	if err != nil {
		return err
	}
	if err := kernel.RegisterHandler(testVector, onTestVector); err != nil {
		return err
	}
	defer kernel.UnregisterHandler(testVector)
	if err := kernel.RegisterHandler(testVector, onTestVector); err == nil {
		return fmt.Errorf("a second handler for vector %d was accepted", testVector)
	}
	for i := 0; i < n; i++ {
		kernel.SelfInterrupt(testVector)
	}
	deadline := time.Now().Add(time.Second)
	for irqHandled.Load() < uint64(n) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("selftest irq vector=%d raised=%d handled=%d\n", testVector, n, irqHandled.Load())
	if irqHandled.Load() != uint64(n) {
		return fmt.Errorf("handled %d of %d interrupts", irqHandled.Load(), n)
	}
	return nil
}

// testCF291 runs the Falcon-like sensor's content interpreter inside the core itself (ring 0),
// as the real sensor ran in the Windows kernel: it screens named-pipe events with the good
// channel file, then applies the bad update (an instance with a criterion on field 21 of 20).
// monolithic: the native-style interpreter reads past its 20 input values and the core dies
// (CORE CRASH). verified: the update is checked against each template type's real input count
// first and rejected; the core keeps screening with the good content.
func testCF291(mode string) error {
	if mode != "monolithic" && mode != "verified" {
		return fmt.Errorf("mode %q: want monolithic or verified", mode)
	}
	good, bad := content.Fixtures()
	active := good
	screen := func(c *content.ChannelFile) int {
		hits := 0
		for _, v := range content.DemoEvents() {
			if d, ok := c.MatchNative(&content.NewInput(v).Values); ok {
				hits++
				fmt.Printf("cf291 %s: detection %q on %s\n", mode, d.Name, v[content.FieldPipeName])
			}
		}
		return hits
	}
	fmt.Printf("cf291 %s: sensor in ring 0 with %s (channel %d, sequence %d)\n", mode, good.Name, good.Channel, good.Sequence)
	fmt.Printf("cf291 %s: screened 3 pipe events, %d detections\n", mode, screen(active))
	fmt.Printf("cf291 %s: content update %s (sequence %d) arrives\n", mode, bad.Name, bad.Sequence)
	if mode == "verified" {
		if err := content.Validate(bad, content.SensorSupplies()); err != nil {
			fmt.Printf("cf291 verified: update rejected: %v\n", err)
		} else {
			active = bad
		}
	} else {
		active = bad
	}
	fmt.Printf("cf291 %s: screened 3 pipe events, %d detections; still up\n", mode, screen(active))
	return nil
}
