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

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/boot/disk"
	"github.com/simpleos/simpleos/boot/gotest"
)

// exitInterrupted is the status after Ctrl-C, as shells report SIGINT.
const exitInterrupted = 130

// runArgs is a parsed `simpleos run` command line.
type runArgs struct {
	Options   boot.Options   // launcher options, without image or modules
	Apps      []boot.AppSpec // --app programs: parsed, checked and named, in flag order
	NoModules bool           // do not bundle the tier1/, tier2/ and ring3/ programs
	Policy    string         // a policy manifest to enforce instead of policy/system.policy
}

// appFlag collects the raw values of a repeated --app flag.
type appFlag []string

func (a *appFlag) String() string     { return strings.Join(*a, " ") }
func (a *appFlag) Set(v string) error { *a = append(*a, v); return nil }

// newRunFlags declares `simpleos run`'s flags, writing into o and apps.
func newRunFlags(o *boot.Options, apps *appFlag, noModules *bool, policyFile *string) *flag.FlagSet {
	fs := flag.NewFlagSet("simpleos run", flag.ContinueOnError)
	fs.BoolVar(noModules, "no-modules", false, "do not start the bundled tier1/, tier2/ and ring3/ programs")
	fs.StringVar(policyFile, "policy", "", "enforce this policy manifest `FILE` instead of policy/system.policy (checked before booting)")
	fs.Var(apps, "app", "run `\"[ring=N] PATH [ARGS...]\"` (split like a shell command line) as an isolated task in ring N (1-3, default 3); repeatable")
	fs.StringVar(&o.Append, "append", "", "kernel command line, e.g. selftest=primes:100000")
	fs.DurationVar(&o.Timeout, "timeout", 0, "stop QEMU after this long and exit 124 (0 = never)")
	fs.IntVar(&o.MemMB, "mem", boot.DefaultMemMB, "guest memory in MiB")
	fs.IntVar(&o.SMP, "smp", boot.DefaultSMP, "number of CPUs QEMU gets; only CPU 0 runs SimpleOS (the others stay halted: no SMP yet)")
	fs.BoolVar(&o.GDB, "gdb", false, "wait for GDB on :1234 before the first instruction")
	fs.StringVar(&o.Accel, "accel", boot.AccelAuto, "accelerator: auto, kvm or tcg")
	fs.StringVar(&o.Icount, "icount", "", "deterministic instruction counting for TCG, e.g. shift=0")
	fs.StringVar(&o.Disk, "disk", "", "attach this raw image `FILE` as the virtio-blk disk (default build/disk.img, created as a 64 MiB FAT32 image when missing)")
	fs.BoolVar(&o.NoIOMMU, "no-iommu", false, "leave out the intel-iommu device (to measure what the IOMMU costs)")
	fs.BoolVar(&o.Display, "vga", false, "give the machine a VGA display without a window (-vga std -display none): the core mirrors its console on it and shows its crash screen there")
	fs.IntVar(&o.Reboots, "reboots", 0, "let the machine reboot (a core crash resets it: adds crash=reboot to the command line) and stop QEMU after `N` reboots, reporting the boot loop (0 = no reboots: a reset ends QEMU)")
	return fs
}

// parseRunArgs turns `simpleos run` arguments into launcher options (without image or
// modules) and the --app programs, each parsed, checked to be a loadable static ELF and named.
// Every error is a usageError (exit 2).
func parseRunArgs(args []string) (runArgs, error) {
	var r runArgs
	var apps appFlag
	o := &r.Options
	fs := newRunFlags(o, &apps, &r.NoModules, &r.Policy)
	fs.SetOutput(io.Discard) // we report errors ourselves, once
	if err := fs.Parse(args); err != nil {
		return runArgs{}, usageErrorf("run: %w", err)
	}
	if fs.NArg() > 0 {
		return runArgs{}, usageErrorf("run: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.MemMB <= 0:
		return runArgs{}, usageErrorf("run: --mem must be a positive number of MiB, got %d", o.MemMB)
	case o.SMP <= 0:
		return runArgs{}, usageErrorf("run: --smp must be at least 1, got %d", o.SMP)
	case o.Timeout < 0:
		return runArgs{}, usageErrorf("run: --timeout must not be negative, got %v", o.Timeout)
	case o.Reboots < 0:
		return runArgs{}, usageErrorf("run: --reboots must not be negative, got %d", o.Reboots)
	}
	if o.Reboots > 0 && !hasWordPrefix(o.Append, "crash=") {
		// Reboots allowed means a crash reboots, as on a real PC; crash=stop says otherwise.
		o.Append = strings.TrimSpace(o.Append + " crash=reboot")
	}
	switch o.Accel {
	case boot.AccelAuto, boot.AccelKVM, boot.AccelTCG:
	default:
		return runArgs{}, usageErrorf("run: --accel must be auto, kvm or tcg, got %q", o.Accel)
	}
	if o.Icount != "" && o.Accel == boot.AccelKVM {
		return runArgs{}, usageErrorf("run: --icount needs TCG; it cannot be combined with --accel kvm")
	}
	if o.Disk != "" {
		if _, err := os.Stat(o.Disk); err != nil {
			return runArgs{}, usageErrorf("run: --disk: %w (make an image with `simpleos disk create %s`)", err, o.Disk)
		}
	}
	if len(apps) > boot.MaxApps {
		return runArgs{}, usageErrorf("run: %d --app flags: the core takes at most %d", len(apps), boot.MaxApps)
	}
	for _, v := range apps {
		a, err := boot.ParseAppSpec(v)
		if err != nil {
			return runArgs{}, usageErrorf("run: %w", err)
		}
		if err := boot.CheckAppBinary(a.Path); err != nil {
			return runArgs{}, usageErrorf("run: --app %q: %w", v, err)
		}
		r.Apps = append(r.Apps, a)
	}
	boot.NameApps(r.Apps)
	if q := gotest.DefaultQuota(o.MemMB) >> 20; len(r.Apps) > 0 && q > 64 && !hasWordPrefix(o.Append, "taskmem=") {
		// An --app program's quota follows the guest's memory, as simpleos test's do (a Go
		// program's tests need more than 64 MiB). The core's default stays 64 MiB, which the
		// fault-injection campaigns' budgets assume; taskmem= on the command line wins.
		o.Append = strings.TrimSpace(o.Append + " taskmem=" + strconv.FormatInt(q, 10))
	}
	if _, err := boot.AppModules(r.Apps); err != nil { // e.g. arguments too long for the core
		return runArgs{}, usageErrorf("run: %w", err)
	}
	return r, nil
}

func runUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: simpleos run [flags]")
	fmt.Fprintln(w, "Boots build/simpleos.img in QEMU and exits with the kernel's status (100: core crashed, 124: timeout).")
	fs := newRunFlags(&boot.Options{}, new(appFlag), new(bool), new(string))
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// runRun boots the (freshly built, if needed) image with the serial console on stdout.
func runRun(args []string) int {
	r, err := parseRunArgs(args)
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
	sys, err := boot.System(p, boot.SystemSpec{
		Apps:      r.Apps,
		NoModules: r.NoModules,
		Policy:    r.Policy,
		Append:    r.Options.Append,
	}, os.Stderr)
	if errors.As(err, new(*boot.SpecError)) {
		return fail(usageErrorf("run: %w", err))
	}
	if err != nil {
		return fail(err)
	}
	o := r.Options
	o.Image, o.Modules, o.Append = sys.Image, sys.Modules, sys.Append
	if o.Disk == "" {
		if o.Disk, err = defaultDisk(p, os.Stderr); err != nil {
			return fail(err)
		}
	}

	accel, note, err := boot.ResolveAccel(o.Accel)
	if err != nil {
		return fail(err)
	}
	if note != "" {
		fmt.Fprintln(os.Stderr, note)
	}
	o.Accel = accel
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
	if o.Reboots > 0 {
		printBoots(os.Stderr, res.Boots)
	}
	return res.Status
}

// printBoots lists each boot of a run with reboots: when it began and how it crashed.
func printBoots(w io.Writer, boots []boot.Boot) {
	for i, b := range boots {
		end := b.Crash
		switch {
		case end == "" && i == len(boots)-1:
			end = "(last boot)"
		case end == "":
			end = "(rebooted without a crash report)"
		}
		fmt.Fprintf(w, "simpleos: boot %d at %.2fs: %s\n", i+1, b.Start.Seconds(), end)
	}
}

// hasWordPrefix reports whether a kernel command line has a word starting with prefix.
func hasWordPrefix(cmdline, prefix string) bool {
	for _, w := range strings.Fields(cmdline) {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}

// defaultDisk returns build/disk.img, creating it as an empty FAT32 image of disk.DefaultSize
// when it is missing.
func defaultDisk(p boot.Paths, log io.Writer) (string, error) {
	img := filepath.Join(p.BuildDir, "disk.img")
	if _, err := os.Stat(img); err == nil {
		return img, nil
	}
	if err := os.MkdirAll(p.BuildDir, 0o755); err != nil {
		return "", err
	}
	if err := disk.Create(img, disk.DefaultSize); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "simpleos: created %s (%s FAT32; `simpleos disk` reads and writes it)\n",
		relativeTo(p.Root, img), disk.FormatSize(disk.DefaultSize))
	return img, nil
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
