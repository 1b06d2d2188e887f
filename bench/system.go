package bench

// The benchmarks of the whole system: module restart latency (fault-injection campaigns of
// kills, restarts from snapshots and cold), boot to ready, and the sensor pipeline of the
// Channel File 291 demo.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/inject/campaign"
)

// RestartModules are the modules the restart benchmark kills, one in each ring: those the quick
// fault-injection campaign (scenarios/quick.scn) kills. Their figures appear in this order.
var RestartModules = []string{"sensor", "console", "pipesvc"}

// restartWhat names each restarted module for the figures' sources.
var restartWhat = map[string]string{
	"sensor":  "the ring-2 sensor",
	"console": "the ring-1 console driver",
	"pipesvc": "the ring-3 pipe service",
}

// SnapshotOff is the kernel command line word that makes every restart cold (docs/snapshots.md):
// the restart benchmark's second campaign.
const SnapshotOff = "snapshot=off"

// RestartScenario is the campaign of the restart benchmark: count kills of each of
// RestartModules (one scenario block each), each delay after a clean instance serves.
func RestartScenario(count int, delay time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# simpleos bench: module restart latency. The core kills each module %d times;\n"+
		"# recovery_us is from its end to the restarted instance serving again.\n", count)
	for _, m := range RestartModules {
		fmt.Fprintf(&b, `
scenario bench-kill-%s
    target  %s
    class   kill
    after   %dms
    count   %d
    expect  restarted quarantined
end
`, m, m, delay.Milliseconds(), count)
	}
	return b.String()
}

// RestartFigureName is the name of a module's restart figure: ModuleRestart/MODULE-kill for
// restarts from the module's snapshot (the default), ModuleRestart/MODULE-kill-cold for cold
// starts (snapshot=off).
func RestartFigureName(module string, cold bool) string {
	if cold {
		return "ModuleRestart/" + module + "-kill-cold"
	}
	return "ModuleRestart/" + module + "-kill"
}

// runRestart runs the kill campaign against the standard system (bundled modules, the system
// policy) twice: as the system runs, modules restored from their snapshots, and with
// snapshot=off, every restart a cold start. Every restarted injection is a sample of its
// module's figure; the figures come out per module, from the snapshot before cold.
func (s *suite) runRestart(ctx context.Context, e Env) {
	figs := map[string]Figure{}
	for _, cold := range []bool{false, true} {
		if ctx.Err() != nil {
			break
		}
		for _, f := range s.restartCampaign(ctx, e, cold) {
			figs[f.Name] = f
		}
	}
	for _, m := range RestartModules {
		for _, cold := range []bool{false, true} {
			if f, ok := figs[RestartFigureName(m, cold)]; ok {
				s.add(f)
			}
		}
	}
}

// restartCampaign runs one campaign of the restart benchmark and returns its figures.
func (s *suite) restartCampaign(ctx context.Context, e Env, cold bool) []Figure {
	variant, how := "snapshot", "from snapshots"
	if cold {
		variant, how = "cold", SnapshotOff
	}
	name := e.Name + "-restart-" + variant
	s.progress.boot(fmt.Sprintf("%s: module restart (%s), %d kills each of %s", e.Name, how,
		s.cfg.Sizes.RestartKills, strings.Join(RestartModules, ", ")))
	dir := filepath.Join(s.cfg.Out, "restart", e.Name, variant)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.errorf("%s: %v", name, err)
		return nil
	}
	file := filepath.Join(dir, "restart.scn")
	if err := os.WriteFile(file, []byte(RestartScenario(s.cfg.Sizes.RestartKills, s.cfg.Sizes.RestartDelay)), 0o644); err != nil {
		s.errorf("%s: %v", name, err)
		return nil
	}
	scs, files, err := campaign.LoadScenarios(file)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return nil
	}
	sys, err := boot.System(s.cfg.Paths, boot.SystemSpec{}, s.cfg.Log)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return nil
	}
	sys.Accel, sys.Icount = e.Accel, e.Icount
	if cold {
		// campaign.Run appends its own words (Cmdline) to these.
		sys.Append = strings.TrimSpace(sys.Append + " " + SnapshotOff)
	}
	rs, err := campaign.Run(ctx, campaign.Config{
		Scenarios:   scs,
		Files:       files,
		Deployments: []string{campaign.Tiered},
		PerBoot:     campaign.DefaultPerBoot,
		Parallel:    1,
		Timeout:     s.cfg.Sizes.BootTimeout,
		Seed:        1,
		System:      sys,
		OutDir:      dir,
		Boot:        s.cfg.Boot,
	})
	if err != nil {
		s.errorf("%s: %v", name, err)
	}
	if len(rs) == 0 {
		return nil
	}
	r := rs[0]
	rt := Restarts{}
	for _, b := range r.Boots {
		if b.Log == "" {
			continue
		}
		log := b.Log
		if !filepath.IsAbs(log) {
			log = filepath.Join(dir, log)
		}
		if out, err := os.ReadFile(log); err == nil {
			rt.add(ParseRestarts(out))
		}
	}
	var figs []Figure
	var problems []string
	where := e.Name
	if cold {
		where += ", " + SnapshotOff
	}
	for _, m := range RestartModules {
		f, notes, probs := restartFigure(m, cold, r.Injections, rt, e)
		for _, n := range notes {
			s.report.Notes = append(s.report.Notes, fmt.Sprintf("Module restart (%s): %s; not timed.", where, n))
		}
		problems = append(problems, probs...)
		if f.Iters > 0 {
			figs = append(figs, f)
		}
		switch {
		case cold && rt.Taken[m] > 0:
			problems = append(problems, fmt.Sprintf("%s: the kernel took %d snapshots of %s although the command line says %s", m, rt.Taken[m], m, SnapshotOff))
		case !cold && rt.Taken[m] == 0:
			problems = append(problems, fmt.Sprintf("%s: the kernel took no snapshot of %s: its restarts were cold", m, m))
		}
	}
	for _, m := range rt.Unmatched {
		s.report.Notes = append(s.report.Notes, fmt.Sprintf("Module restart (%s): the supervisor's lines about %s could not be paired "+
			"with the injections: its restart backoff (ns-excl-backoff/op) and whether a restart was cold are unknown.", where, m))
	}
	problems = append(problems, r.Campaign.Errors...)
	if len(problems) > 0 {
		s.errorf("%s: %s (campaign results: %s)", name, strings.Join(problems, "; "), s.relative(filepath.Join(dir, r.FileName())))
	}
	return figs
}

// restartFigure makes a module's restart figure from a campaign's injections: every restarted
// injection of the module is a sample; quarantined ones (its crash budget) are counted, not
// timed. An injection that ended otherwise is not timed either: a hang (under a loaded TCG host
// a fresh instance can overrun its CPU budget while its Go runtime starts, and the watchdog
// kills it) is reported in notes; a core crash or a breach, which the benchmark must never see,
// and a campaign without a single restart of the module are problems. In the snapshot campaign
// (cold false) a restart the transcript shows was a cold start is still a sample; the figure's
// note says how many there were and why.
func restartFigure(module string, cold bool, in []campaign.Record, rt Restarts, e Env) (f Figure, notes, problems []string) {
	var samples, excl []float64
	var sum, sumExcl float64
	quarantined, total := 0, 0
	var colds []string
	for _, rec := range in {
		if rec.Target != module {
			continue
		}
		total++
		switch rec.Outcome {
		case campaign.Restarted:
			ns := float64(rec.RecoveryUS) * 1e3
			samples = append(samples, ns)
			sum += ns
			if d, ok := rt.Backoffs[rec.ID]; ok {
				x := ns - float64(d.Nanoseconds())
				excl = append(excl, x)
				sumExcl += x
			}
			if why, ok := rt.Cold[rec.ID]; ok && !cold {
				colds = append(colds, fmt.Sprintf("kill %d: %s", rec.ID, why))
			}
		case campaign.Quarantined:
			quarantined++
		case campaign.CoreCrash, campaign.Breach:
			problems = append(problems, fmt.Sprintf("injection %d: %s (%s)", rec.ID, rec.Outcome, rec.Detail))
		default:
			notes = append(notes, fmt.Sprintf("kill %d of %s: %s (%s)", rec.ID, module, rec.Outcome, rec.Detail))
		}
	}
	what := restartWhat[module]
	if what == "" {
		what = module
	}
	f = Figure{
		Name: RestartFigureName(module, cold), Env: e.Name, System: SimpleOS, Iters: int64(len(samples)),
		Samples: samples, SamplesExclBackoff: excl, Elapsed: true,
		Source: "inject/campaign: the core kills " + what + "; the next instance is restored from its snapshot; " +
			"the killed instance's end to the next one serving (kernel clock), restart backoff included",
	}
	if quarantined > 0 {
		f.Note = fmt.Sprintf("%d of %d kills ended in quarantine (crash budget) and are not timed", quarantined, total)
	} else {
		f.Note = fmt.Sprintf("%d kills, none quarantined", total)
	}
	if cold {
		f.Source = "inject/campaign, " + SnapshotOff + ": the core kills " + what + "; the next instance is a cold start " +
			"(ELF loaded, Go runtime initialised again); the killed instance's end to the next one serving (kernel clock), " +
			"restart backoff included"
	}
	if n := total - quarantined - len(samples); n > 0 {
		f.Note += fmt.Sprintf("; %d ended otherwise (see the notes)", n)
	}
	if len(colds) > 0 {
		f.Note += fmt.Sprintf("; %d of %d timed restarts were cold starts, not restores (%s)", len(colds), len(samples), strings.Join(colds, "; "))
	}
	if len(samples) > 0 {
		f.NsPerOp = sum / float64(len(samples))
	}
	if len(excl) > 0 {
		f.Extra = append(f.Extra, Metric{Unit: MetricExclBackoff, Value: sumExcl / float64(len(excl))})
		if len(excl) < len(samples) {
			f.Note += fmt.Sprintf("; %s is over the %d restarts whose backoff the transcript gives", MetricExclBackoff, len(excl))
		}
	}
	if len(samples) == 0 {
		problems = append(problems, module+": no kill was followed by a restart")
	}
	return f, notes, problems
}

// MetricExclBackoff is the restart figures' mean without the supervisor's restart backoff.
const MetricExclBackoff = "ns-excl-backoff/op"

// Restarts is what campaign transcripts say about the restarts after the injections.
type Restarts struct {
	// Backoffs is the supervisor's restart delay after each injection that ended its module
	// and was restarted ("restart in 10ms"; "restart now": 0), by injection id.
	Backoffs map[int]time.Duration
	// Cold holds the restarts the transcript shows were cold starts, by injection id, with
	// what shows it: the kernel took the new instance's snapshot (only an instance that did
	// not come from one is snapshotted) or refused to, or the supervisor fell back to a cold
	// start. A restore prints nothing during a campaign.
	Cold map[int]string
	// Taken counts the snapshots the kernel took ("snapshot: NAME: taken: ..."), by module.
	Taken map[string]int
	// Unmatched lists the modules whose lines could not be paired with their injections.
	Unmatched []string
}

func (r *Restarts) add(o Restarts) {
	if r.Backoffs == nil {
		r.Backoffs, r.Cold, r.Taken = map[int]time.Duration{}, map[int]string{}, map[string]int{}
	}
	maps.Copy(r.Backoffs, o.Backoffs)
	maps.Copy(r.Cold, o.Cold)
	for m, n := range o.Taken {
		r.Taken[m] += n
	}
	for _, m := range o.Unmatched {
		if !slices.Contains(r.Unmatched, m) {
			r.Unmatched = append(r.Unmatched, m)
		}
	}
}

var (
	injectResultRE = regexp.MustCompile(`(?m)^inject result id=(\d+) class=\S+ target=(\S+) outcome=(\S+) `)
	protocolLineRE = regexp.MustCompile(`\n(?:inject (?:start|result) |inject: campaign )[^\n]*\n`)
	appEndRE       = regexp.MustCompile(`^app (\S+) .*\[ring \d+, pid (\d+), [^;\]]*; (?:restart (?:in ([0-9.]+[a-zµ]+)|(now)) |(quarantined): )`)
	watchdogKillRE = regexp.MustCompile(`^watchdog: killing pid (\d+): `)
	snapshotLineRE = regexp.MustCompile(`^snapshot: (\S+): (taken|not taken): (.*)$`)
	coldFallbackRE = regexp.MustCompile(`^supervisor: (\S+): (.*): cold start$`)
)

// ParseRestarts reads one boot's campaign transcript for the supervisor's restarts after the
// injections.
//
// The protocol lines (inject start/result) go straight to the serial port, each as "\n" LINE
// "\n" (kernel.ConsoleLine), everything else through the console driver: while the console
// driver itself restarts, the supervisor's lines arrive late, after later protocol lines, and a
// protocol line can cut one of them anywhere. So the protocol lines are taken out of the
// transcript first, which leaves the console's own text whole, and a module's end lines are
// not placed by the protocol lines around them but paired in order with the module's
// injections that ended it (outcome restarted or quarantined, in id order): the Nth end line
// the supervisor printed about the module ("app NAME ... [ring R, pid P, ...; restart in D
// (...)]", "restart now", "quarantined: ...") is the Nth such injection's, and their kinds
// must agree. Ends of the watchdog's kills ("watchdog: killing pid P") are no injection's.
// The kernel's and the supervisor's lines about a cold start of the module belong to the
// restart after its last end line.
func ParseRestarts(out []byte) Restarts {
	type end struct {
		quarantined bool
		backoff     time.Duration
		cold        []string
	}
	type result struct {
		id          int
		quarantined bool
	}
	r := Restarts{Backoffs: map[int]time.Duration{}, Cold: map[int]string{}, Taken: map[string]int{}}
	ends := map[string][]*end{}
	results := map[string][]result{}
	last := map[string]*end{} // the end line whose restart a cold start belongs to
	watchdog := map[string]bool{}
	var order []string
	for _, g := range injectResultRE.FindAllSubmatch(out, -1) {
		id, _ := strconv.Atoi(string(g[1]))
		m, outcome := string(g[2]), string(g[3])
		switch outcome {
		case campaign.Restarted, campaign.Quarantined:
			if !slices.Contains(order, m) {
				order = append(order, m)
			}
			results[m] = append(results[m], result{id, outcome == campaign.Quarantined})
		}
	}
	console := protocolLineRE.ReplaceAll(bytes.ReplaceAll(out, []byte("\r"), nil), nil)
	sc := bufio.NewScanner(bytes.NewReader(console))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if g := watchdogKillRE.FindStringSubmatch(line); g != nil {
			watchdog[g[1]] = true
			continue
		}
		if g := appEndRE.FindStringSubmatch(line); g != nil {
			m := g[1]
			if watchdog[g[2]] {
				last[m] = nil // the restart after a watchdog kill is no injection's
				continue
			}
			e := &end{quarantined: g[5] != ""}
			if g[3] != "" {
				d, err := time.ParseDuration(g[3])
				if err != nil {
					continue
				}
				e.backoff = d
			}
			ends[m] = append(ends[m], e)
			last[m] = e
			if e.quarantined {
				last[m] = nil
			}
			continue
		}
		if g := snapshotLineRE.FindStringSubmatch(line); g != nil {
			m := g[1]
			why := "its snapshot was taken again"
			if g[2] == "taken" {
				r.Taken[m]++
			} else {
				why = "snapshot not taken: " + g[3]
			}
			if e := last[m]; e != nil {
				e.cold = append(e.cold, why)
			}
			continue
		}
		if g := coldFallbackRE.FindStringSubmatch(line); g != nil {
			if e := last[g[1]]; e != nil {
				e.cold = append(e.cold, "cold start: "+g[2])
			}
		}
	}
	for m := range ends {
		if !slices.Contains(order, m) {
			order = append(order, m)
		}
	}
	for _, m := range order {
		es, rs := ends[m], results[m]
		ok := len(es) == len(rs)
		for i := 0; ok && i < len(rs); i++ {
			ok = es[i].quarantined == rs[i].quarantined
		}
		if !ok {
			r.Unmatched = append(r.Unmatched, m)
			continue
		}
		for i, res := range rs {
			if es[i].quarantined {
				continue
			}
			r.Backoffs[res.id] = es[i].backoff
			if len(es[i].cold) > 0 {
				r.Cold[res.id] = strings.Join(es[i].cold, ", ")
			}
		}
	}
	return r
}

// RestartBackoffs reads a campaign transcript for the supervisor's restart delay after each
// injection that ended its module ("restart in 10ms", or "restart now": none), by injection
// id; any module's (ParseRestarts).
func RestartBackoffs(out []byte) map[int]time.Duration { return ParseRestarts(out).Backoffs }

// readyRE is the supervisor's boot-to-ready line (core/supervise.go, reportReady).
var readyRE = regexp.MustCompile(`supervisor: all (\d+) services serving ([0-9.]+) ms after kernel entry`)

// ReadyTime returns the boot-to-ready time a transcript reports, and the number of services.
func ReadyTime(out []byte) (time.Duration, int, bool) {
	g := readyRE.FindSubmatch(out)
	if g == nil {
		return 0, 0, false
	}
	ms, err := strconv.ParseFloat(string(g[2]), 64)
	if err != nil {
		return 0, 0, false
	}
	n, _ := strconv.Atoi(string(g[1]))
	return time.Duration(ms * float64(time.Millisecond)), n, true
}

// runBootTime boots the standard system (bundled modules, the system policy) and stops each
// boot as soon as the supervisor reports every service serving.
func (s *suite) runBootTime(ctx context.Context, e Env) {
	var samples []float64
	services := 0
	for i := 1; i <= max(1, s.cfg.Sizes.BootRuns); i++ {
		name := fmt.Sprintf("%s-boot-%d", e.Name, i)
		s.progress.boot(fmt.Sprintf("%s: boot to ready %d/%d", e.Name, i, max(1, s.cfg.Sizes.BootRuns)))
		bctx, stop := context.WithCancel(ctx)
		res, err := s.bootSystem(bctx, name, e, boot.SystemSpec{}, 3*time.Minute, &lineWatch{re: readyRE, found: stop})
		stop()
		if err != nil {
			s.errorf("%s: %v", name, err)
			continue
		}
		d, n, ok := ReadyTime(res.Output)
		if !ok {
			why := bootEnded(res)
			if why == "" {
				why = "ended"
			}
			s.errorf("%s: no \"all N services serving\" line; the boot %s (transcript: %s)", name, why, s.logPath(name))
			continue
		}
		samples = append(samples, float64(d.Nanoseconds()))
		services = n
	}
	if len(samples) == 0 {
		return
	}
	sum := 0.0
	for _, v := range samples {
		sum += v
	}
	s.add(Figure{
		Name: "BootToReady/bundled", Env: e.Name, System: SimpleOS, Iters: int64(len(samples)),
		NsPerOp: sum / float64(len(samples)), Samples: samples, Elapsed: true,
		Source: fmt.Sprintf("the supervisor's \"all %d services serving\" line, kernel entry to the last service serving (guest clock, polled every 10 ms); the standard system", services),
	})
}

// lineWatch calls found once a line of the console matches re.
type lineWatch struct {
	mu    sync.Mutex
	re    *regexp.Regexp
	found func()
	buf   []byte
	done  bool
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		if w.re.Match(w.buf[:i]) {
			w.done = true
			w.found()
			return len(p), nil
		}
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// PipelinePolicy derives the sensor pipeline's policy from the system policy: without the
// updater (which would deliver the bad update and crash the sensor), the sample sysinfo and
// the disk driver, its test client and the file-system server (the pipeline boots run none of
// them), and with ring3/app's arguments set to count pipes and no pause.
func PipelinePolicy(system []byte, count int) ([]byte, error) {
	var out bytes.Buffer
	skip, sawApp := false, false
	for _, line := range strings.SplitAfter(string(system), "\n") {
		f := strings.Fields(strings.SplitN(line, "#", 2)[0])
		switch {
		case len(f) == 2 && f[0] == "module" && (f[1] == "updater" || f[1] == "sysinfo" || f[1] == "blk" || f[1] == "blktest" || f[1] == "fs"):
			skip = true
			continue
		case skip && len(f) == 1 && f[0] == "end":
			skip = false
			continue
		case skip:
			continue
		case len(f) > 0 && f[0] == "args" && sawApp:
			continue // replaced below
		}
		out.WriteString(line)
		if len(f) == 2 && f[0] == "module" && f[1] == "app" {
			sawApp = true
			fmt.Fprintf(&out, "    args     %d 0                   # simpleos bench: %d pipes, no pause\n", count, count)
		} else if len(f) == 1 && f[0] == "end" {
			sawApp = false
		}
	}
	if !bytes.Contains(out.Bytes(), []byte("module app")) {
		return nil, fmt.Errorf("the system policy has no module app")
	}
	return out.Bytes(), nil
}

var (
	appDoneRE  = regexp.MustCompile(`app: done: (\d+)/(\d+) pipes created in (\S+) \(`)
	screenedRE = regexp.MustCompile(`sensor: detection .*; (\d+) events screened`)
)

// PipelineRun is what one boot of the sensor pipeline reports.
type PipelineRun struct {
	Pipes, Wanted int
	Took          time.Duration // the app's own clock
	Screened      int           // the sensor's count at its last detection line (0: none)
}

// ParsePipeline reads a pipeline transcript.
func ParsePipeline(out []byte) (PipelineRun, bool) {
	g := appDoneRE.FindSubmatch(out)
	if g == nil {
		return PipelineRun{}, false
	}
	var r PipelineRun
	r.Pipes, _ = strconv.Atoi(string(g[1]))
	r.Wanted, _ = strconv.Atoi(string(g[2]))
	d, err := time.ParseDuration(string(g[3]))
	if err != nil || d <= 0 {
		return PipelineRun{}, false
	}
	r.Took = d
	for _, m := range screenedRE.FindAllSubmatch(out, -1) {
		r.Screened, _ = strconv.Atoi(string(m[1]))
	}
	return r, true
}

// runPipeline runs the sensor pipeline in the tiered and the monolithic deployment.
func (s *suite) runPipeline(ctx context.Context, e Env) {
	dir := filepath.Join(s.cfg.Out, "pipeline")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.errorf("%s-pipeline: %v", e.Name, err)
		return
	}
	policyFile, err := s.writePipelinePolicy(dir)
	if err != nil {
		s.errorf("%s-pipeline: %v", e.Name, err)
		return
	}
	for _, dep := range []string{campaign.Tiered, campaign.Monolithic} {
		var runs []PipelineRun
		for i := 1; i <= max(1, s.cfg.Sizes.PipelineRuns); i++ {
			name := fmt.Sprintf("%s-pipeline-%s-%d", e.Name, dep, i)
			s.progress.boot(fmt.Sprintf("%s: sensor pipeline, %s %d/%d", e.Name, dep, i, max(1, s.cfg.Sizes.PipelineRuns)))
			res, err := s.bootSystem(ctx, name, e, boot.SystemSpec{Apps: s.bundled, NoModules: true, Policy: policyFile, Append: "sensor=" + dep}, 5*time.Minute, nil)
			if err != nil {
				s.errorf("%s: %v", name, err)
				continue
			}
			run, ok := ParsePipeline(res.Output)
			if !ok {
				why := bootEnded(res)
				if why == "" {
					why = "ended"
				}
				s.errorf("%s: no \"app: done\" line; the boot %s (transcript: %s)", name, why, s.logPath(name))
				continue
			}
			if run.Pipes != run.Wanted {
				s.errorf("%s: the app created %d of %d pipes (transcript: %s)", name, run.Pipes, run.Wanted, s.logPath(name))
			}
			runs = append(runs, run)
		}
		if len(runs) > 0 {
			f := pipelineFigure(dep, runs, e)
			s.add(f)
			if sc, _ := f.Metric("screened"); sc < f.extraOr("pipes", 0)/2 {
				s.starved = append(s.starved, fmt.Sprintf("%.0f of %.0f (%s, %s)", sc, f.extraOr("pipes", 0), dep, e.Name))
			}
		}
	}
}

// starvedNote explains pipeline figures whose sensor screened less than half the events.
func starvedNote(starved []string) string {
	return "Sensor pipeline: the sensor screened about " + strings.Join(starved, ", ") + " events; the kernel " +
		"dropped the rest (a subscriber's queue holds 32 events, and a full queue drops rather than slowing the " +
		"publisher). The app and the pipe service share one time slice on the IPC fast path and produce events " +
		"faster than the sensor screens them, so events/s is the producer's rate, not the screening rate, and the " +
		"tiered/monolithic ratio compares two producer rates."
}

func (f Figure) extraOr(unit string, def float64) float64 {
	if v, ok := f.Metric(unit); ok {
		return v
	}
	return def
}

// pipelineFigure sums the runs of one deployment: per event (guest ns), events/s, and the
// events the sensor screened.
func pipelineFigure(dep string, runs []PipelineRun, e Env) Figure {
	var pipes, screened int
	var took time.Duration
	var samples []float64
	for _, r := range runs {
		pipes += r.Pipes
		screened += r.Screened
		took += r.Took
		if r.Pipes > 0 {
			samples = append(samples, float64(r.Took.Nanoseconds())/float64(r.Pipes))
		}
	}
	f := Figure{
		Name: "SensorPipeline/" + dep, Env: e.Name, System: SimpleOS, Iters: int64(pipes),
		Samples: samples, Elapsed: true,
		Source: "ring3/app creates pipes through ring3/pipesvc (COUNT=" + strconv.Itoa(runs[0].Wanted) +
			", no pause); per pipe created, by the app's own clock (which it prints to the millisecond)",
	}
	if pipes > 0 {
		f.NsPerOp = float64(took.Nanoseconds()) / float64(pipes)
		f.Extra = []Metric{
			{Unit: "events/s", Value: float64(pipes) / took.Seconds()},
			{Unit: "pipes", Value: float64(pipes), Count: true},
			{Unit: "screened", Value: float64(screened), Count: true},
		}
	}
	return f
}

// writePipelinePolicy writes the pipeline policy and the content files it names.
func (s *suite) writePipelinePolicy(dir string) (string, error) {
	sysFile := filepath.Join(s.cfg.Paths.Root, "policy", "system.policy")
	src, err := os.ReadFile(sysFile)
	if err != nil {
		return "", err
	}
	pol, err := PipelinePolicy(src, s.cfg.Sizes.Pipes)
	if err != nil {
		return "", fmt.Errorf("%s: %w", sysFile, err)
	}
	for _, c := range []string{"sensor.chan", "sensor.chan.lkg"} {
		b, err := os.ReadFile(filepath.Join(s.cfg.Paths.Root, "policy", c))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, c), b, 0o644); err != nil {
			return "", err
		}
	}
	file := filepath.Join(dir, "pipeline.policy")
	return file, os.WriteFile(file, pol, 0o644)
}

// relative shortens a path under the repository for messages.
func (s *suite) relative(path string) string {
	if rel, err := filepath.Rel(s.cfg.Paths.Root, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
