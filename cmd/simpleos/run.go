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
	"syscall"

	"github.com/simpleos/simpleos/boot"
)

// exitInterrupted is the status after Ctrl-C, as shells report SIGINT.
const exitInterrupted = 130

// newRunFlags declares `simpleos run`'s flags, writing into o.
func newRunFlags(o *boot.Options) *flag.FlagSet {
	fs := flag.NewFlagSet("simpleos run", flag.ContinueOnError)
	fs.StringVar(&o.Append, "append", "", "kernel command line, e.g. selftest=primes:100000")
	fs.DurationVar(&o.Timeout, "timeout", 0, "stop QEMU after this long and exit 124 (0 = never)")
	fs.IntVar(&o.MemMB, "mem", boot.DefaultMemMB, "guest memory in MiB")
	fs.IntVar(&o.SMP, "smp", boot.DefaultSMP, "number of CPUs")
	fs.BoolVar(&o.GDB, "gdb", false, "wait for GDB on :1234 before the first instruction")
	fs.StringVar(&o.Accel, "accel", boot.AccelAuto, "accelerator: auto, kvm or tcg")
	fs.StringVar(&o.Icount, "icount", "", "deterministic instruction counting for TCG, e.g. shift=0")
	return fs
}

// parseRunArgs turns `simpleos run` arguments into launcher options (without image or modules).
func parseRunArgs(args []string) (boot.Options, error) {
	var o boot.Options
	fs := newRunFlags(&o)
	fs.SetOutput(io.Discard) // we report errors ourselves, once
	if err := fs.Parse(args); err != nil {
		return o, usageErrorf("run: %w", err)
	}
	if fs.NArg() > 0 {
		return o, usageErrorf("run: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.MemMB <= 0:
		return o, usageErrorf("run: --mem must be a positive number of MiB, got %d", o.MemMB)
	case o.SMP <= 0:
		return o, usageErrorf("run: --smp must be at least 1, got %d", o.SMP)
	case o.Timeout < 0:
		return o, usageErrorf("run: --timeout must not be negative, got %v", o.Timeout)
	}
	switch o.Accel {
	case boot.AccelAuto, boot.AccelKVM, boot.AccelTCG:
	default:
		return o, usageErrorf("run: --accel must be auto, kvm or tcg, got %q", o.Accel)
	}
	if o.Icount != "" && o.Accel == boot.AccelKVM {
		return o, usageErrorf("run: --icount needs TCG; it cannot be combined with --accel kvm")
	}
	return o, nil
}

func runUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: simpleos run [flags]")
	fmt.Fprintln(w, "Boots build/simpleos.img in QEMU and exits with the kernel's status (100: core crashed, 124: timeout).")
	fs := newRunFlags(&boot.Options{})
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// runRun boots the (freshly built, if needed) image with the serial console on stdout.
func runRun(args []string) int {
	o, err := parseRunArgs(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			runUsage(os.Stderr)
			return exitUsage
		}
		code := fail(err)
		fmt.Fprintln(os.Stderr, "run `simpleos run -h` for the flags")
		return code
	}
	p, err := repoPaths()
	if err != nil {
		return fail(err)
	}
	if err := boot.EnsureBuilt(p, os.Stderr); err != nil {
		return fail(err)
	}

	accel, note, err := boot.ResolveAccel(o.Accel)
	if err != nil {
		return fail(err)
	}
	if note != "" {
		fmt.Fprintln(os.Stderr, note)
	}
	o.Accel = accel
	o.Image = p.Image
	o.Modules = []string{p.ELF} // module 0: the kernel reads its own symbols from it
	o.Stdout = os.Stdout
	if o.GDB {
		fmt.Fprintf(os.Stderr, "simpleos: waiting for GDB on :1234; attach with: gdb %s -ex 'target remote :1234'\n",
			relativeTo(p.Root, p.ELF))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := boot.Run(ctx, o)
	if err != nil {
		return fail(err)
	}
	if ctx.Err() != nil {
		return exitInterrupted
	}
	if res.Note != "" { // e.g. a timeout or a triple fault; the accel note was printed above
		fmt.Fprintln(os.Stderr, "simpleos:", res.Note)
	}
	return res.Status
}

// relativeTo shortens path for display when it lies under the working directory's root.
func relativeTo(root, path string) string {
	wd, err := os.Getwd()
	if err != nil || wd != root {
		return path
	}
	if rel, err := filepath.Rel(root, path); err == nil {
		return rel
	}
	return path
}
