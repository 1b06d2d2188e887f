package main

// The fault-injection campaign runner (simpleos inject; inject=on on the kernel command line).
// The launcher passes a plan as a Multiboot module ("PATH simpleos-inject"), one injection per
// line: "ID CLASS TARGET DELAY_MS". For each, the runner injects the fault into the target
// module and classifies what happened, printing
//
//	inject start id=17 class=null-deref target=sensor
//	inject result id=17 class=null-deref target=sensor outcome=restarted recovery_us=71234 detail="..."
//
// Tiered deployment: every fault goes into a clean instance — the one restored from the
// module's snapshot after the previous fault, else a new one restored for it. Faults the
// module's own code commits (package inject/fault) are armed in that running instance, whose
// fault agent waits for them (inject_wait), and executed after the delay; a driver's or the
// file server's, which they commit in their request path, are passed to a fresh instance as
// an -inject=... argument; bit flips and kills are done by the core from outside. The
// outcome is handled (the instance survived and still serves), restarted (it died and the
// supervisor's restart serves again; recovery_us is end to serving), quarantined (it died and
// its crash budget ran out: the runner then lifts the quarantine, as an operator would),
// breach (a forbidden operation completed, or a canary the core keeps changed) or hang (it
// stopped serving and nothing brought it back within the window).
//
// Monolithic deployment (sensor=monolithic): the module's code is part of the core, so the
// fault runs in a core goroutine in ring 0. Whatever kills the module kills the core: the
// launcher sees the CORE CRASH. A kill becomes a kernel panic in the module's code, since a
// component of a monolithic kernel cannot be killed on its own.

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/inject"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/x86"
	"github.com/simpleos/simpleos/inject/fault"
	"github.com/simpleos/simpleos/tier1/blk/blkfault"
)

// InjectMarker is the second word of the plan module's command line.
const InjectMarker = "simpleos-inject"

// hangAfter is how long a target may take to end, recover or serve again after a fault
// before the outcome is a hang. Guest time is wall time under TCG, and a loaded host runs the
// guest several times slower: a recovery that takes 0.5 s alone can take 5 s there.
const hangAfter = 15 * time.Second

type injection struct {
	id            int
	class, target string
	delay         time.Duration
}

// loadPlan reads the plan module, if the launcher passed one.
func loadPlan() ([]injection, bool, error) {
	for _, m := range kernel.Modules() {
		w := strings.Fields(m.Cmdline)
		if len(w) != 2 || w[1] != InjectMarker {
			continue
		}
		var plan []injection
		for i, line := range strings.Split(string(m.Data), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || strings.HasPrefix(f[0], "#") {
				continue
			}
			bad := func(why string) ([]injection, bool, error) {
				return nil, true, fmt.Errorf("%s: line %d: %s", w[0], i+1, why)
			}
			if len(f) != 4 {
				return bad("want ID CLASS TARGET DELAY_MS")
			}
			id, err1 := strconv.Atoi(f[0])
			ms, err2 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil || id <= 0 || ms < 0 {
				return bad("bad id or delay")
			}
			if !fault.Known(f[1]) {
				return bad("unknown fault class " + strconv.Quote(f[1]))
			}
			plan = append(plan, injection{id, f[1], f[2], time.Duration(ms) * time.Millisecond})
		}
		return plan, true, nil
	}
	return nil, false, nil
}

// Canaries: memory a wild write must not reach. coreCanary stands for the core's own data;
// the task canary is the first code page of another running task, read through the direct map.
var coreCanary [64]uint64

const canaryWord = 0x5afe_c0de_5afe_c0de

type injector struct {
	st      *supervisorState
	plan    []injection
	mode    string
	ends    chan taskEnd
	started chan struct{} // an instance started (supervisorState.start): a restart may serve
	seed    uint64
	layouts map[*app]layout // each app's image, read once
	core    layout          // the core's image: the monolithic sensor's code, the core's data
	victim  struct {
		pid  int
		va   uint64
		want uint64
	}
	dmaCanary uint64 // physical address of the page dma-wild aims the device at
	soaks     []*app // the data-integrity clients: blktest --soak (blk), filetest --soak (fs)

	clean        map[*app]int // an instance of the app no fault has been injected into (fresh)
	armedInPlace int          // faults armed in a running instance, no restart (inTask)
	reused       int          // injections into an instance already clean, no restart (fresh)
}

// taskEnd is what the supervisor tells the runner about an instance's end.
type taskEnd struct {
	a        *app
	ev       kernel.TaskEvent
	restart  bool
	quarantd bool
}

// newInjector prepares a campaign. seed (inject.seed= on the command line) makes its random
// choices reproducible: injection id's seed depends only on seed and id, so shards of one
// campaign agree.
func newInjector(st *supervisorState, plan []injection, mode string, seed uint64) *injector {
	for i := range coreCanary {
		coreCanary[i] = canaryWord
	}
	in := &injector{st: st, plan: plan, mode: mode, ends: make(chan taskEnd, 16), started: make(chan struct{}, 1), seed: seed, layouts: map[*app]layout{}, clean: map[*app]int{}}
	in.dmaCanary = newDMACanary()
	if core := kernel.Modules()[0].Data; mode == "monolithic" {
		in.core = layoutOf(core, functionSymbols(core), "github.com/simpleos/simpleos/tier2/sensor/")
	}
	return in
}

// layout returns a's image layout, reading it the first time.
func (in *injector) layout(a *app) layout {
	l, ok := in.layouts[a]
	if !ok {
		l = layoutOf(a.image, a.syms, "github.com/simpleos/simpleos/")
		in.layouts[a] = l
	}
	return l
}

func (in *injector) run() {
	protocolf("inject: campaign %d injections, deployment %s", len(in.plan), in.mode)
	for _, c := range soakClients {
		for _, j := range in.plan {
			if j.target == c.target {
				in.startSoak(c)
				break
			}
		}
	}
	for _, j := range in.plan {
		protocolf("inject start id=%d class=%s target=%s", j.id, j.class, j.target)
		began := arch.Nanotime()
		var outcome, detail string
		var recovery time.Duration
		inCore := in.mode == "monolithic"
		switch j.target {
		case blkModule:
			inCore = in.st.blkMode == "monolithic"
		case fsModule:
			inCore = false // the file-system server is a ring-3 task in both deployments
		}
		switch {
		case inCore && fault.IsDriver(j.class):
			outcome, detail = in.inCoreBlk(j)
		case inCore:
			outcome, detail = in.inCore(j)
		default:
			outcome, recovery, detail = in.inTask(j)
		}
		if j.target == blkModule && outcome != "hang" {
			time.Sleep(time.Second) // the data-integrity client checks what the driver acknowledged
		}
		if j.target == fsModule && outcome != "hang" {
			time.Sleep(2 * time.Second) // ...and what the file system's restarted server reads back
		}
		if o, d := in.checkCanaries(); o != "" {
			outcome, detail = o, d
		}
		if o, d := in.checkSoak(); o != "" {
			outcome, detail = o, d
		}
		protocolf("inject result id=%d class=%s target=%s outcome=%s recovery_us=%d took_us=%d detail=%q",
			j.id, j.class, j.target, outcome, recovery.Microseconds(), (arch.Nanotime()-began)/1000, detail)
	}
	fmt.Printf("inject: %d faults armed in a running instance, %d injected into an instance already clean (no restart)\n", in.armedInPlace, in.reused)
	protocolf("inject: campaign done")
	os.Exit(0)
}

// protocolf writes a line of the campaign protocol on the protocol channel, where the launcher
// reads it and no task can forge it, and straight to the serial port for people reading the
// transcript: task output (crash dumps, a console driver that is itself the target) must not
// delay, cut or drop it.
func protocolf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	kernel.ProtocolLine(line)
	kernel.ConsoleLine(line)
}

// seedFor derives injection id's seed (splitmix64).
func (in *injector) seedFor(id int) uint64 {
	z := in.seed + uint64(id)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// targets are the addresses the wild-write classes aim at: the core canary through the
// direct map, and another task's code page through the direct map. The driver classes get
// the physical address of the DMA canary page instead: dma-wild points the device at it.
func (in *injector) targets(target, class string) fault.Targets {
	t := fault.Targets{CoreAddr: inject.DirectMapAddress(uint64(uintptr(unsafe.Pointer(&coreCanary[0]))))}
	if fault.IsDriver(class) {
		t.CoreAddr = uintptr(in.dmaCanary)
	}
	in.victim.pid = 0
	in.st.mu.Lock()
	for _, a := range in.st.apps {
		if a.spec.Name == target || a.pid == 0 {
			continue
		}
		va := in.layout(a).entry
		k, ok := inject.TaskAddress(a.pid, va)
		want, ok2 := inject.TaskWord(a.pid, va)
		if ok && ok2 {
			t.TaskAddr = k
			in.victim.pid, in.victim.va, in.victim.want = a.pid, va, want
			break
		}
	}
	in.st.mu.Unlock()
	return t
}

// checkCanaries reports a breach if a wild write reached the core canary or the victim task,
// or a wild DMA the DMA canary page.
func (in *injector) checkCanaries() (string, string) {
	if off, v, ok := dmaCanaryChanged(in.dmaCanary); !ok {
		return "breach", fmt.Sprintf("DMA canary page %#x: the word at offset %#x changed to %#x", in.dmaCanary, off, v)
	}
	for i, v := range coreCanary {
		if v != canaryWord {
			coreCanary[i] = canaryWord
			return "breach", fmt.Sprintf("core canary word %d changed to %#x", i, v)
		}
	}
	if in.victim.pid != 0 {
		if v, ok := inject.TaskWord(in.victim.pid, in.victim.va); ok && v != in.victim.want {
			return "breach", fmt.Sprintf("pid %d's code at %#x changed to %#x", in.victim.pid, in.victim.va, v)
		}
	}
	return "", ""
}

func (in *injector) app(name string) *app {
	for _, a := range in.st.apps {
		if a.spec.Name == name {
			return a
		}
	}
	return nil
}

// serving reports whether instance pid of a is up: it serves its endpoints (or, for the
// console driver, is attached).
func serving(a *app, pid int) bool {
	if pid == 0 {
		return false
	}
	if a.module == nil || len(a.module.Serves) == 0 {
		_, ok := kernel.Usage(pid)
		return ok
	}
	for _, ep := range a.module.Serves {
		if ep == "console" {
			if kernel.ConsoleDriver() != pid {
				return false
			}
		} else if kernel.EndpointServer(ep) != pid {
			return false
		}
	}
	return true
}

// waitServing waits until a running instance of a serves; it returns its pid.
func (in *injector) waitServing(a *app, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		in.st.mu.Lock()
		pid := a.pid
		in.st.mu.Unlock()
		if serving(a, pid) {
			return pid
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0
}

// remaining is what is left of a scenario's delay, which counts from the start of instance
// pid: an instance restored a while ago (after the previous fault) has waited part of it, and
// one restored from a snapshot starts at the age its snapshot was taken at — the delay is
// there to let a module initialise, and a restored instance has.
func remaining(pid int, delay time.Duration) time.Duration {
	if u, ok := kernel.Usage(pid); ok {
		return max(0, delay-(time.Duration(arch.Nanotime())-u.Started+u.Inherited))
	}
	return delay
}

// bitflipWindow is how long a flipped bit may do nothing before it is counted as harmless.
const bitflipWindow = 300 * time.Millisecond

// waitArmable waits until a thread of instance pid waits for a fault (its agent, fault.Arm);
// false if none does within a second (a module without an agent).
func (in *injector) waitArmable(pid int) bool {
	for range 500 {
		if inject.Armable(pid) {
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

// fresh returns a clean instance of a: the running one if no fault has been injected into it
// (one restored from its snapshot after the last fault), else a new one (killing the running
// one, or lifting a quarantine as an operator would), with an optional -inject argument. An
// armed instance is returned as soon as it starts — its fault may strike before it serves; an
// unarmed one once it serves.
func (in *injector) fresh(a *app, arg string) int {
	in.drain()
	in.st.mu.Lock()
	if pid := a.pid; arg == "" && pid != 0 && in.clean[a] == pid && serving(a, pid) {
		in.st.mu.Unlock()
		in.reused++
		return pid
	}
	a.injectArg = arg
	pid, starts := a.pid, a.starts
	if pid != 0 {
		a.planned = true // ended() restarts it at once, silently
	}
	in.st.mu.Unlock()
	if pid != 0 {
		kernel.KillTask(pid)
	} else {
		in.st.mu.Lock()
		a.tracker.Reset()
		a.done = false
		in.st.mu.Unlock()
		in.st.start(a)
	}
	newPID := 0
	for i := 0; i < 5000 && newPID == 0; i++ {
		in.st.mu.Lock()
		if a.starts > starts {
			newPID = a.started
		}
		in.st.mu.Unlock()
		if newPID == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if newPID == 0 || arg != "" {
		return newPID
	}
	if in.waitServing(a, 10*time.Second) != newPID {
		return 0
	}
	in.clean[a] = newPID
	return newPID
}

func (in *injector) drain() {
	for {
		select {
		case <-in.ends:
		default:
			return
		}
	}
}

// inTask injects a fault into a module running as a task and classifies the outcome.
func (in *injector) inTask(j injection) (string, time.Duration, string) {
	a := in.app(j.target)
	if a == nil {
		return "hang", 0, "no module " + j.target + " is running"
	}
	spec := fault.Spec{Class: j.class, Delay: j.delay, Seed: in.seedFor(j.id), Targets: in.targets(j.target, j.class)}
	// A fault the module commits itself is armed in a clean running instance — one restored
	// from its snapshot, whose agent waits for it (fault.Arm) — without a restart; a driver's
	// or file server's, which it commits in its request path, and any fault for a module
	// without an agent, in a new instance started with it as an argument.
	var pid int
	strikesIn := j.delay // how long from now the fault strikes, at the latest
	switch {
	case fault.IsExternal(j.class):
		pid = in.fresh(a, "")
	case !fault.IsCommittedByModule(j.class):
		pid = in.fresh(a, "")
		if pid != 0 && in.waitArmable(pid) {
			// The scenario's delay counts from the instance's start, as for a fault passed
			// at start: what of it has passed since (the instance was restored a while ago,
			// after the last fault) is not waited again.
			armed := spec
			armed.Delay = remaining(pid, spec.Delay)
			strikesIn = armed.Delay
			inject.Arm(pid, strings.TrimPrefix(armed.Arg(), "-inject="))
			in.armedInPlace++
			break
		}
		fallthrough
	default:
		pid = in.fresh(a, spec.Arg())
	}
	delete(in.clean, a) // the instance has a fault in it now
	if pid == 0 {
		return "hang", 0, j.target + " did not start, or does not serve after a restart"
	}
	injectedAt := time.Now()
	if fault.IsExternal(j.class) {
		time.Sleep(remaining(pid, j.delay))
		if detail, ok := in.external(a, pid, j.class, spec.Seed); !ok {
			return "hang", 0, detail
		}
		strikesIn = 0 // done: the window starts now
	}
	window := hangAfter
	if fault.IsExternal(j.class) && j.class != fault.Kill {
		window = bitflipWindow
	}
	deadline := time.Now().Add(strikesIn + window)
	poll := time.NewTicker(2 * time.Millisecond)
	defer poll.Stop()
	for time.Now().Before(deadline) {
		select {
		case e := <-in.ends: // the end, as soon as the supervisor has it
			if e.ev.PID != pid {
				continue
			}
			return in.afterEnd(a, e)
		case <-poll.C: // or the agent's report
		}
		switch inject.Report(pid) {
		case uint64(fault.Breach):
			return "breach", 0, j.class + " completed in ring " + strconv.Itoa(a.spec.Ring)
		case uint64(fault.Handled):
			time.Sleep(5 * time.Millisecond) // and still serves a moment later
			if serving(a, pid) {
				return "handled", 0, "the module recovered and still serves"
			}
		}
	}
	if serving(a, pid) && fault.IsExternal(j.class) {
		return "handled", 0, "no effect seen within " + window.String()
	}
	detail := fmt.Sprintf("%s neither ended nor recovered %v after the fault", j.target, time.Since(injectedAt).Round(time.Millisecond))
	return "hang", 0, detail
}

// external does what the core itself injects: a kill, or a bit flip in the task's image.
func (in *injector) external(a *app, pid int, class string, seed uint64) (string, bool) {
	switch class {
	case fault.Kill:
		if !kernel.KillTask(pid) {
			return "the task was gone before the kill", false
		}
		return "", true
	default:
		r := in.layout(a).data
		if class == fault.BitflipCode {
			r = in.layout(a).ownCode
		}
		for try := 0; try < 16; try++ {
			va, ok := pick(r, seed)
			if !ok {
				return "no segment to flip a bit in", false
			}
			if inject.FlipTaskBit(pid, va, uint(seed>>56)) {
				return "", true
			}
			seed = seed*6364136223846793005 + 1442695040888963407
		}
		return "no resident page to flip a bit in", false
	}
}

// afterEnd classifies a target's end: restarted (and serving again), quarantined or hang.
func (in *injector) afterEnd(a *app, e taskEnd) (string, time.Duration, string) {
	detail := a.last
	if e.quarantd {
		return "quarantined", 0, detail
	}
	if !e.restart {
		return "hang", 0, detail + " (not restarted)"
	}
	for deadline := time.Now().Add(hangAfter); time.Now().Before(deadline); {
		in.st.mu.Lock()
		pid := a.pid
		in.st.mu.Unlock()
		if pid != 0 && pid != e.ev.PID && serving(a, pid) {
			in.clean[a] = pid // restarted after the fault: no fault in it
			return "restarted", time.Duration(arch.Nanotime()) - e.ev.At, detail
		}
		// An instance restored from its snapshot serves as soon as it starts: wait for the
		// start, not the next poll (a cold start serves later: polled every millisecond).
		select {
		case <-in.started:
		case <-time.After(time.Millisecond):
		}
	}
	return "hang", 0, detail + " (restarted, but not serving within " + hangAfter.String() + ")"
}

// inCore runs the fault in the core itself: the monolithic deployment.
func (in *injector) inCore(j injection) (string, string) {
	t := in.targets("", j.class)
	time.Sleep(j.delay)
	done := make(chan fault.Outcome, 1)
	go func() {
		switch j.class {
		case fault.Kill:
			panic("fault injected: kill " + j.target + " (a module linked into the core cannot be killed on its own)")
		case fault.BitflipCode, fault.BitflipData:
			done <- in.flipCoreBit(j.class == fault.BitflipCode, in.seedFor(j.id))
			return
		}
		o, err := fault.Inject(j.class, t, in.seedFor(j.id))
		if err != nil {
			fmt.Println("inject:", err)
		}
		done <- o
	}()
	select {
	case o := <-done:
		if o == fault.Breach {
			return "breach", j.class + " completed in ring 0"
		}
		time.Sleep(20 * time.Millisecond)
		return "handled", "the core survived"
	case <-time.After(hangAfter):
		return "hang", j.class + " in the core has not returned after " + hangAfter.String()
	}
}

// layout is what the runner needs of an image, read once: its entry point, its data segment
// and the address range of the functions whose names start with a prefix (the module's own
// code, where a flipped bit hits code that runs; one anywhere in a multi-megabyte text
// segment almost never would).
type layout struct {
	entry   uint64
	data    [2]uint64
	ownCode [2]uint64
}

func layoutOf(image []byte, syms []elf.Symbol, prefix string) layout {
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return layout{}
	}
	l := layout{entry: f.Entry}
	var text [2]uint64
	for _, p := range f.Progs {
		switch {
		case p.Type != elf.PT_LOAD:
		case p.Flags&elf.PF_X != 0 && text[1] == 0:
			text = [2]uint64{p.Vaddr, p.Vaddr + p.Filesz}
		case p.Flags&elf.PF_W != 0 && l.data[1] == 0:
			l.data = [2]uint64{p.Vaddr, p.Vaddr + p.Filesz}
		}
	}
	for _, s := range syms { // sorted by address
		if !strings.HasPrefix(s.Name, prefix) {
			continue
		}
		if l.ownCode[0] == 0 {
			l.ownCode[0] = s.Value
		}
		l.ownCode[1] = max(l.ownCode[1], s.Value+s.Size)
	}
	if l.ownCode[1] <= l.ownCode[0] {
		l.ownCode = text
	}
	return l
}

// pick returns an address in [r[0], r[1]) chosen by seed.
func pick(r [2]uint64, seed uint64) (uint64, bool) {
	if r[1] <= r[0] {
		return 0, false
	}
	return r[0] + seed%(r[1]-r[0]), true
}

// flipCoreBit flips a bit in the core's own image: in the sensor's code (code) or in the
// core's data.
func (in *injector) flipCoreBit(code bool, seed uint64) fault.Outcome {
	r := in.core.data
	if code {
		r = in.core.ownCode
	}
	if va, ok := pick(r, seed); ok {
		inject.FlipCoreBit(va, uint(seed>>61))
	}
	time.Sleep(time.Second)
	return fault.Handled
}

// newDMACanary allocates the page a dma-wild injection points the device at, outside every
// DMA allocation (in the tiered deployment outside every IOMMU domain), and fills it.
func newDMACanary() uint64 {
	x86.Cli()
	f, ok := mm.AllocFrame()
	x86.Sti()
	if !ok {
		return 0
	}
	for off := uintptr(0); off < mm.PageSize; off += 8 {
		arch.Store64(mm.DirectMap(f)+off, canaryWord)
	}
	return f
}

// dmaCanaryChanged checks the DMA canary page (and refills it): ok=false, the offset and the
// value of the first changed word if a device wrote it.
func dmaCanaryChanged(f uint64) (off uintptr, v uint64, ok bool) {
	if f == 0 {
		return 0, 0, true
	}
	ok = true
	for o := uintptr(0); o < mm.PageSize; o += 8 {
		if w := arch.Load64(mm.DirectMap(f) + o); w != canaryWord {
			if ok {
				off, v, ok = o, w, false
			}
			arch.Store64(mm.DirectMap(f)+o, canaryWord)
		}
	}
	return off, v, ok
}

// A soakClient is a campaign's data-integrity client: started, with its one argument, once
// its target serves the endpoint, when the plan injects into target.
type soakClient struct{ target, endpoint, module, arg string }

var soakClients = []soakClient{
	{blkModule, "blk", "blktest", "--soak"}, // writes, flushes and reads back disk slots
	{fsModule, "fs", "filetest", "--soak"},  // writes, fsyncs and reads back files in /data/soak
}

// fsModule is the file-system server's module name.
const fsModule = "fs"

// startSoak starts a data-integrity client once the module it checks serves.
func (in *injector) startSoak(c soakClient) {
	a := in.app(c.module)
	if a == nil {
		fmt.Printf("inject: no %s module: the %s campaign runs without a data-integrity client\n", c.module, c.target)
		return
	}
	for i := 0; i < 1500 && kernel.EndpointServer(c.endpoint) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	in.st.mu.Lock()
	a.injectArg = c.arg
	in.st.mu.Unlock()
	in.st.start(a)
	in.soaks = append(in.soaks, a)
}

// checkSoak reports a breach if a data-integrity client reported acknowledged data lost or
// corrupted (inject_report; its output is not trusted).
func (in *injector) checkSoak() (string, string) {
	for _, a := range in.soaks {
		in.st.mu.Lock()
		pid := a.pid
		in.st.mu.Unlock()
		if pid != 0 && inject.Report(pid) == uint64(fault.Breach) {
			inject.ClearReport(pid)
			return "breach", fmt.Sprintf("the data-integrity client (%s --soak) read back acknowledged data lost or corrupted", a.spec.Name)
		}
	}
	return "", ""
}

// inCoreBlk commits a driver class in the block driver the core runs itself (blk=monolithic).
func (in *injector) inCoreBlk(j injection) (string, string) {
	inCoreBlk.Lock()
	b := inCoreBlk.b
	inCoreBlk.Unlock()
	if b == nil {
		return "hang", "no blk driver runs in the core"
	}
	spec := fault.Spec{Class: j.class, Delay: j.delay, Seed: in.seedFor(j.id), Targets: in.targets(j.target, j.class)}
	s := blkfault.New(spec, b.p)
	s.Logf = b.cfg.Logf
	struck := make(chan error, 1)
	s.Struck = func(_ string, err error) { struck <- err }
	opens, _ := b.state()
	b.arm(s)
	defer b.arm(nil)
	select {
	case err := <-struck:
		switch j.class {
		case fault.DMAStale:
			if at, ok := b.p.freedLanded(); ok {
				return "breach", fmt.Sprintf("the device wrote into freed core frame %#x (request: %v)", at, err)
			}
			return "handled", fmt.Sprintf("the stale DMA left no trace in the freed frame (request: %v)", err)
		case fault.DeviceHang:
			for deadline := time.Now().Add(hangAfter); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if n, ok := b.state(); ok && n > opens {
					return "handled", fmt.Sprintf("the core's driver timed out (%v), reset the device and initialised it again", err)
				}
			}
			return "hang", fmt.Sprintf("the core's driver timed out (%v) and did not come back", err)
		}
		time.Sleep(20 * time.Millisecond)
		return "handled", fmt.Sprintf("the request ended: %v", err)
	case <-time.After(j.delay + hangAfter):
		return "hang", j.class + ": no request reached the core's driver within " + (j.delay + hangAfter).String()
	}
}
