// Command fuzzer is the system-call fuzzer task (package inject/fuzz) that `simpleos fuzz`
// runs in rings 1, 2 and 3 at once. Its flags say what its policy grants it, so that its calls
// get past the policy checks and a success the policy should have refused is seen as a breach:
//
//	fuzzer -seed S -calls N [-batch B] [-first F] [-batches K] [-trace]
//	       [-serve A,B] [-call A,B] [-event A] [-publish A] [-content A] [-mmio LO-HI,...]
//	       [-targets ADDR,...] [-program NAME] [-false-breach CALL]
//
// -program NAME runs the program in content file NAME (as inject/fuzz.ParseProgram reads it)
// instead of generating batches: a repro. After every batch it reports its progress to the core
// (fuzz_report), whose fuzz runner checks its canaries. It ends with one line per call:
//
//	fuzz-stats NAME: calls=N batches=B findings=F
//	fuzz-stats NAME: call read n=N ok=K errnos=EBADF,EFAULT
//
// Exit status: 0, 1 if it found something, 2 on a bad flag.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/inject/fuzz"
)

func main() {
	var (
		cfg     fuzz.Config
		trace   = flag.Bool("trace", false, "write every step before it is made")
		program = flag.String("program", "", "run the program in this content file")
		mmio    = flag.String("mmio", "", "granted device memory, LO-HI[,LO-HI] (HI exclusive)")
		targets = flag.String("targets", "", "more addresses no call may touch, ADDR[,ADDR]")
		ring    = flag.Int("ring", 3, "the ring the policy runs this task in")
	)
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed")
	flag.Uint64Var(&cfg.MaxCalls, "calls", 100000, "calls to make (0: no limit)")
	flag.IntVar(&cfg.Batch, "batch", 100, "calls per batch")
	flag.Uint64Var(&cfg.First, "first", 0, "first batch")
	flag.Uint64Var(&cfg.Batches, "batches", 0, "batches to run (0: no limit)")
	flag.StringVar(&cfg.FalseBreach, "false-breach", "", "report every success of this call as a breach (tests the reporting of findings)")
	list := func(dst *[]string, name, usage string) {
		flag.Func(name, usage, func(s string) error {
			*dst = strings.Split(s, ",")
			return nil
		})
	}
	list(&cfg.Serves, "serve", "endpoints the policy lets it serve")
	list(&cfg.Calls, "call", "endpoints the policy lets it call")
	list(&cfg.Events, "event", "events it may subscribe to")
	list(&cfg.Publish, "publish", "events it may publish")
	list(&cfg.Content, "content", "content files it may read and write")
	flag.Parse()
	cfg.Ring = *ring
	for _, r := range strings.Split(*mmio, ",") {
		if r == "" {
			continue
		}
		lo, hi, ok := strings.Cut(r, "-")
		l, err1 := strconv.ParseUint(lo, 0, 64)
		h, err2 := strconv.ParseUint(hi, 0, 64)
		if !ok || err1 != nil || err2 != nil {
			fmt.Fprintf(os.Stderr, "fuzzer: -mmio %q: want LO-HI\n", r)
			os.Exit(2)
		}
		cfg.MMIO = append(cfg.MMIO, [2]uint64{l, h})
	}
	for _, t := range strings.Split(*targets, ",") {
		if t == "" {
			continue
		}
		v, err := strconv.ParseUint(t, 0, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "fuzzer: -targets %q: %v\n", t, err)
			os.Exit(2)
		}
		cfg.Targets = append(cfg.Targets, uintptr(v))
	}
	name := "fuzzer"
	if len(os.Args) > 0 {
		name = os.Args[0]
	}
	if *program != "" {
		text, err := readContent(*program)
		if err == nil {
			cfg.Program, err = fuzz.ParseProgram(*program, text)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "fuzzer: %v\n", err)
			os.Exit(2)
		}
	}
	if *trace {
		cfg.Trace = os.Stdout
	}
	cfg.Out = os.Stdout
	cfg.Report = func(batch, calls, findings uint64) {
		syscall.RawSyscall(abi.SysFuzzReport, uintptr(batch), uintptr(calls), uintptr(findings))
	}
	f, err := fuzz.New(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fuzzer: %v\n", err)
		os.Exit(2)
	}
	fmt.Printf("fuzzer %s: ring %d, seed %d, %d calls in batches of %d\n", name, cfg.Ring, cfg.Seed, cfg.MaxCalls, cfg.Batch)
	f.Run()
	time.Sleep(200 * time.Millisecond) // the core's fuzz runner reads the last report while the task is alive
	f.Summary(os.Stdout, "fuzz-stats "+name+":")
	if len(f.Findings()) > 0 {
		os.Exit(1)
	}
}

// readContent reads a content file the policy grants (the program of a repro).
func readContent(name string) (string, error) {
	buf := make([]byte, 1<<20)
	n := []byte(name)
	r, _, errno := syscall.Syscall6(abi.SysContentRead, uintptr(unsafe.Pointer(&n[0])), uintptr(len(n)),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if errno != 0 {
		return "", fmt.Errorf("content %s: %v", name, errno)
	}
	return string(buf[:min(int(r), len(buf))]), nil
}
