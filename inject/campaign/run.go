package campaign

// Running a campaign: boots, each with a chunk of the plan, several at once.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/boot/disk"
)

// Defaults for zero Config fields.
const (
	DefaultPerBoot = 150
	DefaultStall   = 30 * time.Second
)

// Config describes one campaign run.
type Config struct {
	Scenarios   []Scenario     // from LoadScenarios
	Files       []ScenarioFile // from LoadScenarios: identify the campaign in the results
	Deployments []string       // Tiered and/or Monolithic, run in this order
	Shard       Shard          // zero: the whole plan
	PerBoot     int            // injections per boot; default DefaultPerBoot
	Parallel    int            // boots at once; default 1
	Timeout     time.Duration  // per boot; 0: BootTimeout of its plan
	Stall       time.Duration  // stop a boot after this long without console output; default DefaultStall
	Seed        uint64

	// System boots the system: from boot.System, with Accel resolved ("kvm" or "tcg"). Each
	// boot adds its plan module and Cmdline to it.
	System boot.Options
	OutDir string // plan files and console transcripts go under it

	Progress io.Writer // the progress line; nil for none
	Terminal bool      // Progress is a terminal: rewrite the line in place

	// Boot boots one machine; nil means boot.Run. Tests replace it.
	Boot func(ctx context.Context, o boot.Options) (boot.Result, error)
}

// BootTimeout is the default limit for a boot with this plan: generous, because a stall (no
// output for Config.Stall) normally stops a stuck boot much sooner.
func BootTimeout(plan []Injection) time.Duration {
	d := 90*time.Second + time.Duration(len(plan))*3*time.Second
	for _, in := range plan {
		d += in.After
	}
	return d
}

// Run runs the campaign and returns one Results per deployment, in Config order. Injections
// that could not run are in the results as not-run, with the reason among Campaign.Errors.
// The error is for a run that could not go on (QEMU failing, the output folder not writable);
// the results are then partial. When ctx is cancelled, Run stops its boots and returns the
// results so far (the rest not-run).
func Run(ctx context.Context, c Config) ([]*Results, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	full := Expand(c.Scenarios)
	plan := c.Shard.Select(full)
	outDir, err := filepath.Abs(c.OutDir)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"plans", "logs"} {
		if err := os.MkdirAll(filepath.Join(outDir, d), 0o755); err != nil {
			return nil, err
		}
	}
	sc := c.Shard.norm()
	r := &runner{
		cfg:     c,
		outDir:  outDir,
		expect:  map[string]Scenario{},
		results: map[string]*Results{},
		boots:   map[string]int{},
	}
	for _, s := range c.Scenarios {
		r.expect[s.Name] = s
	}
	start := time.Now()
	for _, dep := range c.Deployments {
		r.results[dep] = &Results{Campaign: Campaign{
			ScenarioFiles: c.Files,
			Deployment:    dep,
			Accel:         resolvedAccel(c.System.Accel),
			ShardCount:    sc.Count,
			Shards:        []int{sc.Index},
			Seed:          c.Seed,
			PerBoot:       c.PerBoot,
			PlanTotal:     len(full),
			Planned:       len(plan),
			Start:         start.UTC().Truncate(time.Second),
		}, Injections: []Record{}, Boots: []BootRecord{}}
		r.removeOld(dep)
	}
	r.progress = newProgress(c.Progress, c.Terminal, len(plan)*len(c.Deployments), c.Deployments)

	type job struct {
		dep   string
		chunk []Injection
	}
	var jobs []job
	for _, dep := range c.Deployments {
		for _, ch := range Chunks(plan, c.PerBoot) {
			jobs = append(jobs, job{dep, ch})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan job)
	var wg sync.WaitGroup
	var fatalOnce sync.Once
	var fatal error
	for range c.Parallel {
		wg.Go(func() {
			for j := range queue {
				if err := r.runChunk(ctx, j.dep, j.chunk); err != nil {
					fatalOnce.Do(func() { fatal = err; cancel() })
				}
			}
		})
	}
	stopRedraw := r.redrawLoop()
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	stopRedraw()
	r.progress.finish()

	wall := seconds(time.Since(start))
	var out []*Results
	for _, dep := range c.Deployments {
		res := r.results[dep]
		sort.Slice(res.Injections, func(i, j int) bool { return res.Injections[i].ID < res.Injections[j].ID })
		sort.Slice(res.Boots, func(i, j int) bool { return res.Boots[i].Boot < res.Boots[j].Boot })
		res.Campaign.WallSeconds = wall
		res.Campaign.CoreSeconds = wall * float64(min(max(c.Parallel, 1), runtime.NumCPU()))
		res.Campaign.Boots = len(res.Boots)
		if res.Campaign.Accel == "" && len(res.Boots) > 0 {
			res.Campaign.Accel = r.accel
		}
		out = append(out, res)
	}
	return out, fatal
}

// resolvedAccel is a as the results record it: "kvm" or "tcg", or "" until a boot says.
func resolvedAccel(a string) string {
	if a == boot.AccelKVM || a == boot.AccelTCG {
		return a
	}
	return ""
}

func (c Config) check() error {
	switch {
	case len(c.Scenarios) == 0:
		return errors.New("campaign: no scenarios")
	case len(c.Deployments) == 0:
		return errors.New("campaign: no deployment")
	case c.OutDir == "":
		return errors.New("campaign: no output folder")
	case c.System.Image == "" && c.Boot == nil:
		return errors.New("campaign: no system to boot (use boot.System)")
	case c.PerBoot < 0 || c.Parallel < 0 || c.Timeout < 0 || c.Stall < 0:
		return errors.New("campaign: negative per-boot count, parallelism, timeout or stall time")
	}
	for i, d := range c.Deployments {
		if !ValidDeployment(d) {
			return fmt.Errorf("campaign: unknown deployment %q (want %s or %s)", d, Tiered, Monolithic)
		}
		if slices.Contains(c.Deployments[:i], d) {
			return fmt.Errorf("campaign: deployment %s given twice", d)
		}
	}
	s := c.Shard.norm()
	if s.Count < 1 || s.Index < 1 || s.Index > s.Count {
		return fmt.Errorf("campaign: bad shard %d/%d", s.Index, s.Count)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.PerBoot == 0 {
		c.PerBoot = DefaultPerBoot
	}
	if c.Parallel == 0 {
		c.Parallel = 1
	}
	if c.Stall == 0 {
		c.Stall = DefaultStall
	}
	if c.Boot == nil {
		c.Boot = boot.Run
	}
	return c
}

// runner is one Run's shared state.
type runner struct {
	cfg      Config
	outDir   string
	expect   map[string]Scenario
	progress *progress

	mu      sync.Mutex
	results map[string]*Results
	boots   map[string]int // per deployment: boots started
	accel   string         // as the boots reported it
}

// prefix names a deployment's (and shard's) plan and log files.
func (r *runner) prefix(dep string) string {
	s := r.cfg.Shard.norm()
	if s.Count == 1 {
		return dep
	}
	return fmt.Sprintf("%s-shard-%d-of-%d", dep, s.Index, s.Count)
}

// removeOld deletes plan and log files an earlier run of the same deployment and shard left.
func (r *runner) removeOld(dep string) {
	for _, pattern := range []string{"plans/%s-boot-*.plan", "logs/%s-boot-*.log"} {
		old, _ := filepath.Glob(filepath.Join(r.outDir, fmt.Sprintf(pattern, r.prefix(dep))))
		for _, f := range old {
			os.Remove(f)
		}
	}
}

// redrawLoop refreshes a terminal's progress line twice a second until stopped.
func (r *runner) redrawLoop() (stop func()) {
	if !r.cfg.Terminal || r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.progress.redraw()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// runChunk runs one chunk of the plan, booting again after each core crash or hang with the
// injections after the one that caused it. Each boot settles at least one injection or ends
// the chunk, so there are at most len(chunk) boots.
func (r *runner) runChunk(ctx context.Context, dep string, chunk []Injection) error {
	for len(chunk) > 0 {
		if ctx.Err() != nil {
			r.notRun(dep, chunk, "the campaign was interrupted")
			return nil
		}
		next, err := r.boot(ctx, dep, chunk)
		if err != nil {
			r.notRun(dep, chunk, err.Error())
			return err
		}
		if len(next) >= len(chunk) { // cannot happen (settle): never loop
			r.notRun(dep, next, "the runner made no progress")
			return nil
		}
		chunk = next
	}
	return nil
}

// boot runs one machine with plan and records what became of each injection. It returns the
// injections to run in a new boot.
func (r *runner) boot(ctx context.Context, dep string, plan []Injection) ([]Injection, error) {
	r.mu.Lock()
	r.boots[dep]++
	n := r.boots[dep]
	r.mu.Unlock()
	name := fmt.Sprintf("%s-boot-%03d", r.prefix(dep), n)
	planFile := filepath.Join(r.outDir, "plans", name+".plan")
	logFile := filepath.Join(r.outDir, "logs", name+".log")
	if err := os.WriteFile(planFile, PlanText(plan), 0o644); err != nil {
		return nil, err
	}
	mod, err := PlanModule(planFile)
	if err != nil {
		return nil, err
	}

	c := r.cfg
	o := c.System
	o.Modules = append(slices.Clone(o.Modules), mod)
	o.Append = strings.TrimSpace(o.Append + " " + Cmdline(dep, c.Seed))
	o.Timeout = c.Timeout
	if o.Timeout == 0 {
		o.Timeout = BootTimeout(plan)
	}
	if o.Disk == "" && targets(plan, "fs") {
		// The file-system server needs a volume: without one it serves / from memory, and
		// nothing it is given survives its restarts. Each boot gets its own FAT32 image.
		img, err := formattedDisk(filepath.Join(r.outDir, "disks"), name)
		if err != nil {
			return nil, err
		}
		defer checkDisk(img)
		o.Disk = img
	}
	w := &watch{started: time.Now(), last: time.Now(), tee: o.Stdout}
	o.Stdout = consoleActivity{w}
	o.Protocol = w

	bctx, stop := context.WithCancel(ctx)
	r.progress.bootStarted(w, dep)
	watchdog := w.guard(bctx, stop, c.Stall)
	res, err := c.Boot(bctx, o)
	stop()
	watchdog()
	if err != nil {
		r.progress.bootDone(w, dep, nil, 0)
		return nil, fmt.Errorf("boot %d (%s): %w", n, dep, err)
	}
	if werr := os.WriteFile(logFile, res.Output, 0o644); werr != nil {
		r.progress.bootDone(w, dep, nil, 0)
		return nil, werr
	}

	stalled, noCampaign := w.stopped()
	end := bootEnd{
		Deployment:  dep,
		Status:      res.Status,
		Crashed:     res.Crashed,
		TimedOut:    res.TimedOut && !stalled && !noCampaign && ctx.Err() == nil,
		Timeout:     o.Timeout,
		Stalled:     stalled,
		NoCampaign:  noCampaign,
		Stall:       c.Stall,
		Interrupted: ctx.Err() != nil,
		Note:        res.Note,
		CrashLine:   crashLine(res.Output),
	}
	if noCampaign {
		end.Stall = 2 * c.Stall
	}
	t := ParseTranscript(res.Protocol) // the core's own lines: no task can forge them
	s := settle(plan, t, end)

	r.mu.Lock()
	if r.accel == "" {
		r.accel = res.Accel
	}
	out := r.results[dep]
	for _, rec := range s.records {
		rec.Boot = n
		rec.Expected = r.expect[rec.Scenario].Expects(rec.Outcome)
		out.Injections = append(out.Injections, rec)
	}
	out.Injections = append(out.Injections, s.notRun...)
	for _, p := range s.problems {
		out.Campaign.Errors = append(out.Campaign.Errors, fmt.Sprintf("boot %d: %s", n, p))
	}
	rel, _ := filepath.Rel(r.outDir, logFile)
	out.Boots = append(out.Boots, BootRecord{
		Boot:    n,
		FirstID: plan[0].ID,
		Planned: len(plan),
		Results: len(s.records),
		Status:  res.Status,
		End:     end.name(t),
		Seconds: seconds(res.Duration),
		Note:    res.Note,
		Log:     rel,
	})
	r.mu.Unlock()
	r.progress.bootDone(w, dep, s.records, len(s.notRun))
	return s.next, nil
}

// targets reports whether an injection of plan targets module.
func targets(plan []Injection, module string) bool {
	for _, in := range plan {
		if in.Target == module {
			return true
		}
	}
	return false
}

// formattedDisk makes dir/name.img, an empty FAT32 volume of boot.ScratchDiskSize.
func formattedDisk(dir, name string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	img := filepath.Join(dir, name+".img")
	_ = os.Remove(img)
	if err := disk.Create(img, boot.ScratchDiskSize); err != nil {
		return "", fmt.Errorf("campaign: disk for %s: %w", name, err)
	}
	return img, nil
}

// checkDisk runs fsck.fat -n (dosfstools, when installed) on a campaign boot's image, writes
// its exit status and output to IMAGE.fsck (without the .img), and removes the image unless
// fsck.fat found something other than lost clusters.
func checkDisk(img string) {
	fsck, err := exec.LookPath("fsck.fat")
	if err != nil {
		fsck = "/usr/sbin/fsck.fat"
		if _, err := os.Stat(fsck); err != nil {
			_ = os.Remove(img)
			return
		}
	}
	out, err := exec.Command(fsck, "-n", img).CombinedOutput()
	status := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		status = ee.ExitCode()
	}
	report := fmt.Sprintf("fsck.fat -n: exit %d\n%s", status, out)
	_ = os.WriteFile(strings.TrimSuffix(img, ".img")+".fsck", []byte(report), 0o644)
	if status == 0 || OnlyLostClusters(string(out)) {
		_ = os.Remove(img)
	}
}

// OnlyLostClusters reports whether fsck.fat -n's findings are all what a crash inside FAT32's
// ordered sync (fs/fat) may leave when every write issued before it reached the disk: lost
// clusters (in use in the FAT, in no file) and the free count that follows from them, the two
// FATs differing in a sector (a crash between its two writes: the first FAT, written first,
// is the newer) and a truncated file's chain longer than its size.
func OnlyLostClusters(out string) bool {
	sizes := regexp.MustCompile(`File size is (\d+) bytes, cluster chain length is (>? ?)(\d+) bytes`)
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "", strings.HasPrefix(line, "fsck.fat "), strings.HasPrefix(line, "/"),
			strings.HasPrefix(line, "Leaving filesystem unchanged"), strings.HasPrefix(line, "Reclaimed "),
			strings.HasPrefix(line, "Free cluster summary wrong"), strings.HasPrefix(line, "Auto-correcting"),
			strings.HasPrefix(line, "Checking we can access the last sector"),
			line == "FATs differ but appear to be intact.", line == "Using first FAT.",
			strings.HasPrefix(line, "Truncating file to "):
		case sizes.MatchString(line):
			m := sizes.FindStringSubmatch(line)
			size, _ := strconv.Atoi(m[1])
			chain, _ := strconv.Atoi(m[3])
			if size > chain {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// notRun records injections that will not run, and why.
func (r *runner) notRun(dep string, plan []Injection, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.results[dep]
	for _, in := range plan {
		out.Injections = append(out.Injections, record(in, NotRun, 0, why))
	}
	out.Campaign.Errors = append(out.Campaign.Errors, fmt.Sprintf("%s did not run: %s", idList(ids(plan)), why))
	r.progress.bootDone(nil, dep, nil, len(plan))
}

// seconds is d in seconds, to the microsecond.
func seconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1e6 }

func ids(plan []Injection) []int {
	out := make([]int, len(plan))
	for i, in := range plan {
		out[i] = in.ID
	}
	return out
}

// watch follows a boot as it runs, for the progress line and to notice a stall: the protocol
// channel's lines (Write) and any sign of life on the console (consoleActivity).
type watch struct {
	tee io.Writer // the caller's Stdout, if any

	mu                sync.Mutex
	partial           []byte
	started, last     time.Time
	header            bool
	open              int // the started injection without a result yet
	results, breaches int
	stall, noCampaign bool // why we stopped the machine
}

// maxLine bounds the partial line kept: longer lines are not the runner's.
const maxLine = 64 << 10

// consoleActivity is the boot's console: copied on to the caller, and time of life for watch.
type consoleActivity struct{ w *watch }

func (c consoleActivity) Write(p []byte) (int, error) {
	if c.w.tee != nil {
		_, _ = c.w.tee.Write(p)
	}
	c.w.mu.Lock()
	c.w.last = time.Now()
	c.w.mu.Unlock()
	return len(p), nil
}

// Write takes the protocol channel's bytes.
func (w *watch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = time.Now()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > maxLine {
		w.partial = w.partial[:0]
	}
	return len(p), nil
}

func (w *watch) line(s string) {
	ev, ok, err := ParseLine(s)
	if !ok || err != nil {
		return
	}
	switch ev.Kind {
	case EventHeader:
		w.header = true
	case EventStart:
		w.open = ev.ID
	case EventResult:
		if ev.ID == w.open {
			w.open = 0
		}
		w.results++
		if ev.Outcome == Breach {
			w.breaches++
		}
	}
}

func (w *watch) counts() (results, breaches int) {
	if w == nil {
		return 0, 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.results, w.breaches
}

func (w *watch) stopped() (stall, noCampaign bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stall, w.noCampaign
}

// guard stops the machine (through stop) when the console has been silent for stall, or when
// no campaign header came within twice that. It returns a function that ends the guard.
func (w *watch) guard(ctx context.Context, stop context.CancelFunc, stall time.Duration) (end func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(min(max(stall/8, 10*time.Millisecond), time.Second))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case now := <-t.C:
				w.mu.Lock()
				switch {
				case !w.header && now.Sub(w.started) > 2*stall:
					w.noCampaign = true
				case w.header && now.Sub(w.last) > stall:
					w.stall = true
				}
				fire := w.stall || w.noCampaign
				w.mu.Unlock()
				if fire {
					stop()
					return
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
