package bench

// The benchmarks of the whole system: module restart latency (a fault-injection campaign of
// kills), boot to ready, and the sensor pipeline of the Channel File 291 demo.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/inject/campaign"
)

// RestartScenario is the campaign of the restart benchmark: count kills of the sensor, each
// delay after a fresh instance serves.
func RestartScenario(count int, delay time.Duration) string {
	return fmt.Sprintf(`# simpleos bench: module restart latency. The core kills the sensor (ring 2) %d times;
# recovery_us is from its end to the restarted instance serving content-update again.
scenario bench-kill-sensor
    target  sensor
    class   kill
    after   %dms
    count   %d
    expect  restarted quarantined
end
`, count, delay.Milliseconds(), count)
}

// runRestart runs the kill campaign against the standard system (bundled modules, the system
// policy) and turns every restarted injection into a sample.
func (s *suite) runRestart(ctx context.Context, e Env) {
	name := e.Name + "-restart"
	s.progress.boot(fmt.Sprintf("%s: module restart, %d kills of the sensor", e.Name, s.cfg.Sizes.RestartKills))
	dir := filepath.Join(s.cfg.Out, "restart", e.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	file := filepath.Join(dir, "restart.scn")
	if err := os.WriteFile(file, []byte(RestartScenario(s.cfg.Sizes.RestartKills, s.cfg.Sizes.RestartDelay)), 0o644); err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	scs, files, err := campaign.LoadScenarios(file)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	sys, err := boot.System(s.cfg.Paths, boot.SystemSpec{}, s.cfg.Log)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	sys.Accel, sys.Icount = e.Accel, e.Icount
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
		return
	}
	r := rs[0]
	backoffs := map[int]time.Duration{}
	for _, b := range r.Boots {
		if b.Log == "" {
			continue
		}
		log := b.Log
		if !filepath.IsAbs(log) {
			log = filepath.Join(dir, log)
		}
		if out, err := os.ReadFile(log); err == nil {
			for id, d := range RestartBackoffs(out) {
				backoffs[id] = d
			}
		}
	}
	f, notes, problems := restartFigure(r.Injections, backoffs, e)
	for _, n := range notes {
		s.report.Notes = append(s.report.Notes, fmt.Sprintf("Module restart (%s): %s; not timed.", e.Name, n))
	}
	for _, msg := range r.Campaign.Errors {
		problems = append(problems, msg)
	}
	if len(problems) > 0 {
		s.errorf("%s: %s (campaign results: %s)", name, strings.Join(problems, "; "), s.relative(filepath.Join(dir, r.FileName())))
	}
	if f.Iters > 0 {
		s.add(f)
	}
}

// restartFigure makes the restart figure of a campaign's injections: every restarted one is a
// sample; quarantined ones (the sensor's crash budget is 3 in 30 s) are counted, not timed.
// An injection that ended otherwise is not timed either: a hang (under a loaded TCG host a
// fresh sensor can overrun its CPU budget while its Go runtime starts, and the watchdog kills
// it) is reported in notes; a core crash or a breach, which the benchmark must never see, and
// a campaign without a single restart are problems.
func restartFigure(in []campaign.Record, backoffs map[int]time.Duration, e Env) (f Figure, notes, problems []string) {
	var samples []float64
	var sum, sumExcl float64
	quarantined, excl := 0, 0
	for _, rec := range in {
		switch rec.Outcome {
		case campaign.Restarted:
			ns := float64(rec.RecoveryUS) * 1e3
			samples = append(samples, ns)
			sum += ns
			if d, ok := backoffs[rec.ID]; ok {
				sumExcl += ns - float64(d.Nanoseconds())
				excl++
			}
		case campaign.Quarantined:
			quarantined++
		case campaign.CoreCrash, campaign.Breach:
			problems = append(problems, fmt.Sprintf("injection %d: %s (%s)", rec.ID, rec.Outcome, rec.Detail))
		default:
			notes = append(notes, fmt.Sprintf("kill %d: %s (%s)", rec.ID, rec.Outcome, rec.Detail))
		}
	}
	f = Figure{
		Name: "ModuleRestart/sensor-kill", Env: e.Name, System: SimpleOS, Iters: int64(len(samples)),
		Samples: samples, Elapsed: true,
		Source: "inject/campaign: the core kills the ring-2 sensor; its end to the next instance serving (kernel clock), restart backoff included",
		Note:   fmt.Sprintf("%d of %d kills ended in quarantine (crash budget 3/30s) and are not timed", quarantined, len(in)),
	}
	if n := len(in) - quarantined - len(samples); n > 0 {
		f.Note += fmt.Sprintf("; %d ended otherwise (see the notes)", n)
	}
	if len(samples) > 0 {
		f.NsPerOp = sum / float64(len(samples))
	}
	if excl > 0 {
		f.Extra = append(f.Extra, Metric{Unit: "ns-excl-backoff/op", Value: sumExcl / float64(excl)})
	}
	if len(samples) == 0 {
		problems = append(problems, "no kill was followed by a restart")
	}
	return f, notes, problems
}

var (
	injectStartRE = regexp.MustCompile(`^inject start id=(\d+) `)
	restartInRE   = regexp.MustCompile(`^app sensor \S+: .*restart (?:in ([0-9.]+[a-zµ]+)|now) `)
)

// RestartBackoffs reads a campaign transcript for the supervisor's restart delay of the
// sensor after each injection ("restart in 10ms", or "restart now": none), by injection id.
func RestartBackoffs(out []byte) map[int]time.Duration {
	m := map[int]time.Duration{}
	id := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if g := injectStartRE.FindStringSubmatch(line); g != nil {
			id, _ = strconv.Atoi(g[1])
			continue
		}
		if g := restartInRE.FindStringSubmatch(line); g != nil && id > 0 {
			if g[1] == "" {
				g[1] = "0s"
			}
			if d, err := time.ParseDuration(g[1]); err == nil {
				if _, seen := m[id]; !seen {
					m[id] = d
				}
			}
		}
	}
	return m
}

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
