package fuzzrun

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/simpleos/simpleos/boot"
)

// bootSpec says what one boot runs: all rings with their seeds (a campaign's boot), or one
// ring with extra flags (a repro).
type bootSpec struct {
	rings  []int
	seeds  map[int]uint64
	extra  []string // more fuzzer flags
	policy string   // instead of the campaign's
	name   string   // of its transcript and counters (default boot-N)
}

// fuzzerRun is what one fuzzer did in a boot, as the core reported it.
type fuzzerRun struct {
	ring           int
	seed           uint64
	batch, calls   uint64 // the last batch reported, and the calls up to it
	reported       bool
	findings       uint64
	ended, ok      bool
	status         string
	consoleFinding []consoleFinding // its own words (console: untrusted, for the details)
	program        []string
}

type consoleFinding struct {
	batch uint64
	what  string
}

type bootResult struct {
	boot      int
	res       boot.Result
	fuzzers   map[int]*fuzzerRun
	done      string // the core's "fuzz done" line ("" if it never came)
	bystander string
	canary    string // the first canary change (protocol), "" if none
	canaryAt  map[int]uint64
	stalls    []string
	findings  []Finding
	stats     map[string]*CallStat
	covDir    string
	log       string
	traces    map[int][]string // "fuzz: step" lines per ring (repro runs)
}

func (b *bootResult) summary() string {
	var calls uint64
	for _, f := range b.fuzzers {
		calls += f.calls
	}
	s := fmt.Sprintf("%d calls in %.0fs, %d findings", calls, b.res.Duration.Seconds(), len(b.findings))
	for _, f := range b.findings {
		s += "\n  " + f.String()
	}
	return s
}

// boot runs boot b of the campaign (or spec, for a repro) and judges it.
func (k *kit) boot(ctx context.Context, b int, spec *bootSpec) (*bootResult, error) {
	if spec == nil {
		spec = &bootSpec{rings: Rings, seeds: map[int]uint64{}}
		for _, r := range Rings {
			spec.seeds[r] = Seed(k.c.Seed, b, r)
		}
	}
	var apps []boot.AppSpec
	for _, r := range spec.rings {
		apps = append(apps, boot.AppSpec{Ring: r, Path: k.bin[r], Args: k.args(r, spec.seeds[r], spec.extra...)})
	}
	apps = append(apps, boot.AppSpec{Ring: 3, Path: k.bystd})
	policy := k.policy
	if spec.policy != "" {
		policy = spec.policy
	}
	opts, err := boot.System(k.paths, boot.SystemSpec{Apps: apps, NoModules: true, Policy: policy, Append: "fuzz=on"}, nil)
	if err != nil {
		return nil, err
	}
	opts.Accel = k.c.Accel
	opts.Timeout = k.c.Timeout
	res, err := boot.Run(ctx, opts)
	if err != nil {
		return nil, err
	}
	br := &bootResult{boot: b, res: res, fuzzers: map[int]*fuzzerRun{}, stats: map[string]*CallStat{}, traces: map[int][]string{}}
	for _, r := range spec.rings {
		br.fuzzers[r] = &fuzzerRun{ring: r, seed: spec.seeds[r]}
	}
	name := spec.name
	if name == "" {
		name = fmt.Sprintf("boot-%d", b)
	}
	br.log = filepath.Join(k.c.OutDir, name+".log")
	os.WriteFile(br.log, res.Output, 0o644)
	os.WriteFile(strings.TrimSuffix(br.log, ".log")+".protocol", res.Protocol, 0o644)
	br.readProtocol()
	br.readConsole()
	if k.c.Coverage {
		br.covDir = filepath.Join(k.c.OutDir, "covdata", name)
		os.RemoveAll(br.covDir) // a previous run's counters, of another build, would be merged with these
		if err := br.writeCoverage(); err != nil {
			return nil, err
		}
	}
	br.judge()
	return br, nil
}

var (
	batchLine = regexp.MustCompile(`^fuzz batch task=fuzz-r(\d) ring=\d batch=(\d+) calls=(\d+) findings=(\d+) canaries=(\S+)$`)
	stallLine = regexp.MustCompile(`^fuzz stall task=fuzz-r(\d) ring=\d batch=(\d+) seconds=(\d+)$`)
	endLine   = regexp.MustCompile(`^fuzz end task=fuzz-r(\d) ring=\d ok=(true|false) status=(.*)$`)
	doneLine  = regexp.MustCompile(`^fuzz done .* bystander=(\S+)`)
	covLine   = regexp.MustCompile(`^fuzz coverage (meta|counters) (\d+)/(\d+) (\S+)$`)
)

// readProtocol reads the core's own lines: the only ones the verdict rests on.
func (b *bootResult) readProtocol() {
	for _, l := range strings.Split(string(b.res.Protocol), "\n") {
		if m := batchLine.FindStringSubmatch(l); m != nil {
			f := b.fuzzers[atoi(m[1])]
			if f == nil {
				continue
			}
			f.batch, f.calls, f.findings, f.reported = atou(m[2]), atou(m[3]), atou(m[4]), true
			if m[5] != "ok" && b.canary == "" {
				b.canary = fmt.Sprintf("%s, seen after ring %d's batch %d", m[5], f.ring, f.batch)
				b.canaryAt = map[int]uint64{}
				for r, o := range b.fuzzers {
					b.canaryAt[r] = o.batch + 1
				}
				b.canaryAt[f.ring] = f.batch
			}
		} else if m := stallLine.FindStringSubmatch(l); m != nil {
			b.stalls = append(b.stalls, l)
			b.findings = append(b.findings, b.finding("hang", atoi(m[1]), atou(m[2]),
				fmt.Sprintf("the fuzzer made no progress for %s s: stuck in the kernel", m[3])))
		} else if m := endLine.FindStringSubmatch(l); m != nil {
			if f := b.fuzzers[atoi(m[1])]; f != nil {
				f.ended, f.ok = true, m[2] == "true"
				f.status, _ = strconv.Unquote(m[3])
			}
		} else if m := doneLine.FindStringSubmatch(l); m != nil {
			b.done, b.bystander = l, m[1]
		}
	}
}

var (
	statLine    = regexp.MustCompile(`fuzz-stats fuzz-r\d: call (\S+) n=(\d+) ok=(\d+) errnos=(\S+)`)
	findingLine = regexp.MustCompile(`\[fuzz-r(\d)\] fuzz: FINDING (\S+) ring=\d seed=\d+ batch=(\d+) step=\d+: (.*)$`)
	programLine = regexp.MustCompile(`\[fuzz-r(\d)\] fuzz: program \d+: (.*)$`)
	stepLine    = regexp.MustCompile(`\[fuzz-r(\d)\] fuzz: step \d+ (.*)$`)
)

// readConsole reads what the fuzzers printed: their statistics, the programs of their
// findings, their traces. Nothing here decides a verdict: any task can print anything.
func (b *bootResult) readConsole() {
	for _, l := range strings.Split(string(b.res.Output), "\n") {
		if m := statLine.FindStringSubmatch(l); m != nil {
			s := b.stats[m[1]]
			if s == nil {
				s = &CallStat{Errnos: map[string]bool{}}
				b.stats[m[1]] = s
			}
			s.Calls += atou(m[2])
			s.OK += atou(m[3])
			if m[4] != "-" {
				for _, e := range strings.Split(m[4], ",") {
					s.Errnos[e] = true
				}
			}
		} else if m := findingLine.FindStringSubmatch(l); m != nil {
			if f := b.fuzzers[atoi(m[1])]; f != nil {
				f.consoleFinding = append(f.consoleFinding, consoleFinding{atou(m[3]), m[2] + ": " + m[4]})
			}
		} else if m := programLine.FindStringSubmatch(l); m != nil {
			if f := b.fuzzers[atoi(m[1])]; f != nil && len(f.program) < 1000 {
				f.program = append(f.program, m[2])
			}
		} else if m := stepLine.FindStringSubmatch(l); m != nil {
			r := atoi(m[1])
			b.traces[r] = append(b.traces[r], m[2])
		}
	}
}

func (b *bootResult) finding(kind string, ring int, batch uint64, what string) Finding {
	f := Finding{Kind: kind, Boot: b.boot, Ring: ring, Batch: batch, What: what, Log: b.log}
	if fr := b.fuzzers[ring]; fr != nil {
		f.Seed = fr.seed
		f.Program = fr.program
	}
	return f
}

// judge turns what the core reported into findings.
func (b *bootResult) judge() {
	inFlight := func(f *fuzzerRun) uint64 {
		if f.reported {
			return f.batch + 1
		}
		return 0
	}
	switch {
	case b.res.Crashed:
		for _, f := range b.fuzzers {
			b.findings = append(b.findings, b.finding("crash", f.ring, inFlight(f), "CORE CRASH while this batch ran (one of the rings' batches caused it)"))
		}
		return
	case b.res.TimedOut:
		for _, f := range b.fuzzers {
			if !f.ended {
				b.findings = append(b.findings, b.finding("hang", f.ring, inFlight(f), "the machine stopped reporting: timed out"))
			}
		}
		return
	}
	if b.canary != "" {
		for r, batch := range b.canaryAt {
			b.findings = append(b.findings, b.finding("canary", r, batch, "a canary changed: "+b.canary))
		}
	}
	for _, f := range b.fuzzers {
		if f.findings > 0 {
			if len(f.consoleFinding) == 0 {
				b.findings = append(b.findings, b.finding("breach", f.ring, f.batch, fmt.Sprintf("%d findings reported; the fuzzer's account of them is not on the console", f.findings)))
			}
			for i, cf := range f.consoleFinding {
				if i == 10 {
					break
				}
				b.findings = append(b.findings, b.finding("breach", f.ring, cf.batch, cf.what))
			}
		}
		if !f.ended {
			b.findings = append(b.findings, b.finding("died", f.ring, inFlight(f), "the core never reported its end"))
		} else if !f.ok && f.findings == 0 {
			b.findings = append(b.findings, b.finding("died", f.ring, inFlight(f), f.status))
		}
	}
	if b.done == "" {
		b.findings = append(b.findings, Finding{Kind: "died", Boot: b.boot, What: "the core never wrote its fuzz summary", Log: b.log})
	} else if b.bystander != "alive" {
		b.findings = append(b.findings, Finding{Kind: "bystander", Boot: b.boot, What: "the bystander task did not survive: " + b.done, Log: b.log})
	}
}

// add merges a boot's figures into the campaign's.
func (r *Result) add(b *bootResult) {
	for ring, f := range b.fuzzers {
		r.Calls[ring] += f.calls
	}
	for name, s := range b.stats {
		t := r.PerCall[name]
		if t == nil {
			t = &CallStat{Errnos: map[string]bool{}}
			r.PerCall[name] = t
		}
		t.Calls += s.Calls
		t.OK += s.OK
		for e := range s.Errnos {
			t.Errnos[e] = true
		}
	}
	r.Findings = append(r.Findings, b.findings...)
}

// writeCoverage reassembles the counters the core wrote and stores them as Go's coverage
// tools read them: covmeta.HASH and covcounters.HASH.PID.TIME.
func (b *bootResult) writeCoverage() error {
	parts := map[string][]string{}
	for _, l := range strings.Split(string(b.res.Protocol), "\n") {
		m := covLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		i, n := atoi(m[2]), atoi(m[3])
		if parts[m[1]] == nil {
			parts[m[1]] = make([]string, n)
		}
		if i >= 1 && i <= len(parts[m[1]]) {
			parts[m[1]][i-1] = m[4]
		}
	}
	if parts["meta"] == nil || parts["counters"] == nil {
		b.covDir = ""
		return nil // no counters: the boot did not end normally
	}
	meta, err1 := base64.StdEncoding.DecodeString(strings.Join(parts["meta"], ""))
	counters, err2 := base64.StdEncoding.DecodeString(strings.Join(parts["counters"], ""))
	if err1 != nil || err2 != nil || len(meta) < 40 {
		b.covDir = ""
		return nil
	}
	hash := fmt.Sprintf("%x", meta[24:40]) // the meta-data file header's hash
	if err := os.MkdirAll(b.covDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.covDir, "covmeta."+hash), meta, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.covDir, fmt.Sprintf("covcounters.%s.%d.%d", hash, b.boot+1, 1)), counters, 0o644)
}

func atoi(s string) int    { n, _ := strconv.Atoi(s); return n }
func atou(s string) uint64 { n, _ := strconv.ParseUint(s, 10, 64); return n }
