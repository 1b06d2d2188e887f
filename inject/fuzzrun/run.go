// Package fuzzrun runs system-call fuzzing campaigns on SimpleOS from the host (simpleos fuzz,
// make fuzz, and the CI-sized run in make test): it builds the fuzzer (package inject/fuzz) and
// the bystander, writes the policy that grants them what the fuzzers attack, boots machines
// with a fuzzer in each of rings 1, 2 and 3 at once, and reads what the core wrote on its
// protocol channel, where no task can forge a line: every batch and the canaries' state after
// it, stalls, the fuzzers' ends, and (for a core built with coverage counters) the counters.
//
// A finding is a core crash, a hang (the machine or a fuzzer stopped making progress), a
// breach (a fuzzer saw a result no correct kernel gives, or a canary changed), a fuzzer or the
// bystander dying. Each is reported with the ring, seed and batch that reproduce it; Repro
// runs that batch alone with a trace and cuts its program down to the steps that still
// reproduce the finding.
package fuzzrun

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf/asm"

	"github.com/simpleos/simpleos/boot"
)

// Config is one campaign.
type Config struct {
	Paths    boot.Paths
	Accel    string // "kvm" or "tcg" (resolved)
	Seed     uint64
	Calls    uint64 // calls per fuzzer per boot
	Boots    int    // machines to boot, each with its own seeds
	Parallel int    // machines at a time
	Batch    int    // calls per batch (default 100)
	Coverage bool   // boot a core built with coverage counters in core/kernel
	Timeout  time.Duration
	OutDir   string    // build/fuzz
	Progress io.Writer // one line per boot (may be nil)
	// Minimise reproduces each finding's batch alone after the campaign and cuts it down to
	// the calls that still reproduce it (at most maxMinimised findings).
	Minimise bool
	// FalseBreach makes the ring-3 fuzzer report every success of this call as a breach: a
	// finding on demand, to test that findings are reported, reproduced and minimised.
	FalseBreach string
}

// Rings are the rings a campaign fuzzes from.
var Rings = []int{1, 2, 3}

// Result is what a campaign found.
type Result struct {
	Boots    int
	Calls    map[int]uint64       // per ring
	PerCall  map[string]*CallStat // per call name, all rings
	Findings []Finding
	Coverage []FileCoverage  // per file of core/kernel (nil without Coverage)
	Reached  map[string]bool // KeyPaths: "FILE:FUNC" -> reached (nil without Coverage)
	Duration time.Duration
	Config   Config // as run (defaults filled in)
}

// TotalCalls is the calls made in every ring.
func (r *Result) TotalCalls() uint64 {
	var n uint64
	for _, c := range r.Calls {
		n += c
	}
	return n
}

// CallStat counts one call's results across the fuzzers.
type CallStat struct {
	Calls, OK uint64
	Errnos    map[string]bool
}

// Finding is one thing a correct kernel does not do, with what reproduces it.
type Finding struct {
	Kind    string // crash, hang, breach, canary, died, bystander
	Boot    int
	Ring    int // 0 when it is not one fuzzer's (a crash or a hang of the whole machine)
	Seed    uint64
	Batch   uint64 // the batch running when it happened
	What    string
	Program []string // the fuzzer's report of the batch's steps, when it made one
	Log     string   // the boot's transcript
	// With Config.Minimise: whether the batch alone reproduced it, and the fewest calls that do.
	Reproduced bool
	Minimal    []string
	MinimalIn  string // the file the minimal program is in
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s (boot %d", f.Kind, f.Boot)
	if f.Ring != 0 {
		s += fmt.Sprintf(", ring %d, seed %d, batch %d", f.Ring, f.Seed, f.Batch)
	}
	return s + "): " + f.What
}

// Seed is the seed of the fuzzer in ring of boot b of a campaign seeded with seed.
func Seed(seed uint64, b, ring int) uint64 {
	z := seed + uint64(b)*0x9e37_79b9_7f4a_7c15 + uint64(ring)*0xd1b5_4a32_d192_ed03
	z = (z ^ z>>30) * 0xbf58_476d_1ce4_e5b9
	z = (z ^ z>>27) * 0x94d0_49bb_1331_11eb
	return (z ^ z>>31) >> 1 // positive as an int64 too: it is passed on a command line
}

// Run runs the campaign. The result holds whatever finished when ctx is cancelled.
func Run(ctx context.Context, c Config) (*Result, error) {
	if c.Boots <= 0 {
		c.Boots = 1
	}
	if c.Parallel <= 0 {
		c.Parallel = 1
	}
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.Timeout == 0 {
		// TCG serves ~1,000 calls a second per fuzzer on a loaded host: generous, as a hang
		// is a finding.
		c.Timeout = 2*time.Minute + time.Duration(c.Calls)*3*time.Millisecond
	}
	start := time.Now()
	k, err := prepare(c)
	if err != nil {
		return nil, err
	}
	res := &Result{Calls: map[int]uint64{}, PerCall: map[string]*CallStat{}, Config: c}
	var mu sync.Mutex
	var covDirs []string
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < c.Parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				br, err := k.boot(ctx, b, nil)
				mu.Lock()
				if err != nil {
					res.Findings = append(res.Findings, Finding{Kind: "error", Boot: b, What: err.Error()})
				} else {
					res.add(br)
					if br.covDir != "" {
						covDirs = append(covDirs, br.covDir)
					}
				}
				res.Boots++
				if c.Progress != nil {
					what := "error: "
					if err == nil {
						what = br.summary()
					} else {
						what += err.Error()
					}
					fmt.Fprintf(c.Progress, "fuzz: boot %d/%d: %s\n", res.Boots, c.Boots, what)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for b := 0; b < c.Boots; b++ {
		select {
		case work <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if c.Coverage && len(covDirs) > 0 && ctx.Err() == nil {
		// What the boot reaches without fuzzing (the core's own runtime and the tasks' start
		// make system calls too): the same tasks, each fuzzer making one call.
		spec := &bootSpec{rings: Rings, seeds: map[int]uint64{}, extra: []string{"-batch", "1", "-batches", "1"}, name: "baseline"}
		base, err := k.boot(ctx, -1, spec)
		if err != nil {
			return res, err
		}
		if res.Coverage, err = coverageOf(c.OutDir, "coverage.txt", covDirs); err != nil {
			return res, err
		}
		if res.Reached, err = Reached(c.Paths.Root, filepath.Join(c.OutDir, "coverage.txt")); err != nil {
			return res, err
		}
		if base.covDir != "" {
			without, err := coverageOf(c.OutDir, "coverage-baseline.txt", []string{base.covDir})
			if err != nil {
				return res, err
			}
			for i := range res.Coverage {
				for _, w := range without {
					if w.File == res.Coverage[i].File {
						res.Coverage[i].Baseline = w.Covered
					}
				}
			}
		}
	}
	sort.Slice(res.Findings, func(i, j int) bool { return res.Findings[i].Boot < res.Findings[j].Boot })
	if c.Minimise {
		minimise(ctx, c, res)
	}
	res.Duration = time.Since(start)
	return res, ctx.Err()
}

// kit is what every boot of a campaign shares: the built programs, the policy, the core.
type kit struct {
	c      Config
	paths  boot.Paths
	bin    map[int]string // the fuzzer, copied once per ring so that each task has its name
	bystd  string
	policy string
}

// prepare builds the fuzzer, the bystander and (for coverage) its own core, and writes the
// campaign's policy.
func prepare(c Config) (*kit, error) {
	if c.OutDir == "" {
		c.OutDir = filepath.Join(c.Paths.BuildDir, "fuzz")
	}
	bin := filepath.Join(c.OutDir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	k := &kit{c: c, paths: c.Paths, bin: map[int]string{}, bystd: filepath.Join(bin, "bystander")}
	fuzzer := filepath.Join(bin, "fuzzer")
	for pkg, out := range map[string]string{"./inject/fuzz/fuzzer": fuzzer, "./inject/fuzz/bystander": k.bystd} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = c.Paths.Root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("fuzzrun: go build %s: %v\n%s", pkg, err, b)
		}
	}
	exe, err := os.ReadFile(fuzzer)
	if err != nil {
		return nil, err
	}
	for _, r := range Rings {
		k.bin[r] = filepath.Join(bin, fmt.Sprintf("fuzz-r%d", r))
		if err := os.WriteFile(k.bin[r], exe, 0o755); err != nil {
			return nil, err
		}
	}
	if k.policy, err = writePolicy(c.OutDir, "", 0); err != nil {
		return nil, err
	}
	if c.Coverage {
		k.paths = CoveragePaths(c.Paths)
		if err := boot.EnsureBuilt(k.paths, nil); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// CoveragePaths is where the core built with coverage counters in core/kernel lives.
func CoveragePaths(p boot.Paths) boot.Paths {
	dir := filepath.Join(p.BuildDir, "fuzz", "cover")
	os.MkdirAll(dir, 0o755)
	p.ELF = filepath.Join(dir, "simpleos.elf")
	p.Image = filepath.Join(dir, "simpleos.img")
	// The core's main package too: only then does its init register the counters (runtime/coverage).
	p.CoverPkg = boot.ModulePath + "/core/kernel/...," + boot.ModulePath + "/core"
	return p
}

// The grants of the campaign's tasks: each fuzzer serves its endpoint and calls the others'
// and the bystander's; the ring-1 fuzzer is a driver with device memory (the HPET), the
// ring-2 one a security module with an event, a content file and the right to publish.
const (
	hpetLo, hpetHi = 0xfed0_0000, 0xfed0_1000
	contentFile    = "fuzz.chan"
	programFile    = "fuzz.prog"
	eventName      = "fuzz.event"
	filterFile     = "deny3.bpf"
)

// writeFilter writes the eBPF filter the campaign puts on the ring-1 fuzzer's endpoint and
// the ring-2 one's event, so that fuzzed messages run through the core's eBPF interpreter:
// it refuses a call or event whose word at offset 16 (a call's label) is 3.
func writeFilter(file string) error {
	prog := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 16, asm.DWord),
		asm.Mov.Imm(asm.R0, 0),
		asm.JNE.Imm(asm.R2, 3, "out"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return().WithSymbol("out"),
	}
	var raw bytes.Buffer
	if err := prog.Marshal(&raw, binary.LittleEndian); err != nil {
		return err
	}
	return os.WriteFile(file, raw.Bytes(), 0o644)
}

// writePolicy writes the campaign's policy into dir; with a program (a repro), the fuzzer in
// programRing may also read it, as content file fuzz.prog.
func writePolicy(dir, program string, programRing int) (string, error) {
	var b strings.Builder
	b.WriteString("# The fuzzing campaign's policy (written by package inject/fuzzrun).\n")
	for _, r := range Rings {
		fmt.Fprintf(&b, "module fuzz-r%d\n    binary   inject/fuzz/fuzzer\n    ring     %d\n    serves   fuzz-r%d\n    calls   ", r, r, r)
		for _, o := range Rings {
			if o != r {
				fmt.Fprintf(&b, " fuzz-r%d", o)
			}
		}
		b.WriteString(" bystander\n    restart  never\n")
		switch r {
		case 1:
			fmt.Fprintf(&b, "    memory   %#x-%#x\n    filter   fuzz-r1 %s\n", hpetLo, hpetHi-1, filterFile)
		case 2:
			fmt.Fprintf(&b, "    events   %s\n    publishes %s\n    content  %s rollback %s.lkg\n    filter   %s %s\n",
				eventName, eventName, contentFile, contentFile, eventName, filterFile)
		case 3:
			fmt.Fprintf(&b, "    publishes %s\n", eventName)
		}
		if program != "" && r == programRing {
			fmt.Fprintf(&b, "    content  %s rollback %s.lkg\n", programFile, programFile)
		}
		b.WriteString("end\n")
	}
	b.WriteString("module bystander\n    binary   inject/fuzz/bystander\n    ring     3\n    serves   bystander\n    restart  always\nend\n")
	name := "fuzz.policy"
	files := map[string]string{contentFile: "channel file the ring-2 fuzzer rewrites\n", contentFile + ".lkg": "its last-known-good copy\n"}
	if program != "" {
		name = "repro.policy"
		files[programFile], files[programFile+".lkg"] = program, program
	}
	if err := writeFilter(filepath.Join(dir, filterFile)); err != nil {
		return "", err
	}
	for f, data := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// args are the command line of the fuzzer in ring r: what its policy grants it.
func (k *kit) args(r int, seed uint64, extra ...string) []string {
	a := []string{"-seed", fmt.Sprint(seed), "-calls", fmt.Sprint(k.c.Calls), "-batch", fmt.Sprint(k.c.Batch),
		"-ring", fmt.Sprint(r), "-serve", fmt.Sprintf("fuzz-r%d", r)}
	var calls []string
	for _, o := range Rings {
		if o != r {
			calls = append(calls, fmt.Sprintf("fuzz-r%d", o))
		}
	}
	a = append(a, "-call", strings.Join(append(calls, "bystander"), ","))
	content := []string{}
	switch r {
	case 1:
		a = append(a, "-mmio", fmt.Sprintf("%#x-%#x", hpetLo, hpetHi))
	case 2:
		a = append(a, "-event", eventName, "-publish", eventName)
		content = append(content, contentFile)
	case 3:
		a = append(a, "-publish", eventName)
	}
	for _, e := range extra {
		if e == "-program" {
			content = append(content, programFile)
		}
	}
	if r == 3 && k.c.FalseBreach != "" {
		a = append(a, "-false-breach", k.c.FalseBreach)
	}
	if len(content) > 0 {
		a = append(a, "-content", strings.Join(content, ","))
	}
	return append(a, extra...)
}

const maxMinimised = 5

// minimise reproduces and cuts down the campaign's findings, one per fuzzer batch.
func minimise(ctx context.Context, c Config, res *Result) {
	seen := map[[3]uint64]bool{}
	n := 0
	for i := range res.Findings {
		f := &res.Findings[i]
		key := [3]uint64{uint64(f.Ring), f.Seed, f.Batch}
		if f.Ring == 0 || seen[key] || n == maxMinimised || ctx.Err() != nil {
			continue
		}
		seen[key] = true
		n++
		rc := c
		rc.OutDir = filepath.Join(c.OutDir, fmt.Sprintf("repro-%d", n))
		if os.MkdirAll(rc.OutDir, 0o755) != nil {
			continue
		}
		rr, err := Repro(ctx, rc, f.Ring, f.Seed, f.Batch, f.Kind, true, c.Progress)
		if err != nil {
			continue
		}
		f.Reproduced, f.Minimal, f.MinimalIn = rr.Reproduced, rr.Minimal, rr.File
	}
}
