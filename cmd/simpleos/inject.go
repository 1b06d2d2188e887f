package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/inject/campaign"
)

// injectArgs is a parsed `simpleos inject` command line.
type injectArgs struct {
	Files       []string // scenario files
	Deployments []string // tiered, monolithic or both (in that order)
	Parallel    int
	Shard       campaign.Shard
	ShardNote   string // --shard auto: where the shard came from
	PerBoot     int
	Out         string
	Timeout     time.Duration // per boot; 0 = campaign.BootTimeout
	Stall       time.Duration
	Accel       string
	Seed        uint64
	Policy      string
}

const injectUsage = `usage: simpleos inject [flags] SCENARIO...
       simpleos inject merge -o DIR RESULTS.json...

Runs a fault-injection campaign: boots SimpleOS repeatedly, each boot with a chunk of the
injections the scenario files describe (docs/fault-injection.md), and writes
DIR/results-DEPLOYMENT.json and DIR/results.md, or for shard I of N
DIR/results-DEPLOYMENT-shard-I-of-N.json and DIR/results-shard-I-of-N.md. Flags may follow
the files.

--shard auto takes the shard from a cluster engine: a Slurm array job (sbatch --array=1-N:
SLURM_ARRAY_TASK_ID and the array's size) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX,
0-based, with --shard-count N = the Job's completions). See cluster/ and
docs/fault-injection.md.

merge combines the JSON files of shards of one campaign into DIR; it fails when a shard is
missing.

Exit status: 0 when every tiered injection ended in an expected outcome with no core crash and
no isolation breach (monolithic results never fail the run), 1 otherwise, 2 for a bad command
line, 130 when interrupted.

flags:
`

// newInjectFlags declares `simpleos inject`'s flags.
func newInjectFlags(a *injectArgs, deployment, shard *string, shardCount *int) *flag.FlagSet {
	fs := flag.NewFlagSet("simpleos inject", flag.ContinueOnError)
	fs.StringVar(deployment, "deployment", campaign.Tiered, "deployment `MODE`: tiered, monolithic (the sensor in the core: the comparison) or both")
	fs.IntVar(&a.Parallel, "parallel", 1, "boots to run at once")
	fs.StringVar(shard, "shard", "", "run only shard `i/n` of the plan: the ids with (id-1) % n == i-1; auto: from a Slurm array job or a Kubernetes Indexed Job")
	fs.IntVar(shardCount, "shard-count", 0, "with --shard auto: the number of shards `N` (a Kubernetes Indexed Job's completions; for Slurm, checked against the array's size)")
	fs.IntVar(&a.PerBoot, "per-boot", campaign.DefaultPerBoot, "at most this many injections per boot")
	fs.StringVar(&a.Out, "out", filepath.Join("build", "inject"), "write results, plans and console logs under `DIR`")
	fs.DurationVar(&a.Timeout, "timeout", 0, "stop a boot after this long (0: 90s + 3s and the delay per injection)")
	fs.DurationVar(&a.Stall, "stall", campaign.DefaultStall, "stop a boot after this long without console output (the open injection is a hang)")
	fs.StringVar(&a.Accel, "accel", boot.AccelAuto, "accelerator: auto, kvm or tcg")
	fs.Uint64Var(&a.Seed, "seed", 1, "the campaign's seed for the core's random choices (which bit flips); shards of one campaign share it")
	fs.StringVar(&a.Policy, "policy", "", "enforce this policy manifest `FILE` instead of policy/system.policy")
	return fs
}

// parseInjectArgs reads `simpleos inject` arguments, flags before or after the files, and
// the cluster engine's environment for --shard auto. Every error is a usageError (exit 2).
func parseInjectArgs(args []string) (injectArgs, error) {
	return parseInjectArgsEnv(args, os.Getenv)
}

// parseInjectArgsEnv is parseInjectArgs with the environment read through getenv.
func parseInjectArgsEnv(args []string, getenv func(string) string) (injectArgs, error) {
	var a injectArgs
	var deployment, shard string
	var shardCount int
	fs := newInjectFlags(&a, &deployment, &shard, &shardCount)
	fs.SetOutput(io.Discard)
	for {
		if err := fs.Parse(args); err != nil {
			return injectArgs{}, usageErrorf("inject: %w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		a.Files = append(a.Files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch deployment {
	case campaign.Tiered, campaign.Monolithic:
		a.Deployments = []string{deployment}
	case "both":
		a.Deployments = []string{campaign.Tiered, campaign.Monolithic}
	default:
		return injectArgs{}, usageErrorf("inject: --deployment must be tiered, monolithic or both, got %q", deployment)
	}
	switch {
	case shard == "auto":
		s, note, err := campaign.AutoShard(getenv, shardCount)
		if err != nil {
			return injectArgs{}, usageErrorf("inject: %w", err)
		}
		a.Shard, a.ShardNote = s, note
	case shardCount != 0:
		return injectArgs{}, usageErrorf("inject: --shard-count is for --shard auto")
	case shard != "":
		s, err := campaign.ParseShard(shard)
		if err != nil {
			return injectArgs{}, usageErrorf("inject: --%w", err)
		}
		a.Shard = s
	}
	switch {
	case len(a.Files) == 0:
		return injectArgs{}, usageErrorf("inject: no scenario file given (e.g. scenarios/quick.scn)")
	case a.Parallel < 1:
		return injectArgs{}, usageErrorf("inject: --parallel must be at least 1, got %d", a.Parallel)
	case a.PerBoot < 1 || a.PerBoot > campaign.MaxCount:
		return injectArgs{}, usageErrorf("inject: --per-boot must be between 1 and %d, got %d", campaign.MaxCount, a.PerBoot)
	case a.Out == "":
		return injectArgs{}, usageErrorf("inject: --out needs a folder")
	case strings.ContainsAny(a.Out, " \t\n"):
		return injectArgs{}, usageErrorf("inject: --out %q: QEMU cannot pass plan files under a path with spaces", a.Out)
	case a.Timeout < 0:
		return injectArgs{}, usageErrorf("inject: --timeout must not be negative, got %v", a.Timeout)
	case a.Stall <= 0:
		return injectArgs{}, usageErrorf("inject: --stall must be positive, got %v", a.Stall)
	}
	switch a.Accel {
	case boot.AccelAuto, boot.AccelKVM, boot.AccelTCG:
	default:
		return injectArgs{}, usageErrorf("inject: --accel must be auto, kvm or tcg, got %q", a.Accel)
	}
	return a, nil
}

// runInject is `simpleos inject`.
func runInject(args []string) int {
	if len(args) > 0 && args[0] == "merge" {
		return injectMerge(args[1:], os.Stdout, os.Stderr)
	}
	a, err := parseInjectArgs(args)
	if err != nil {
		return injectUsageError(err, os.Stderr)
	}
	if a.ShardNote != "" {
		fmt.Fprintf(os.Stderr, "simpleos: inject: --shard auto: %s\n", a.ShardNote)
	}
	scs, files, err := campaign.LoadScenarios(a.Files...)
	if err == nil {
		err = checkTargets(scs, a.Policy)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // one FILE:LINE: problem per line
		return 1
	}
	p, err := repoPaths()
	if err != nil {
		return fail(err)
	}
	sys, err := boot.System(p, boot.SystemSpec{Policy: a.Policy}, os.Stderr)
	if errors.As(err, new(*boot.SpecError)) {
		return fail(usageErrorf("inject: %w", err))
	}
	if err != nil {
		return fail(err)
	}
	accel, note, err := boot.ResolveAccel(a.Accel)
	if err != nil {
		return fail(err)
	}
	if note != "" {
		fmt.Fprintln(os.Stderr, note)
	}
	sys.Accel = accel

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rs, runErr := campaign.Run(ctx, campaign.Config{
		Scenarios:   scs,
		Files:       files,
		Deployments: a.Deployments,
		Shard:       a.Shard,
		PerBoot:     a.PerBoot,
		Parallel:    a.Parallel,
		Timeout:     a.Timeout,
		Stall:       a.Stall,
		Seed:        a.Seed,
		System:      sys,
		OutDir:      a.Out,
		Progress:    os.Stderr,
		Terminal:    isTerminal(os.Stderr),
	})
	if rs == nil {
		return fail(runErr)
	}
	code := report(a.Out, rs, os.Stdout, os.Stderr)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "simpleos: inject: interrupted; the results so far are written")
		return exitInterrupted
	case runErr != nil:
		return fail(runErr)
	}
	return code
}

// checkTargets checks the scenarios' targets against the policy the boots will enforce.
func checkTargets(scs []campaign.Scenario, policyFile string) error {
	names, file, err := campaign.PolicyTargets(policyFile)
	if err != nil {
		return err
	}
	return campaign.CheckTargets(scs, names, file)
}

// report writes the results and the Markdown report into dir, prints what it wrote and the
// verdict, and returns the exit status. problems are more reasons to fail.
func report(dir string, rs []*campaign.Results, stdout, stderr io.Writer, problems ...string) int {
	paths, err := campaign.WriteReport(dir, rs)
	if err != nil {
		fmt.Fprintln(stderr, "simpleos: inject:", err)
		return 1
	}
	for _, r := range rs {
		s := campaign.Summarize(r)
		fmt.Fprintf(stdout, "%s: %d injections, %d run, %d unexpected, %d core crashes, %d breaches, %d hangs, %.1f faults/s\n",
			s.Deployment, s.Total, s.Run, s.Unexpected, s.ByOutcome[campaign.CoreCrash], s.ByOutcome[campaign.Breach],
			s.ByOutcome[campaign.Hang], s.FaultsPerSecond)
	}
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join(paths, ", "))
	pass, reasons := campaign.Verdict(rs)
	reasons = append(reasons, problems...)
	if !pass || len(problems) > 0 {
		fmt.Fprintf(stdout, "FAIL: %s\n", strings.Join(reasons, "; "))
		return 1
	}
	fmt.Fprintln(stdout, "PASS")
	return 0
}

// injectMerge is `simpleos inject merge -o DIR FILE...`.
func injectMerge(args []string, stdout, stderr io.Writer) int {
	dir, files, err := parseMergeArgs(args)
	if err != nil {
		return injectUsageError(err, stderr)
	}
	var rs []*campaign.Results
	for _, f := range files {
		r, err := campaign.ReadResults(f)
		if err != nil {
			fmt.Fprintln(stderr, "simpleos: inject merge:", err)
			return 1
		}
		rs = append(rs, r)
	}
	merged, err := campaign.Merge(rs...)
	if err != nil {
		fmt.Fprintln(stderr, "simpleos: inject", err)
		return 1
	}
	var problems []string
	for _, m := range merged {
		if missing := m.MissingShards(); len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("%s: %s of %d missing (%d of %d injections merged)",
				m.Campaign.Deployment, shardNumbers(missing), m.Campaign.ShardCount, len(m.Injections), m.Campaign.PlanTotal))
		}
	}
	return report(dir, merged, stdout, stderr, problems...)
}

// shardNumbers is "shard 3" or "shards 2, 4".
func shardNumbers(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	if len(ns) == 1 {
		return "shard " + s[0]
	}
	return "shards " + strings.Join(s, ", ")
}

// parseMergeArgs reads `-o DIR FILE...`, flags before or after the files.
func parseMergeArgs(args []string) (dir string, files []string, err error) {
	fs := flag.NewFlagSet("simpleos inject merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&dir, "o", "", "write the merged results into `DIR`")
	for {
		if err := fs.Parse(args); err != nil {
			return "", nil, usageErrorf("inject merge: %w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case dir == "":
		return "", nil, usageErrorf("inject merge: -o DIR is required")
	case len(files) == 0:
		return "", nil, usageErrorf("inject merge: no results files given")
	}
	return dir, files, nil
}

// injectUsageError reports a bad command line (or prints the usage for -h) and returns 2.
func injectUsageError(err error, stderr io.Writer) int {
	if !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, "simpleos:", err)
		fmt.Fprintln(stderr, "run `simpleos inject -h` for the flags")
		return exitUsage
	}
	fmt.Fprint(stderr, injectUsage)
	var a injectArgs
	fs := newInjectFlags(&a, new(string), new(string), new(int))
	fs.SetOutput(stderr)
	fs.PrintDefaults()
	return exitUsage
}

// isTerminal reports whether f is a terminal (a character device), for the progress line.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
