// Command guest is the benchmark program that runs unchanged on SimpleOS (as a task) and on
// Linux (as a normal process, or as /init of an initramfs), so that both kernels are measured
// with the same code on the same emulator.
//
//	guest [-quick] [-only NAMES] [-disk /dev/vda|blk] [-files DIRS] [-files-mib N] [-mount SPECS] [-poweroff]
//
// It prints one line per benchmark in the protocol of package bench/result, "bench skip
// name=NAME reason=..." for a benchmark the system cannot run (pipe/roundtrip/process where
// there is no process creation), "bench error name=NAME err=..." for one that failed, and
// "bench done" at the end. Build it with CGO_ENABLED=0 GOOS=linux GOARCH=amd64.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/bench/measure"
	"github.com/simpleos/simpleos/bench/result"
)

// batchCount is the number of timed batches of every benchmark (each one is a sample).
const batchCount = 50

// quickDivisor shrinks every batch under -quick.
const quickDivisor = 10

// A benchmark times batches of n operations each; run gets the batch count and size.
type benchmark struct {
	name string
	n    int                                                      // operations per batch in a full run
	run  func(name string, batches, n int) (result.Result, error) // nil: a files benchmark (files.go)
	// sizes, if set, gives the batch count and size instead of batchCount and n.
	sizes func(name string, quick bool) (batches, n int)
}

var benchmarks = []benchmark{
	{"pipe/roundtrip/process", 1000, pipeProcess, nil},
	{"pipe/roundtrip/thread", 1000, pipeThread, nil},
	{"futex/roundtrip/thread", 1000, measure.FutexRoundTrip, nil},
	{"syscall/getppid", 20000, getppid, nil},
	{"sched/yield", 10000, schedYield, nil},
	{"pagefault/first-touch", 64 << 20 / measure.PageSize, measure.FirstTouch, nil}, // pages of a 64 MiB region
	// disk.go: only with -disk; seq-read and rand-read-4k read what seq-write wrote.
	{"disk/seq-write", 0, diskSeqWrite, diskSizes},
	{"disk/seq-read", 0, diskSeqRead, diskSizes},
	{"disk/rand-read-4k", 0, diskRandRead, diskSizes},
	// files.go: only with -files, once in each of its directories (files/LABEL/KIND).
	{"files/create-4k", 0, nil, filesSizes},
	{"files/read-4k", 0, nil, filesSizes},
	{"files/stat", 0, nil, filesSizes},
	{"files/unlink", 0, nil, filesSizes},
	{"files/seq-write-64k", 0, nil, filesSizes},
	{"files/seq-read-64k", 0, nil, filesSizes},
	{"files/seq-write-1m", 0, nil, filesSizes},
	{"files/seq-read-1m", 0, nil, filesSizes},
}

// skipError says a benchmark cannot run on this system (it is not a failure).
type skipError struct{ reason string }

func (e skipError) Error() string { return e.reason }

// options are the command-line flags.
type options struct {
	quick    bool
	only     []string // benchmark names; empty = all
	poweroff bool
	disk     string      // the disk benchmarks' disk: a block device, or "blk" (SimpleOS); "" skips them
	files    []*fileDir  // the files benchmarks' directories; none skips them
	filesMiB int         // the sequential files benchmarks' file size (0: 16 MiB under -quick, else 32)
	mounts   []mountSpec // what to mount before the files benchmarks (Linux's init)
}

func parseArgs(args []string, stderr io.Writer) (options, error) {
	var o options
	var only, files, mounts string
	fs := flag.NewFlagSet("guest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.quick, "quick", false, "cut every batch "+fmt.Sprint(quickDivisor)+"x (a few seconds under TCG)")
	fs.StringVar(&only, "only", "", "comma-separated benchmark `NAMES` to run (default all)")
	fs.BoolVar(&o.poweroff, "poweroff", false, "as PID 1 on Linux, power the machine off at the end")
	fs.StringVar(&o.disk, "disk", "", "the disk/ benchmarks' `DISK`, overwritten from sector 0: a block device (/dev/vda, opened O_DIRECT) or blk (SimpleOS's driver endpoint); none: they are skipped")
	fs.StringVar(&files, "files", "", "comma-separated absolute `DIRS` the files/ benchmarks run in, each naming its results by its base name (files/data/stat); none: they are skipped")
	fs.IntVar(&o.filesMiB, "files-mib", 0, "the size of the sequential files/ benchmarks' file in `MiB` (default 16 under -quick, else 32)")
	fs.StringVar(&mounts, "mount", "", "comma-separated `SPECS` TYPE:SOURCE:/TARGET to mount first (Linux's init: vfat:/dev/vda:/vol,tmpfs:tmpfs:/tmp)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: guest [-quick] [-only NAMES] [-disk DISK] [-files DIRS] [-files-mib N] [-mount SPECS] [-poweroff]")
		fs.PrintDefaults()
		fmt.Fprintln(fs.Output(), "benchmarks:")
		for _, b := range benchmarks {
			fmt.Fprintln(fs.Output(), "  "+b.name)
		}
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.files, err = parseFileDirs(files); err != nil {
		return o, err
	}
	if o.mounts, err = parseMounts(mounts); err != nil {
		return o, err
	}
	if o.filesMiB < 0 {
		return o, fmt.Errorf("-files-mib %d: not a size", o.filesMiB)
	}
	for _, name := range strings.Split(only, ",") {
		if name == "" {
			continue
		}
		if find(name) == nil {
			return o, fmt.Errorf("-only: unknown benchmark %q", name)
		}
		o.only = append(o.only, name)
	}
	return o, nil
}

func find(name string) *benchmark {
	for i := range benchmarks {
		if benchmarks[i].name == name {
			return &benchmarks[i]
		}
	}
	return nil
}

// selected lists the benchmarks to run, in table order.
func (o options) selected() []benchmark {
	if len(o.only) == 0 {
		return benchmarks
	}
	var out []benchmark
	for _, b := range benchmarks {
		for _, name := range o.only {
			if b.name == name {
				out = append(out, b)
				break
			}
		}
	}
	return out
}

// run runs the selected benchmarks, printing one line each; it reports whether any failed.
func run(w io.Writer, o options) (failed bool) {
	// No collection while threads sit in raw blocking system calls holding their Ps: a
	// stop-the-world could wait for them while their partner is already stopped.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	diskState.spec = o.disk
	defer closeDisk()
	filesState.dirs, filesState.mib = o.files, o.filesMiB
	report := func(name string, r result.Result, err error) {
		var skip skipError
		switch {
		case errors.As(err, &skip):
			fmt.Fprintf(w, "bench skip name=%s reason=%s\n", name, skip.reason)
		case err != nil:
			fmt.Fprintf(w, "bench error name=%s err=%v\n", name, err)
			failed = true
		default:
			fmt.Fprintln(w, r.Line())
		}
	}
	sizes := func(b benchmark) (count, n int) {
		count, n = batchCount, b.n
		if o.quick {
			n = max(1, n/quickDivisor)
		}
		if b.sizes != nil {
			count, n = b.sizes(b.name, o.quick)
		}
		return count, n
	}
	var files []benchmark
	for _, b := range o.selected() {
		if b.run == nil {
			files = append(files, b)
			continue
		}
		count, n := sizes(b)
		r, err := b.run(b.name, count, n)
		report(b.name, r, err)
	}
	// The files benchmarks, directory by directory (the reads read what the writes wrote).
	var mountErr error
	if len(files) > 0 && len(o.files) > 0 && len(o.mounts) > 0 {
		mountErr = mountAll(o.mounts)
	}
	for _, b := range files {
		if len(o.files) == 0 {
			report(b.name, result.Result{}, skipError{"no directories given (-files /data,/tmp)"})
		}
	}
	for _, d := range o.files {
		for _, b := range files {
			count, n := sizes(b)
			name := fileBenchName(d, b.name)
			if mountErr != nil {
				report(name, result.Result{}, skipError{mountErr.Error()})
				continue
			}
			r, err := fileBench(d, b.name, count, n)
			report(name, r, err)
		}
	}
	return failed
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == peerArg {
		os.Exit(pipePeer())
	}
	o, err := parseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "guest:", err)
		os.Exit(2)
	}
	start := time.Now()
	fmt.Printf("bench start quick=%v pid=%d\n", o.quick, os.Getpid())
	failed := run(os.Stdout, o)
	fmt.Printf("bench elapsed=%v\n", time.Since(start).Round(time.Millisecond))
	fmt.Println("bench done")
	if os.Getpid() == 1 {
		pid1(o.poweroff) // does not return
	}
	if failed {
		os.Exit(1)
	}
}

// pid1 ends the program when it is Linux's init, which must never exit (the kernel panics):
// with -poweroff it powers the machine off, otherwise it waits forever.
func pid1(poweroff bool) {
	if !poweroff {
		fmt.Fprintln(os.Stderr, "guest: PID 1 without -poweroff: waiting forever")
		for {
			time.Sleep(time.Hour)
		}
	}
	// Let the serial port send "bench done" before the machine goes away (tcdrain).
	const tcsbrk = 0x5409 // TCSBRK; a non-zero argument means tcdrain
	syscall.Syscall(syscall.SYS_IOCTL, 1, tcsbrk, 1)
	err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	// Still here (not Linux, or no permission): exiting as PID 1 panics Linux, which ends a
	// QEMU started with -no-reboot and panic=-1 as well.
	fmt.Fprintf(os.Stderr, "guest: power off: %v\n", err)
	os.Exit(1)
}
