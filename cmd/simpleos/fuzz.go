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
	"github.com/simpleos/simpleos/inject/fuzzrun"
)

const fuzzUsage = `usage: simpleos fuzz [flags]
       simpleos fuzz --repro RING:SEED:BATCH [--kind KIND] [--minimise=false] [flags]

Fuzzes the core's system calls (docs/security.md): each boot runs a fuzzer task in each of
rings 1, 2 and 3 at once, and a bystander task nobody attacks; the core checks its canaries and
the bystander's after every batch. Writes DIR/report.md, per-boot transcripts and, with
--coverage, DIR/coverage.txt and the fraction of each file of core/kernel the fuzzers reached.

Each finding is reproduced alone and cut down to the calls that still reproduce it
(--minimise, on by default); --repro does that for one fuzzer's batch (DIR/repro-*.prog).

Exit status: 0 with no finding, 1 otherwise, 2 for a bad command line, 130 when interrupted.

flags:
`

type fuzzArgs struct {
	cfg   fuzzrun.Config
	accel string
	repro string
	kind  string
}

func newFuzzFlags(a *fuzzArgs) *flag.FlagSet {
	fs := flag.NewFlagSet("simpleos fuzz", flag.ContinueOnError)
	fs.Uint64Var(&a.cfg.Seed, "seed", 1, "the campaign's seed (each fuzzer's is derived from it, its boot and its ring)")
	fs.Uint64Var(&a.cfg.Calls, "calls", 70000, "calls per fuzzer per boot")
	fs.IntVar(&a.cfg.Boots, "boots", 1, "machines to boot, each with fuzzers in rings 1, 2 and 3")
	fs.IntVar(&a.cfg.Parallel, "parallel", 1, "machines at a time")
	fs.IntVar(&a.cfg.Batch, "batch", 100, "calls per batch (the core checks its canaries after each)")
	fs.BoolVar(&a.cfg.Coverage, "coverage", false, "boot a core built with coverage counters and report coverage per file")
	fs.BoolVar(&a.cfg.Minimise, "minimise", true, "reproduce each finding's batch alone and cut it down to the calls that matter (with --repro too)")
	fs.DurationVar(&a.cfg.Timeout, "timeout", 0, "stop a boot after this long (0: 2 min + 3 ms per call)")
	fs.StringVar(&a.cfg.OutDir, "out", filepath.Join("build", "fuzz"), "write results under `DIR`")
	fs.StringVar(&a.accel, "accel", boot.AccelAuto, "accelerator: auto, kvm or tcg")
	fs.StringVar(&a.repro, "repro", "", "reproduce `RING:SEED:BATCH` alone, with a trace")
	fs.StringVar(&a.kind, "kind", "", "with --repro: the finding to reproduce (crash, hang, breach, canary, died; default any)")
	fs.StringVar(&a.cfg.FalseBreach, "false-breach", "", "report every success of `CALL` in ring 3 as a breach: a finding on demand, to try --repro")
	return fs
}

func runFuzz(args []string) int {
	var a fuzzArgs
	fs := newFuzzFlags(&a)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(os.Stderr, fuzzUsage)
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
			return exitUsage
		}
		if err == nil {
			err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		return fail(usageErrorf("fuzz: %w (run `simpleos fuzz -h` for the flags)", err))
	}
	if a.cfg.Boots < 1 || a.cfg.Parallel < 1 || a.cfg.Calls < 1 || a.cfg.Batch < 1 {
		return fail(usageErrorf("fuzz: --boots, --parallel, --calls and --batch must be at least 1"))
	}
	p, err := repoPaths()
	if err != nil {
		return fail(err)
	}
	if err := boot.EnsureBuilt(p, os.Stderr); err != nil {
		return fail(err)
	}
	accel, note, err := boot.ResolveAccel(a.accel)
	if err != nil {
		return fail(err)
	}
	if note != "" {
		fmt.Fprintln(os.Stderr, note)
	}
	a.cfg.Paths, a.cfg.Accel, a.cfg.Progress = p, accel, os.Stderr
	if err := os.MkdirAll(a.cfg.OutDir, 0o755); err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if a.repro != "" {
		return fuzzRepro(ctx, a)
	}
	res, err := fuzzrun.Run(ctx, a.cfg)
	if res == nil {
		return fail(err)
	}
	report := fuzzrun.Report(res)
	fmt.Print(report)
	path := filepath.Join(a.cfg.OutDir, "report.md")
	if werr := os.WriteFile(path, []byte(report), 0o644); werr == nil {
		fmt.Printf("\nwrote %s\n", path)
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "simpleos: fuzz: interrupted")
		return exitInterrupted
	case err != nil:
		return fail(err)
	case len(res.Findings) > 0:
		return 1
	}
	return 0
}

func fuzzRepro(ctx context.Context, a fuzzArgs) int {
	f := strings.Split(a.repro, ":")
	var ring int
	var seed, batch uint64
	var errs [3]error
	if len(f) == 3 {
		ring, errs[0] = strconv.Atoi(f[0])
		seed, errs[1] = strconv.ParseUint(f[1], 10, 64)
		batch, errs[2] = strconv.ParseUint(f[2], 10, 64)
	}
	if len(f) != 3 || errors.Join(errs[:]...) != nil || ring < 1 || ring > 3 {
		return fail(usageErrorf("fuzz: --repro %q: want RING:SEED:BATCH, e.g. 2:12:40", a.repro))
	}
	if a.cfg.Timeout == 0 {
		a.cfg.Timeout = 3 * time.Minute
	}
	rr, err := fuzzrun.Repro(ctx, a.cfg, ring, seed, batch, a.kind, a.cfg.Minimise, os.Stderr)
	if err != nil {
		return fail(err)
	}
	if !rr.Reproduced {
		fmt.Printf("ring %d seed %d batch %d: not reproduced alone (%d steps traced)\n", ring, seed, batch, len(rr.Program))
		return 1
	}
	fmt.Printf("reproduced: %s\n", rr.Finding)
	prog := rr.Program
	if rr.Minimal != nil {
		prog = rr.Minimal
		fmt.Printf("minimal program (%d of %d steps, %d boots), in %s:\n", len(rr.Minimal), len(rr.Program), rr.Boots, rr.File)
	} else {
		fmt.Printf("program (%d steps):\n", len(prog))
	}
	for _, s := range prog {
		fmt.Println("  " + s)
	}
	return 1
}
