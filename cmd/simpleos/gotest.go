package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/boot/gotest"
)

// testArgs is a parsed `simpleos test` command line.
type testArgs struct {
	Options gotest.Options
	Verbose bool
}

func newTestFlags(o *gotest.Options, verbose *bool, quotaMB *int, args *string) *flag.FlagSet {
	fs := flag.NewFlagSet("simpleos test", flag.ContinueOnError)
	fs.IntVar(&o.Ring, "ring", boot.DefaultAppRing, "run the test binaries in ring `N` (1, 2 or 3)")
	fs.StringVar(&o.Run, "run", "", "run only the tests matching `RE` (-test.run)")
	fs.StringVar(&o.Skip, "skip", "", "skip the tests matching `RE` (-test.skip)")
	fs.DurationVar(&o.Timeout, "timeout", gotest.DefaultTimeout, "panic a test binary that runs longer than `D` (-test.timeout); each boot gets 2m more")
	fs.IntVar(&o.MemMB, "mem", gotest.DefaultMemMB, "guest memory in `MiB`")
	fs.IntVar(quotaMB, "quota", 0, "each test binary's memory quota in `MiB` (default a quarter of --mem, at least 64)")
	fs.StringVar(&o.Disk, "disk", "", "the disk image to make (default build/gotest/disk.img; replaced on every run)")
	fs.IntVar(&o.Batch, "batch", gotest.DefaultBatch, "packages per boot")
	fs.Int64Var(&o.MaxFile, "max-file", gotest.DefaultMaxFile, "leave files larger than this many `bytes` off the image")
	fs.StringVar(&o.Accel, "accel", boot.AccelAuto, "accelerator: auto, kvm or tcg")
	fs.IntVar(&o.SMP, "smp", boot.DefaultSMP, "number of guest CPUs")
	fs.BoolVar(verbose, "v", false, "show the serial console of every boot as it runs")
	fs.StringVar(args, "args", "", "further test binary flags, split like a shell command line (e.g. \"-test.short\")")
	return fs
}

func parseTestArgs(argv []string) (testArgs, error) {
	var t testArgs
	var quotaMB int
	var extra string
	fs := newTestFlags(&t.Options, &t.Verbose, &quotaMB, &extra)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(argv); err != nil {
		return testArgs{}, usageErrorf("test: %w", err)
	}
	t.Options.Pkgs = fs.Args()
	t.Options.Quota = int64(quotaMB) << 20
	if extra != "" {
		a, err := boot.ParseAppSpec("x " + extra) // the same shell-like splitting as --app
		if err != nil {
			return testArgs{}, usageErrorf("test: --args: %w", err)
		}
		t.Options.Args = a.Args
	}
	if t.Options.Ring == 0 || t.Options.MemMB == 0 {
		return testArgs{}, usageErrorf("test: --ring and --mem must not be 0")
	}
	if err := t.Options.Check(); err != nil {
		return testArgs{}, usageErrorf("test: %w", err)
	}
	return t, nil
}

// runTest is `simpleos test [flags] PKG...`: go test, with the test binaries run in SimpleOS.
func runTest(argv []string) int {
	t, err := parseTestArgs(argv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "usage: simpleos test [flags] PKG...")
			fmt.Fprintln(os.Stderr, "Builds each package's test binary (static, linux/amd64) and runs it in SimpleOS with its package directory as working directory; prints go test's ok/FAIL lines.")
			fs := newTestFlags(&gotest.Options{}, new(bool), new(int), new(string))
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
			return exitUsage
		}
		return fail(err)
	}
	p, err := repoPaths()
	if err != nil {
		return fail(err)
	}
	o := t.Options
	o.Paths = p
	if o.Dir, err = os.Getwd(); err != nil {
		return fail(err)
	}
	o.Log, o.Out = os.Stderr, os.Stdout
	if t.Verbose {
		o.Console = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.Context = ctx
	rs, err := gotest.Run(o)
	if err != nil {
		return fail(err)
	}
	if ctx.Err() != nil {
		return exitInterrupted
	}
	return gotest.Print(os.Stdout, rs)
}
