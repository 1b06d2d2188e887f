package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/simpleos/simpleos/boot"
)

// Sizes say how much each benchmark does. Quick and Full are the presets.
type Sizes struct {
	Batches      int           // timed batches per micro-benchmark (each one is a sample)
	SyscallOps   int           // getppid calls per batch
	SwitchTrips  int           // futex round trips per batch (two thread switches each)
	FaultPages   int           // pages first touched per batch
	IPCCalls     int           // call+reply round trips per batch
	GuestQuick   bool          // bench/guest -quick, on SimpleOS and on Linux
	RestartKills int           // kill injections into each restarted module, per campaign (snapshots on, and off); quarantines give no sample
	Pipes        int           // ring3/app's pipe count in the sensor pipeline
	PipelineRuns int           // boots per deployment of the sensor pipeline
	BootRuns     int           // standard boots timed to ready
	GuestOnly    []string      // bench/guest -only (empty: all its benchmarks)
	FilesMiB     int           // bench/guest -files-mib: the sequential files benchmarks' file (0: the guest's default)
	RestartDelay time.Duration // kill this long after the sensor instance serves
	BootTimeout  time.Duration // per boot; 0: a default for each kind of boot
	LinuxTimeout time.Duration // the Linux baseline's boot; 0: bench/linux's default
}

// Presets: Quick keeps `make bench` to a few minutes under TCG; Full gives distributions
// worth plotting.
var (
	Quick = Sizes{
		Batches: 20, SyscallOps: 2000, SwitchTrips: 200, FaultPages: 1024, IPCCalls: 500,
		GuestQuick: true, RestartKills: 4, Pipes: 2000, PipelineRuns: 1, BootRuns: 2,
		RestartDelay: 100 * time.Millisecond,
	}
	Full = Sizes{
		Batches: 100, SyscallOps: 5000, SwitchTrips: 500, FaultPages: 2048, IPCCalls: 2000,
		RestartKills: 20, Pipes: 2000, PipelineRuns: 3, BootRuns: 10,
		RestartDelay: 100 * time.Millisecond,
	}
)

// Parts of the suite, in the order they run in each environment.
const (
	PartMicro    = "micro"    // syscalls, thread switch, page fault, IPC fast path and filter
	PartSlowIPC  = "slowipc"  // IPC with ipcfast=off
	PartGuest    = "guest"    // bench/guest as a SimpleOS task
	PartRestart  = "restart"  // module restart latency (kill campaigns: from snapshots, and cold)
	PartBoot     = "boot"     // boot to ready
	PartPipeline = "pipeline" // the sensor pipeline, tiered and monolithic
	PartDisk     = "disk"     // disk throughput through the ring-1 driver, IOMMU on and off (disk.go)
	PartFiles    = "files"    // file-system operations and throughput, SimpleOS and Linux (files.go)
	PartLinux    = "linux"    // the Linux baseline
	// PartHost (host.go): host figures, bench/guest and the eBPF filter on the host itself.
)

// AllParts lists every part.
var AllParts = []string{PartMicro, PartSlowIPC, PartProfile, PartGuest, PartRestart, PartBoot, PartPipeline, PartDisk, PartFiles, PartLinux, PartHost}

// Config describes one run of the suite.
type Config struct {
	Paths  boot.Paths
	Preset string // quick or full: recorded in the report
	Sizes  Sizes
	Envs   []Env    // each part runs in each environment
	Parts  []string // default AllParts
	Out    string   // logs, programs, policies and the Linux work directory go under it

	// NoLinux leaves Linux out of the parts that boot it themselves (files); the Linux
	// baseline proper is the part PartLinux.
	NoLinux bool

	// LinuxDir is the Linux baseline's work directory (the kernel is downloaded there once);
	// default Out/linux.
	LinuxDir string

	Progress io.Writer // the progress line (stderr); nil for none
	Terminal bool      // Progress is a terminal: rewrite the line in place
	Log      io.Writer // build output and notes; nil for none

	// Boot boots one machine; nil means boot.Run. Tests replace it.
	Boot func(ctx context.Context, o boot.Options) (boot.Result, error)
}

// Run runs the suite. Parts that fail are in the report's Errors and the suite goes on; the
// error is for a run that could not start (no programs, no output folder) or was cancelled.
func Run(ctx context.Context, c Config) (*Report, error) {
	if len(c.Envs) == 0 {
		return nil, errors.New("bench: no environment to run in")
	}
	if c.Parts == nil {
		c.Parts = AllParts
	}
	for _, p := range c.Parts {
		if !slices.Contains(AllParts, p) {
			return nil, fmt.Errorf("bench: unknown part %q (known: %s)", p, strings.Join(AllParts, ", "))
		}
	}
	if c.Out == "" {
		return nil, errors.New("bench: no output folder")
	}
	if strings.ContainsAny(c.Out, " ,") {
		return nil, fmt.Errorf("bench: output folder %q: QEMU cannot pass files under a path with spaces or commas", c.Out)
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.Boot == nil {
		c.Boot = boot.Run
	}
	out, err := filepath.Abs(c.Out)
	if err != nil {
		return nil, err
	}
	c.Out = out
	for _, d := range []string{"logs", "progs", "policy"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return nil, err
		}
	}
	s := &suite{cfg: c, report: &Report{
		Start:  time.Now(),
		Preset: c.Preset,
		Host:   hostCPU(),
		Envs:   c.Envs,
		Linux:  "not run",
	}}
	s.progress = newProgress(c.Progress, c.Terminal, s.steps())
	defer s.progress.finish()
	if err := s.prepare(ctx); err != nil {
		return s.report, err
	}
	for _, e := range c.Envs {
		for _, part := range c.Parts {
			if err := ctx.Err(); err != nil {
				s.report.WallSeconds = time.Since(s.report.Start).Seconds()
				return s.report, err
			}
			if part != PartHost {
				s.runPart(ctx, e, part)
			}
		}
	}
	if s.has(PartHost) && ctx.Err() == nil {
		s.runHost(ctx) // once: the host is not an environment of QEMU
	}
	if len(s.starved) > 0 {
		s.report.Notes = append(s.report.Notes, starvedNote(s.starved))
	}
	s.report.Notes = append(s.report.Notes, standardNotes(c)...)
	s.report.WallSeconds = time.Since(s.report.Start).Seconds()
	return s.report, ctx.Err()
}

// suite is one run in progress.
type suite struct {
	cfg      Config
	report   *Report
	progress *progress
	micro    string // the built bench/progs/micro
	guest    string // the built bench/guest
	blk      string // the built tier1/blk (the disk and files boots)
	fsd      string // the built ring3/fs (the files boots)
	bundled  []boot.AppSpec
	starved  []string // pipeline runs whose sensor screened less than half the events
}

func (s *suite) has(part string) bool { return slices.Contains(s.cfg.Parts, part) }

// steps counts the boots the progress line counts down.
func (s *suite) steps() int {
	n, once := 0, 0
	for _, p := range s.cfg.Parts {
		switch p {
		case PartHost, PartProfile: // once: on the host; in the -icount environment
			once++
		case PartBoot:
			n += max(1, s.cfg.Sizes.BootRuns)
		case PartPipeline:
			n += 2 * max(1, s.cfg.Sizes.PipelineRuns)
		case PartRestart:
			n += 2 // from snapshots, and cold
		case PartDisk:
			n += len(diskVariants)
		case PartFiles:
			n++
			if !s.cfg.NoLinux {
				n++
			}
		default:
			n++
		}
	}
	return n*len(s.cfg.Envs) + once
}

func (s *suite) errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.report.Errors = append(s.report.Errors, msg)
	s.progress.note("bench: " + msg)
}

func (s *suite) add(figs ...Figure) { s.report.Figures = append(s.report.Figures, figs...) }

// runPart runs one part in one environment.
func (s *suite) runPart(ctx context.Context, e Env, part string) {
	switch part {
	case PartMicro:
		s.runMicro(ctx, e, true)
	case PartSlowIPC:
		s.runMicro(ctx, e, false)
	case PartGuest:
		s.runGuest(ctx, e)
	case PartRestart:
		s.runRestart(ctx, e)
	case PartBoot:
		s.runBootTime(ctx, e)
	case PartPipeline:
		s.runPipeline(ctx, e)
	case PartDisk:
		s.runDisk(ctx, e)
	case PartFiles:
		s.runFiles(ctx, e)
	case PartLinux:
		s.runLinux(ctx, e)
	case PartProfile:
		s.runProfile(ctx, e)
	}
}

// prepare builds what the boots run: the core, the bundled modules, the benchmark programs.
func (s *suite) prepare(ctx context.Context) error {
	s.progress.step("building the core, the modules and the benchmark programs")
	p := s.cfg.Paths
	if err := boot.EnsureBuilt(p, s.cfg.Log); err != nil {
		return err
	}
	progs := filepath.Join(s.cfg.Out, "progs")
	need := func(parts ...string) bool {
		for _, x := range parts {
			if s.has(x) {
				return true
			}
		}
		return false
	}
	if need(PartMicro, PartSlowIPC, PartProfile) {
		s.micro = filepath.Join(progs, "micro")
		if err := goBuild(ctx, p.Root, "./bench/progs/micro", s.micro); err != nil {
			return err
		}
	}
	if need(PartGuest, PartHost, PartDisk, PartFiles) {
		s.guest = filepath.Join(progs, "guest")
		if err := goBuild(ctx, p.Root, GuestPackage, s.guest); err != nil {
			// Written by another part of the project: the rest of the suite goes on.
			s.errorf("building %s: %v", GuestPackage, err)
			s.guest = ""
		}
	}
	if need(PartPipeline, PartDisk, PartFiles) {
		mods, err := boot.FindModules(p)
		if err != nil {
			return err
		}
		if err := boot.BuildModules(p, mods, s.cfg.Log); err != nil {
			return err
		}
		for _, m := range mods {
			switch m.Pkg {
			case "./tier1/console", "./tier2/sensor", "./ring3/pipesvc", "./ring3/app":
				s.bundled = append(s.bundled, boot.AppSpec{Ring: m.Ring, Path: m.Out})
			case "./tier1/blk":
				s.blk = m.Out
			case "./ring3/fs":
				s.fsd = m.Out
			}
		}
		if need(PartPipeline) && len(s.bundled) != 4 {
			return fmt.Errorf("bench: the sensor pipeline needs tier1/console, tier2/sensor, ring3/pipesvc and ring3/app; found %d of them", len(s.bundled))
		}
	}
	return nil
}

// GuestPackage is the Linux baseline's benchmark program, also run on SimpleOS.
const GuestPackage = "./bench/guest"

// bootSystem assembles a boot of spec (boot.System) for environment e and runs it with runBoot;
// stdout, if not nil, sees the console as it arrives.
func (s *suite) bootSystem(ctx context.Context, name string, e Env, spec boot.SystemSpec, limit time.Duration, stdout io.Writer) (boot.Result, error) {
	o, err := boot.System(s.cfg.Paths, spec, s.cfg.Log)
	if err != nil {
		return boot.Result{}, err
	}
	o.Accel, o.Icount = e.Accel, e.Icount
	o.Timeout = s.bootTimeout(limit)
	o.Stdout = stdout
	return s.runBoot(ctx, name, o)
}

// runBoot boots once, saving the console transcript as logs/NAME.log.
func (s *suite) runBoot(ctx context.Context, name string, o boot.Options) (boot.Result, error) {
	res, err := s.cfg.Boot(ctx, o)
	if len(res.Output) > 0 {
		_ = os.WriteFile(filepath.Join(s.cfg.Out, "logs", name+".log"), res.Output, 0o644)
	}
	return res, err
}

// logPath is where runBoot saves the transcript of boot name.
func (s *suite) logPath(name string) string {
	rel, err := filepath.Rel(s.cfg.Paths.Root, filepath.Join(s.cfg.Out, "logs", name+".log"))
	if err != nil || strings.HasPrefix(rel, "..") {
		return filepath.Join(s.cfg.Out, "logs", name+".log")
	}
	return rel
}

// bootTimeout is the limit for one boot, given the default for its kind.
func (s *suite) bootTimeout(def time.Duration) time.Duration {
	if s.cfg.Sizes.BootTimeout > 0 {
		return s.cfg.Sizes.BootTimeout
	}
	return def
}

// bootEnded describes how a boot ended when it did not end well, or "".
func bootEnded(res boot.Result) string {
	switch {
	case res.TimedOut:
		return "timed out (" + res.Note + ")"
	case res.Crashed:
		return fmt.Sprintf("the core crashed (status %d)", res.Status)
	case res.Status != 0:
		return fmt.Sprintf("status %d", res.Status)
	}
	return ""
}

// standardNotes are what every report must say about its figures.
func standardNotes(c Config) []string {
	notes := []string{
		"Guest time under TCG without icount follows the host's clock: the figures move with the host's load " +
			"(this machine also runs other QEMUs); the -icount figures are instruction counts and repeat to within a few percent.",
		"IPC figures are whole round trips between two Go programs: both runtimes' system-call wrappers " +
			"(entersyscall/exitsyscall) are included, as the docs/ipc.md figures are.",
	}
	if !slices.ContainsFunc(c.Envs, func(e Env) bool { return e.Accel == boot.AccelKVM }) {
		notes = append(notes, "The KVM goals (cycles, restart and boot times) are not measured: this run used TCG only.")
	}
	return notes
}

// hostCPU is the host's CPU model, for the report.
func hostCPU() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return fmt.Sprintf("%s (%d host CPUs)", strings.TrimSpace(v), runtime.NumCPU())
		}
	}
	return runtime.GOARCH
}
