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
	"strings"
	"syscall"

	"github.com/simpleos/simpleos/bench"
	"github.com/simpleos/simpleos/boot"
)

const benchUsage = `usage: simpleos bench [--quick|--full] [--out DIR] [--accel auto|kvm|tcg] [--no-linux] [--only PARTS]

Boots SimpleOS (and, for the baseline, Linux) in QEMU and measures system calls, thread
switches, page faults, IPC, eBPF filters, module restarts, boot time and the sensor pipeline
(docs/benchmarks.md), in the accelerator's own timing and under -icount shift=0 (TCG; one
guest ns = one guest instruction). Go benchmark lines go to stdout (benchstat reads them);
bench.txt, results.json, report.md and one SVG plot per benchmark group go to DIR.

Exit status: 0 when every part ran, 1 when some failed (the rest is reported), 2 for a bad
command line, 130 when interrupted.

flags:
`

// benchArgs is a parsed `simpleos bench` command line.
type benchArgs struct {
	Full    bool
	Out     string
	Accel   string
	NoLinux bool
	Parts   []string
}

func newBenchFlags(a *benchArgs, quick *bool, only *string) *flag.FlagSet {
	fs := flag.NewFlagSet("simpleos bench", flag.ContinueOnError)
	fs.BoolVar(quick, "quick", false, "the quick preset (the default): a few minutes under TCG")
	fs.BoolVar(&a.Full, "full", false, "the full preset: many more samples; takes much longer")
	fs.StringVar(&a.Out, "out", filepath.Join("build", "bench"), "write results, logs and plots under `DIR`")
	fs.StringVar(&a.Accel, "accel", boot.AccelAuto, "accelerator of the runs without icount: auto, kvm or tcg (the -icount runs are always TCG)")
	fs.BoolVar(&a.NoLinux, "no-linux", false, "skip the Linux baseline")
	fs.StringVar(only, "only", "", "comma-separated `PARTS` to run: "+strings.Join(bench.AllParts, ", ")+" (default all)")
	return fs
}

// parseBenchArgs reads `simpleos bench` arguments; every error is a usageError.
func parseBenchArgs(args []string) (benchArgs, error) {
	var a benchArgs
	var quick bool
	var only string
	fs := newBenchFlags(&a, &quick, &only)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return benchArgs{}, usageErrorf("bench: %w", err)
	}
	switch {
	case fs.NArg() > 0:
		return benchArgs{}, usageErrorf("bench: unexpected argument %q", fs.Arg(0))
	case quick && a.Full:
		return benchArgs{}, usageErrorf("bench: --quick and --full exclude each other")
	case a.Out == "":
		return benchArgs{}, usageErrorf("bench: --out needs a folder")
	case strings.ContainsAny(a.Out, " ,\t\n"):
		return benchArgs{}, usageErrorf("bench: --out %q: QEMU cannot pass files under a path with spaces or commas", a.Out)
	}
	switch a.Accel {
	case boot.AccelAuto, boot.AccelKVM, boot.AccelTCG:
	default:
		return benchArgs{}, usageErrorf("bench: --accel must be auto, kvm or tcg, got %q", a.Accel)
	}
	for _, p := range strings.Split(only, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		known := false
		for _, k := range bench.AllParts {
			known = known || k == p
		}
		if !known {
			return benchArgs{}, usageErrorf("bench: --only: unknown part %q (known: %s)", p, strings.Join(bench.AllParts, ", "))
		}
		a.Parts = append(a.Parts, p)
	}
	if a.Parts == nil {
		a.Parts = append([]string(nil), bench.AllParts...)
	}
	if a.NoLinux {
		kept := a.Parts[:0]
		for _, p := range a.Parts {
			if p != bench.PartLinux {
				kept = append(kept, p)
			}
		}
		a.Parts = kept
	}
	return a, nil
}

// benchEnvs are the environments of a run: the accelerator's own, and TCG with -icount
// shift=0.
func benchEnvs(accel string) []bench.Env {
	if accel == boot.AccelKVM {
		return []bench.Env{bench.EnvKVM, bench.EnvTCGIcount}
	}
	return []bench.Env{bench.EnvTCG, bench.EnvTCGIcount}
}

// runBench is `simpleos bench`.
func runBench(args []string) int {
	a, err := parseBenchArgs(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(os.Stderr, benchUsage)
			fs := newBenchFlags(new(benchArgs), new(bool), new(string))
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintln(os.Stderr, "simpleos:", err)
		fmt.Fprintln(os.Stderr, "run `simpleos bench -h` for the flags")
		return exitUsage
	}
	p, err := repoPaths()
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
	preset, sizes := "quick", bench.Quick
	if a.Full {
		preset, sizes = "full", bench.Full
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, runErr := bench.Run(ctx, bench.Config{
		Paths:    p,
		Preset:   preset,
		Sizes:    sizes,
		Envs:     benchEnvs(accel),
		Parts:    a.Parts,
		NoLinux:  a.NoLinux,
		Out:      a.Out,
		Progress: os.Stderr,
		Terminal: isTerminal(os.Stderr),
	})
	if report == nil {
		return fail(runErr)
	}
	switch {
	case a.NoLinux:
		report.Linux = "not run (--no-linux)"
	case !containsPart(a.Parts, bench.PartLinux) && report.Linux == "not run":
		report.Linux = "not run (--only)"
	case !containsPart(a.Parts, bench.PartLinux):
		report.Linux += "; the baseline proper not run (--only)"
	}
	if err := report.WriteBench(os.Stdout); err != nil {
		return fail(err)
	}
	written, werr := report.WriteAll(a.Out)
	if len(written) > 0 {
		fmt.Fprintf(os.Stderr, "simpleos: bench: wrote %s\n", strings.Join(written, ", "))
	}
	for _, e := range report.Errors {
		fmt.Fprintln(os.Stderr, "simpleos: bench:", e)
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "simpleos: bench: interrupted; the results so far are written")
		return exitInterrupted
	case runErr != nil:
		return fail(runErr)
	case werr != nil:
		return fail(werr)
	case len(report.Errors) > 0:
		return 1
	}
	return 0
}

func containsPart(parts []string, p string) bool {
	for _, x := range parts {
		if x == p {
			return true
		}
	}
	return false
}
