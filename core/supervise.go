package main

// The supervisor: the core's Go program starts every app passed as a Multiboot module (see
// core/appspec) as a task, waits for tasks to end, reports each end, and restarts or
// quarantines them by the rules of core/supervisor. A watchdog kills tasks that exceed their
// CPU budget or miss their heartbeat deadline.
//
// What a task may do — its ports, the endpoints it serves and calls, its memory quota and its
// rules — comes from its module in the policy manifest (package policy; policy/system.policy
// unless the launcher passes another). A task the manifest does not list gets no grants and
// the default rules of its ring, which these kernel command-line words adjust:
//
//	restart=never|on-failure|always  restart rule for every app (default never: run once)
//	crashbudget=N                    crashes within 10 s before quarantine (default 5)
//	taskmem=MB                       memory quota per task (default 64)
//	taskcpu=MS                       total CPU budget per task instance (default none)
//	heartbeat=MS                     heartbeat deadline per task (default none)
//	taskspin=MS                      spinning limit per task (default none; supervisor.Rules.Spin)
//	maxstarts=N                      start each app at most N times (default unlimited)
//	backoff=MS                       first restart delay, doubling up to 100x (default 10)
//	snapshot=off                     restart modules cold, never from their snapshots (snapshot.go)
//
// safemode (a word alone) starts only the modules the policy does not mark vendor third-party,
// and no in-core sensor: the boot an operator uses to repair a machine whose third-party code
// crashes it at every boot. The left-out modules are never started, so never restarted.

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/appspec"
	"github.com/simpleos/simpleos/core/bpfvm"
	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/notify"
	"github.com/simpleos/simpleos/core/supervisor"
	"github.com/simpleos/simpleos/inject/fault"
	"github.com/simpleos/simpleos/ipc/blk"
	"github.com/simpleos/simpleos/policy"
	"github.com/simpleos/simpleos/policy/bpf"
)

// app is one program passed at boot and its supervision state.
type app struct {
	spec    appspec.Spec
	module  *policy.Module     // its entry in the manifest, nil if it has none
	device  *kernel.DeviceSpec // the PCI device it drives, nil if none
	image   []byte
	rules   supervisor.Rules
	tracker *supervisor.Tracker
	pid     int           // running instance, 0 if none
	starts  int           // instances started
	last    string        // the outcome line of its last instance
	ok      bool          // its last instance exited 0
	done    bool          // will not run again
	endedAt time.Duration // kernel time of the last end, for restart latency
	latency []time.Duration
	syms    []elf.Symbol // the image's function symbols, read once
	content contentState

	recovering bool   // a crashed instance was restarted; report when the new one serves
	how        string // how the running instance started: startCold or startSnapshot
	imageSum   []byte // SHA-256 of image, for snapshot keys (snapshot.go)

	// Fault injection (inject.go).
	injectArg string // added to the arguments of the next instance only
	started   int    // pid of the latest instance started
	planned   bool   // the runner is killing the instance on purpose: restart it at once
}

type supervisorState struct {
	mu         sync.Mutex
	apps       []*app
	byPID      map[int]*app
	quota      uint64
	maxStarts  int
	man        *policy.Manifest         // the policy: its content files
	sensorMode string                   // tiered, verified or monolithic (sensor=); off in safe mode
	blkMode    string                   // tiered or monolithic (blk=)
	injector   *injector                // the fault-injection campaign, if one runs
	fuzz       *fuzzRunner              // the fuzz runner, if fuzzers run (fuzz=on)
	early      map[int]kernel.TaskEvent // ends of tasks start() had not recorded yet
	delayed    []delayedStart           // restarts waiting for their backoff, in no order
	ready      bool                     // every service has served once
	snapshots  bool                     // modules are snapshotted when ready and restored from it (snapshot.go)
}

// reportReady prints, once, when every service first serves its endpoints: the system's
// boot-to-ready time. Called with st.mu held.
func (st *supervisorState) reportReady() {
	if st.ready {
		return
	}
	n := 0
	for _, a := range st.apps {
		if !a.service() {
			continue
		}
		if !serving(a, a.pid) {
			return
		}
		n++
	}
	st.ready = true
	if n > 0 {
		fmt.Printf("supervisor: all %d services serving %.1f ms after kernel entry\n", n, float64(arch.SinceEntry())/1e6)
	}
}

// loadPolicy reads the manifest passed as a module, or the one compiled in, and validates it
// again: the launcher checked it on the host, but the core trusts nothing it did not check.
func loadPolicy() (*policy.Manifest, error) {
	name, src := policy.SystemFile, policy.System
	for _, m := range kernel.Modules() {
		if w := strings.Fields(m.Cmdline); len(w) == 2 && w[1] == policy.ModuleMarker {
			name, src = w[0], m.Data
		}
	}
	return policy.Parse(name, src)
}

// appsFromModules finds the app modules and what the manifest grants each one. Apps the
// manifest does not list run with the ring's default rules (adjusted by the command line) and
// no grants at all.
func appsFromModules(args map[string]string, man *policy.Manifest) ([]*app, error) {
	rules, err := rulesFromArgs(args)
	if err != nil {
		return nil, err
	}
	var apps []*app
	for _, m := range kernel.Modules() {
		s, ok := appspec.Parse(m.Cmdline)
		if !ok {
			continue
		}
		a := &app{spec: s, image: m.Data, rules: rules(s.Ring)}
		if mod, ok := man.Module(s.Name); ok {
			if mod.Ring != s.Ring {
				return nil, fmt.Errorf("app %s: the policy runs it in ring %d, not %d", s.Name, mod.Ring, s.Ring)
			}
			a.module = mod
			a.rules = mod.Rules()
		}
		a.tracker = supervisor.NewTracker(a.rules)
		apps = append(apps, a)
	}
	return apps, nil
}

func rulesFromArgs(args map[string]string) (func(ring int) supervisor.Rules, error) {
	restart := supervisor.Never
	if v, ok := args["restart"]; ok {
		r, err := supervisor.ParseRestart(v)
		if err != nil {
			return nil, err
		}
		restart = r
	}
	ms := func(key string) (time.Duration, error) {
		v, ok := args[key]
		if !ok {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s=%q: want milliseconds", key, v)
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	cpu, err := ms("taskcpu")
	if err != nil {
		return nil, err
	}
	beat, err := ms("heartbeat")
	if err != nil {
		return nil, err
	}
	spin, err := ms("taskspin")
	if err != nil {
		return nil, err
	}
	budget := -1
	if v, ok := args["crashbudget"]; ok {
		if budget, err = strconv.Atoi(v); err != nil || budget < 0 {
			return nil, fmt.Errorf("crashbudget=%q: want a count", v)
		}
	}
	backoff, err := ms("backoff")
	if err != nil {
		return nil, err
	}
	return func(ring int) supervisor.Rules {
		r := supervisor.DefaultRules(ring)
		if _, ok := args["backoff"]; ok {
			r.Backoff.Initial, r.Backoff.Max = backoff, 100*backoff
		}
		r.Restart = restart
		r.TotalCPU = cpu
		r.Heartbeat = beat
		r.Spin = spin
		if budget >= 0 {
			r.CrashBudget = budget
		}
		return r
	}, nil
}

// waitFileServer waits, if a module serves the file system, until it does (at most
// fileServerWait): the programs started next expect their files from the first instruction.
// It reports whether the file system is served.
func (st *supervisorState) waitFileServer() bool {
	const fileServerWait = 20 * time.Second
	for _, a := range st.apps {
		if a.module == nil || !slices.Contains(a.module.Serves, abi.FSEndpoint) || !a.service() {
			continue // a server that is not a service starts with the programs: nothing to wait for
		}
		kernel.ExpectFileServer()
		start := time.Now()
		for time.Since(start) < fileServerWait {
			st.mu.Lock()
			up := serving(a, a.pid)
			st.mu.Unlock()
			if up {
				fmt.Printf("supervisor: file system served by %s after %d ms\n", a.spec.Name, time.Since(start).Milliseconds())
				return true
			}
			time.Sleep(2 * time.Millisecond)
		}
		fmt.Printf("supervisor: %s is not serving the file system after %v: programs find no files\n", a.spec.Name, fileServerWait)
		return false
	}
	return false
}

// supervise runs the apps to completion and returns the core's exit status: 0 only if every
// app's last instance exited 0.
func supervise(apps []*app, args map[string]string, man *policy.Manifest) int {
	st, err := newSupervisor(apps, args)
	if err == nil {
		st.man = man
	}
	if err != nil {
		fmt.Printf("core: %v\n", err)
		return 2
	}
	before := kernel.FramesOutsideCore()
	fmt.Printf("supervisor: %d apps; frames in use outside the core runtime before the first start: %d\n", len(st.apps), before)
	if args["fuzz"] == "on" {
		st.fuzz = newFuzzRunner(st)
	}
	plan, hasPlan, err := loadPlan()
	if err != nil {
		fmt.Printf("core: inject: %v\n", err)
		return 2
	}
	if hasPlan && args["inject"] == "on" {
		// A campaign's modules start with their fault agents (start), from the first.
		seed, _ := strconv.ParseUint(args["inject.seed"], 10, 64)
		st.injector = newInjector(st, plan, st.sensorMode, seed)
	}
	st.startServices()
	if st.injector != nil {
		// A campaign: the services run, the jobs do not; the runner powers off when done.
		go st.watchdog()
		go st.injector.run()
		st.serveEvents(func() bool { return false })
	}
	if st.fuzz != nil {
		st.fuzz.waitServices()
		go st.fuzz.run()
	}
	for _, a := range st.apps {
		if !a.service() {
			st.start(a)
		}
	}
	go st.watchdog()
	st.serveEvents(st.finished)
	if st.fuzz != nil {
		st.fuzz.finish()
	}
	if !flushDisk(10 * time.Second) {
		fmt.Println("supervisor: the disk writer did not finish within 10s: the last content changes (rollbacks, quarantine) may not be on the disk")
	}
	return st.report(before)
}

// quotaOf is the memory quota a's instances get.
func (st *supervisorState) quotaOf(a *app) uint64 {
	if a.module != nil && a.module.Quota != 0 {
		return a.module.Quota
	}
	return st.quota
}

// newSupervisor reads the supervisor's settings from the kernel command line (taskmem,
// maxstarts, sensor, blk) and the apps' symbols; in the monolithic sensor and blk modes the
// core runs the sensor or the block driver itself, so it has no task.
func newSupervisor(apps []*app, args map[string]string) (*supervisorState, error) {
	st := &supervisorState{apps: apps, byPID: map[int]*app{}, quota: 64 << 20, snapshots: args["snapshot"] != "off"}
	if v, ok := args["taskmem"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			st.quota = uint64(n) << 20
		}
	}
	if v, ok := args["maxstarts"]; ok {
		st.maxStarts, _ = strconv.Atoi(v)
	}
	for _, a := range apps {
		a.syms = functionSymbols(a.image)
	}
	mode, err := sensorMode(args)
	if err != nil {
		return nil, err
	}
	st.sensorMode = mode
	if st.blkMode, err = blkMode(args); err != nil {
		return nil, err
	}
	if args["safemode"] == "on" {
		apps = st.leaveOutThirdParty(apps)
	}
	kept := apps[:0]
	for _, a := range apps {
		if !(a.spec.Name == sensorModule && st.sensorMode == "monolithic" || a.spec.Name == blkModule && st.blkMode == "monolithic") {
			kept = append(kept, a)
		}
	}
	st.apps = kept
	return st, nil
}

// leaveOutThirdParty is safe mode: it returns the apps whose policy module is not marked
// vendor third-party and says which were left out. The sensor's code is the security
// vendor's wherever it runs: with sensor=monolithic the core does not run it either.
func (st *supervisorState) leaveOutThirdParty(apps []*app) []*app {
	var kept []*app
	var out []string
	for _, a := range apps {
		if a.module == nil || !a.module.ThirdParty {
			kept = append(kept, a)
			continue
		}
		name := a.spec.Name
		if name == sensorModule && st.sensorMode == "monolithic" {
			name += " (in the core, sensor=monolithic)"
			st.sensorMode = "off"
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		fmt.Println("safemode: no third-party modules to leave out")
	} else {
		sort.Strings(out)
		fmt.Printf("safemode: third-party modules not started: %s\n", strings.Join(out, ", "))
	}
	return kept
}

// startServices starts the services (the console driver among them) before the jobs, so that
// jobs find them running, and waits for a console driver to attach.
func (st *supervisorState) startServices() {
	// The storage stack first: the other services' content is on its disk. A block driver
	// linked into the core is part of it: the file server waits for its endpoint (it waited
	// out its 5 s patience on every monolithic boot while the driver started after it).
	if st.blkMode == "monolithic" {
		go runBlkInCore()
	}
	for _, a := range st.apps {
		if a.service() && a.storage() {
			st.start(a)
		}
	}
	fromDisk := st.waitFileServer()
	if err := loadContent(st.man, fromDisk); err != nil {
		fmt.Fprintf(os.Stderr, "core: content rejected: %v\n", err)
		os.Exit(3)
	}
	for _, a := range st.apps {
		if a.service() && !a.storage() {
			st.start(a)
		}
	}
	if st.sensorMode == "monolithic" {
		go runSensorInCore()
	}
	if st.hasConsoleDriver() {
		for i := 0; i < 200 && !kernel.ConsoleAttached(); i++ {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// report prints the frames and console figures and each job's last line, and returns the
// machine's exit status: 1 if a job did not end as it should.
func (st *supervisorState) report(before uint64) int {
	after := kernel.FramesOutsideCore()
	if st.servicesRunning() {
		fmt.Printf("supervisor: all apps finished; frames in use outside the core runtime: %d (services still running)\n", after)
	} else {
		fmt.Printf("supervisor: all apps finished; frames in use outside the core runtime: %d (%+d since before the first start)\n",
			after, int64(after)-int64(before))
	}
	if n := notify.Delivered(4); n > 0 {
		written, attached, dropped := console.Stats()
		fmt.Printf("supervisor: console driver: %d bytes written, attached %d times, %d bytes dropped, IRQ 4 delivered %d times\n",
			written, attached, dropped, n)
	}
	status := 0
	for _, a := range st.apps {
		if a.service() {
			continue
		}
		fmt.Println(a.last)
		if !a.ok {
			status = 1
		}
		if len(a.latency) > 0 {
			fmt.Println(latencySummary(a))
		}
	}
	return status
}

func (st *supervisorState) start(a *app) {
	spec := kernel.TaskSpec{
		Name:     a.spec.Name,
		Ring:     a.spec.Ring,
		Image:    a.image,
		Args:     a.spec.Argv(),
		MemQuota: st.quota,
	}
	if m := a.module; m != nil {
		spec.Ports, spec.Serves, spec.Calls, spec.IRQs = m.PortList(), m.Serves, m.Calls, m.IRQs
		spec.MemReserve = m.Reserve
		spec.Device = a.device
		if m.Quota != 0 {
			spec.MemQuota = m.Quota
		}
		if len(m.Args) > 0 {
			spec.Args = append([]string{a.spec.Name}, m.Args...)
		}
		if a.spec.Name == sensorModule && st.sensorMode == "verified" {
			spec.Args = append(spec.Args, "-verify")
		}
		spec.Files, spec.Root, spec.Cwd = m.FileGrants(), m.Root, m.Cwd
	} else {
		// A program the manifest does not list (--app): its data directory on the disk and
		// the scratch space, nothing else.
		spec.Files, spec.Cwd = []string{"/data:rw", "/tmp:rw"}, "/data"
	}
	st.mu.Lock()
	if st.injector != nil {
		// A campaign crashes modules by the thousand: the runtime's goroutine dumps would
		// flood the console. The kernel reports each fault itself.
		// Every module's fault agent waits for the faults the runner arms (fault.Arm).
		spec.Env = append(spec.Env, "GOTRACEBACK=none", fault.AgentEnv+"=1")
	}
	armed := a.injectArg != ""
	if armed {
		spec.Args = append(spec.Args, a.injectArg)
		a.injectArg = ""
	}
	if st.fuzz != nil && isFuzzer(a) {
		spec.Args = append(spec.Args, st.fuzz.targets())
	}
	st.mu.Unlock()
	if m := a.module; m != nil {
		spec.Events, spec.Publish = m.Events, m.Publishes
		for _, c := range m.Content {
			spec.Content = append(spec.Content, c.Path)
		}
		for _, r := range m.Memory {
			spec.Memory = append(spec.Memory, [2]uint64{r.Lo, r.Hi + 1}) // manifest ranges are inclusive
		}
		filters, err := eventFilters(m)
		if err != nil {
			st.mu.Lock()
			a.last = fmt.Sprintf("app %s failed to start: %v", a.spec.Name, err)
			a.done = true
			st.mu.Unlock()
			return
		}
		spec.Filters = filters
	}
	pid, how, err := st.startTask(a, spec, armed)
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		a.last = fmt.Sprintf("app %s failed to start: %v", a.spec.Name, err)
		a.done = true
		return
	}
	a.pid = pid
	a.how = how
	a.started = pid
	a.starts++
	if st.fuzz != nil {
		st.fuzz.started(a, pid)
	}
	st.byPID[pid] = a
	a.tracker.Started(time.Now())
	if st.injector != nil {
		select {
		case st.injector.started <- struct{}{}:
		default:
		}
	}
	if ev, ok := st.early[pid]; ok {
		delete(st.early, pid)
		go st.ended(ev)
	}
}

// finished reports whether every job has finished. Services — drivers and security modules
// the policy restarts always — run as long as the system does and are not waited for; with
// no job at all, the system runs until it is stopped.
func (st *supervisorState) finished() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	jobs := 0
	for _, a := range st.apps {
		if a.service() {
			continue
		}
		jobs++
		if !a.done || a.pid != 0 {
			return false
		}
	}
	return jobs > 0
}

func (st *supervisorState) servicesRunning() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, a := range st.apps {
		if a.service() && a.pid != 0 {
			return true
		}
	}
	return false
}

// service reports whether the app runs as long as the system does: a module the policy
// restarts always (drivers, security modules, system services such as the pipe service).
// storage reports whether a is part of the storage stack: it serves the disk or the file
// system.
func (a *app) storage() bool {
	return a.module != nil && (slices.Contains(a.module.Serves, abi.FSEndpoint) || slices.Contains(a.module.Serves, blk.Endpoint))
}

func (a *app) service() bool {
	return a.module != nil && a.rules.Restart == supervisor.Always
}

// ended reports a task's end and applies its rules.
func (st *supervisorState) ended(ev kernel.TaskEvent) {
	st.mu.Lock()
	a := st.byPID[ev.PID]
	if a == nil {
		// The task ended before start() recorded it (it can die that fast): start() will
		// hand the event back.
		if st.early == nil {
			st.early = map[int]kernel.TaskEvent{}
		}
		st.early[ev.PID] = ev
		st.mu.Unlock()
		return
	}
	delete(st.byPID, ev.PID)
	a.pid = 0
	if a.planned { // the injection runner restarts it with a fault armed
		a.planned = false
		st.mu.Unlock()
		st.start(a)
		return
	}
	if a.endedAt != 0 && ev.Output != 0 {
		a.latency = append(a.latency, ev.Output-a.endedAt)
	}
	a.endedAt = ev.At
	end, line := describe(a, ev)
	a.last = line
	a.ok = end.Clean()
	var d supervisor.Decision
	if excuse := st.rollbackContent(a, ev, end.Clean()); excuse != "" {
		d = a.tracker.EndedExcused(end, excuse)
	} else {
		d = a.tracker.Ended(end)
	}
	st.mu.Unlock()

	// "ran" is the instance's wall time from its start to its end by the core's clock: what
	// `simpleos test` reports for a test binary, as go test reports a package's time.
	fmt.Printf("%s [ring %d, pid %d, cpu %v, ran %v; %s]\n", line, a.spec.Ring, ev.PID, ev.CPU.Round(time.Millisecond),
		(ev.At - ev.Started).Round(time.Millisecond), d.Why)
	if ev.Why == kernel.WhyMemoryQuota {
		fmt.Printf("supervisor: %s reached its memory quota of %d MiB: raise it with `quota SIZE` in its policy module, or with taskmem=MB on the kernel command line (simpleos run --append taskmem=MB) for a task the policy does not list\n",
			a.spec.Name, st.quotaOf(a)>>20)
	}
	if d.Restart && st.maxStarts > 0 && a.starts >= st.maxStarts {
		fmt.Printf("supervisor: %s started %d times (maxstarts): not restarted\n", a.spec.Name, a.starts)
		d.Restart = false
	}
	if st.injector != nil {
		st.injector.ends <- taskEnd{a: a, ev: ev, restart: d.Restart, quarantd: d.Quarantined}
	} else if d.Restart && !end.Clean() {
		st.mu.Lock()
		a.recovering = true
		st.mu.Unlock()
	}
	if !d.Restart {
		a.done = true
		return
	}
	if _, restorable := kernel.SnapshotOf(a.spec.Name); d.Delay == 0 && restorable {
		// Restart now, from here: a restore takes a fraction of a millisecond, and a new
		// goroutine would wait for this one's P, held through the blocking wait for the next
		// end until the runtime's sysmon takes it back — 1.5 to 3 ms on TCG.
		st.start(a)
		return
	}
	st.mu.Lock()
	st.delayed = append(st.delayed, delayedStart{at: ev.At + d.Delay, a: a}) // the backoff counts from the end
	st.mu.Unlock()
}

// delayedStart is a restart waiting for its backoff: serveEvents starts a at kernel time at.
type delayedStart struct {
	at time.Duration
	a  *app
}

// delayedPoll bounds serveEvents' wait when no restart is pending, so that one added from
// another goroutine (start handing back an early end) is seen.
const delayedPoll = 20 * time.Millisecond

// serveEvents handles task ends until done says stop, and starts each delayed restart when
// its backoff is over: the kernel's timer ends the wait on time, where a goroutine's sleep
// would wait for the core's P, which this loop holds through its wait (1-2 ms late on TCG).
func (st *supervisorState) serveEvents(done func() bool) {
	for !done() {
		now := time.Duration(arch.Nanotime())
		next := now + delayedPoll
		var due []*app
		st.mu.Lock()
		st.delayed = slices.DeleteFunc(st.delayed, func(d delayedStart) bool {
			if d.at <= now {
				due = append(due, d.a)
				return true
			}
			next = min(next, d.at)
			return false
		})
		st.mu.Unlock()
		for _, a := range due {
			st.start(a)
		}
		if len(due) > 0 {
			continue // the starts took time: look again
		}
		if ev, ok := kernel.WaitTaskEventUntil(next); ok {
			st.ended(ev)
		}
	}
}

// describe turns a task event into a supervisor End and the app's outcome line.
func describe(a *app, ev kernel.TaskEvent) (supervisor.End, string) {
	name := a.spec.Name
	end := supervisor.End{Code: ev.Code, PC: ev.RIP, Addr: ev.Addr, At: time.Now(), Detail: ev.Message}
	switch ev.Reason {
	case kernel.TaskExited:
		if ev.Code != 0 && ev.Message != "" {
			// The kernel saw an exit; its runtime's last words (a panic, a fatal error) say why.
			end.Reason = supervisor.Panicked
			fn := ev.Function
			if fn == "" {
				fn = "?"
			}
			return end, fmt.Sprintf("app %s exited %d (%s in %s)", name, ev.Code, ev.Message, fn)
		}
		end.Reason = supervisor.Exited
		return end, fmt.Sprintf("app %s exited %d", name, ev.Code)
	case kernel.TaskFaulted:
		end.Reason = supervisor.Faulted
		end.Fault = ev.Fault
		if ev.Fault == "" && ev.Why != "" { // no exception: the kernel ended it (a blocked DMA)
			return end, fmt.Sprintf("app %s faulted: %s (address %#x)", name, ev.Why, ev.Addr)
		}
		return end, fmt.Sprintf("app %s faulted: %s at %s addr=%#x", name, ev.Fault, symbolize(a.syms, ev.RIP), ev.Addr)
	case kernel.TaskSignaled:
		end.Reason = supervisor.Faulted
		return end, fmt.Sprintf("app %s killed by signal %d (%s) at %s", name, ev.Code, ev.Why, symbolize(a.syms, ev.RIP))
	default:
		end.Reason = supervisor.Killed
		why := ev.Why
		if why == "" {
			why = "killed"
		}
		return end, fmt.Sprintf("app %s killed: %s", name, why)
	}
}

// functionSymbols reads the function symbols of an ELF image, sorted by address.
func functionSymbols(image []byte) []elf.Symbol {
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil
	}
	var funcs []elf.Symbol
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
			funcs = append(funcs, s)
		}
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].Value < funcs[j].Value })
	return funcs
}

// symbolize names the function containing pc, from a task's own symbols.
func symbolize(syms []elf.Symbol, pc uint64) string {
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Value > pc }) - 1
	if i < 0 || (syms[i].Size != 0 && pc >= syms[i].Value+syms[i].Size) {
		return fmt.Sprintf("%#x", pc)
	}
	return fmt.Sprintf("%s+%#x", syms[i].Name, pc-syms[i].Value)
}

// watchdog kills running tasks that break their CPU or heartbeat limits.
func (st *supervisorState) watchdog() {
	for {
		time.Sleep(10 * time.Millisecond)
		kernel.SampleSpin()
		st.mu.Lock()
		st.reportReady()
		var kill []int
		var why []string
		for pid, a := range st.byPID {
			st.confirmContent(a)
			if a.recovering && a.module != nil && len(a.module.Serves) > 0 && serving(a, pid) {
				a.recovering = false
				fmt.Printf("supervisor: %s serving again %v after its crash (%s)\n", a.spec.Name,
					(time.Duration(arch.Nanotime()) - a.endedAt).Round(time.Millisecond), a.how)
			}
			u, ok := kernel.Usage(pid)
			if !ok {
				continue
			}
			if u.LastHeartbeat != 0 {
				a.tracker.Heartbeat(time.Now().Add(u.LastHeartbeat - time.Duration(arch.Nanotime())))
			}
			if k, w := a.tracker.Check(time.Now(), supervisor.Usage{CPU: u.CPU, Spin: u.Spin}); k {
				kill = append(kill, pid)
				why = append(why, w)
			}
		}
		st.mu.Unlock()
		for i, pid := range kill {
			fmt.Printf("watchdog: killing pid %d: %s\n", pid, why[i])
			kernel.KillTask(pid)
		}
	}
}

func latencySummary(a *app) string {
	l := append([]time.Duration(nil), a.latency...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	p := func(q float64) time.Duration { return l[int(q*float64(len(l)-1))] }
	return fmt.Sprintf("app %s restarts=%d restart latency (fault to first output of the next instance): median %v p99 %v max %v",
		a.spec.Name, len(l), p(0.5), p(0.99), l[len(l)-1])
}

// installFilters verifies every eBPF filter the manifest attaches to an endpoint (the files
// arrive as modules) and installs it in the kernel. A program the verifier rejects never runs:
// the core starts no task.
func installFilters(man *policy.Manifest) error {
	files := map[string][]byte{}
	for _, m := range kernel.Modules() {
		if w := strings.Fields(m.Cmdline); len(w) == 3 && w[1] == policy.FilterMarker {
			files[w[2]] = m.Data
		}
	}
	for _, mod := range man.Modules {
		for _, f := range mod.Filters {
			if !mod.ServesEndpoint(f.Endpoint) {
				continue // an event filter: installed with the module's task (eventFilters)
			}
			src, ok := files[f.Program]
			if !ok {
				return fmt.Errorf("module %q: filter %s for %q was not passed at boot", mod.Name, f.Program, f.Endpoint)
			}
			p, err := bpf.LoadFilterBytes(f.Program, src)
			if err != nil {
				return fmt.Errorf("module %q: %w", mod.Name, err)
			}
			var maps []bpfvm.MapInfo
			for _, m := range p.Maps() {
				maps = append(maps, bpfvm.MapInfo{ValueSize: m.ValueSize, MaxEntries: m.MaxEntries})
			}
			if err := kernel.SetEndpointFilter(f.Endpoint, p.Raw(), maps); err != nil {
				return fmt.Errorf("module %q: filter %s: %w", mod.Name, f.Program, err)
			}
			fmt.Printf("core: filter %s (%d instructions, verified) screens calls to %q\n", f.Program, p.Len(), f.Endpoint)
		}
	}
	return nil
}

// eventFilters verifies the filters a module attaches to the events it subscribes to.
func eventFilters(mod *policy.Module) ([]kernel.EventFilter, error) {
	files := map[string][]byte{}
	for _, m := range kernel.Modules() {
		if w := strings.Fields(m.Cmdline); len(w) == 3 && w[1] == policy.FilterMarker {
			files[w[2]] = m.Data
		}
	}
	var out []kernel.EventFilter
	for _, f := range mod.Filters {
		if mod.ServesEndpoint(f.Endpoint) {
			continue
		}
		src, ok := files[f.Program]
		if !ok {
			return nil, fmt.Errorf("module %q: filter %s for event %q was not passed at boot", mod.Name, f.Program, f.Endpoint)
		}
		p, err := bpf.LoadHookBytes(f.Program, src, bpf.HookEvent)
		if err != nil {
			return nil, fmt.Errorf("module %q: %w", mod.Name, err)
		}
		var maps []bpfvm.MapInfo
		for _, m := range p.Maps() {
			maps = append(maps, bpfvm.MapInfo{ValueSize: m.ValueSize, MaxEntries: m.MaxEntries})
		}
		out = append(out, kernel.EventFilter{Event: f.Endpoint, Raw: p.Raw(), Maps: maps})
	}
	return out, nil
}

// hasConsoleDriver reports whether a service may serve the console (and will attach).
func (st *supervisorState) hasConsoleDriver() bool {
	for _, a := range st.apps {
		if a.service() && a.module.ServesEndpoint("console") {
			return true
		}
	}
	return false
}
