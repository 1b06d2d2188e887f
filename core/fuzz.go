package main

// The fuzz runner (simpleos fuzz; fuzz=on on the kernel command line). The launcher passes
// fuzzer tasks (package inject/fuzz, named fuzz-*) in rings 1, 2 and 3 and a bystander task.
// After every batch a fuzzer reports (fuzz_report) the runner checks the core's canaries — a
// word array in the core's Go data and a page of the kernel's own — and the bystander's canary
// through its page tables, and writes on the protocol channel, where no task can forge it:
//
//	fuzz batch task=fuzz-r1 ring=1 batch=17 calls=1800 findings=0 canaries=ok
//	fuzz stall task=fuzz-r2 ring=2 batch=40 seconds=30
//	fuzz end task=fuzz-r3 ring=3 status="app fuzz-r3 exited with status 0 ..."
//	fuzz done fuzzers=3 calls=300000 findings=0 canaries=ok bystander=alive
//	fuzz coverage meta|counters N/M BASE64     (a core built with -cover: its counters)
//
// The fuzzers are given the canaries' addresses to aim at (-targets). A fuzzer that reports no
// progress for stallAfter is killed: its last batch is the one that hangs.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"runtime/coverage"
	"strings"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/inject"
	"github.com/simpleos/simpleos/inject/fuzz/canary"
)

const (
	fuzzPrefix    = "fuzz-"
	bystanderName = "bystander"
	stallAfter    = 30 * time.Second
	canarySeed    = 0xf022_5eed
)

type fuzzRunner struct {
	st        *supervisorState
	last      map[int]inject.FuzzReport // by pid
	progress  map[int]time.Time
	breach    string // the first canary change seen
	bystander int    // its pid
	checks    uint64
}

func newFuzzRunner(st *supervisorState) *fuzzRunner {
	for i := range coreCanary {
		coreCanary[i] = canaryWord
	}
	inject.FillCanary(canarySeed)
	return &fuzzRunner{st: st, last: map[int]inject.FuzzReport{}, progress: map[int]time.Time{}}
}

// isFuzzer reports whether a is one of the fuzzer tasks.
func isFuzzer(a *app) bool { return strings.HasPrefix(a.spec.Name, fuzzPrefix) }

// targets is the -targets argument a fuzzer starts with: the core canary and the kernel's
// canary page through the direct map, and the bystander's canary through the direct map.
func (fr *fuzzRunner) targets() string {
	t := []uintptr{
		inject.DirectMapAddress(uint64(uintptr(unsafe.Pointer(&coreCanary[0])))),
		inject.DirectMapAddress(inject.CanaryAddress()),
	}
	if k, ok := inject.TaskAddress(fr.bystander, canary.Addr); ok {
		t = append(t, k)
	}
	var s []string
	for _, a := range t {
		s = append(s, fmt.Sprintf("%#x", a))
	}
	return "-targets=" + strings.Join(s, ",")
}

// waitServices waits (at most 10 s) until every service serves: the bystander's canary is
// mapped before its endpoint is registered, and the fuzzers' targets include its address.
func (fr *fuzzRunner) waitServices() {
	for i := 0; i < 2000; i++ {
		all := true
		fr.st.mu.Lock()
		for _, a := range fr.st.apps {
			if a.service() && !serving(a, a.pid) {
				all = false
			}
		}
		fr.st.mu.Unlock()
		if all {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// run checks after every batch reported until every fuzzer has ended.
func (fr *fuzzRunner) run() {
	for {
		time.Sleep(time.Millisecond)
		fr.st.mu.Lock()
		var fuzzers []*app
		for _, a := range fr.st.apps {
			if isFuzzer(a) && a.pid != 0 {
				fuzzers = append(fuzzers, a)
			}
		}
		fr.st.mu.Unlock()
		var stalled []int
		for _, a := range fuzzers {
			pid := a.pid
			r, ok := inject.FuzzReportOf(pid)
			if !ok {
				continue
			}
			if _, seen := fr.progress[pid]; !seen {
				fr.progress[pid] = time.Now()
			}
			if r.Reports == fr.last[pid].Reports {
				if since := time.Since(fr.progress[pid]); since > stallAfter {
					protocolf("fuzz stall task=%s ring=%d batch=%d seconds=%.0f", a.spec.Name, a.spec.Ring, r.Batch+1, since.Seconds())
					stalled = append(stalled, pid)
					fr.progress[pid] = time.Now()
				}
				continue
			}
			fr.last[pid], fr.progress[pid] = r, time.Now()
			fr.checks++
			kernel.ProtocolLine(fmt.Sprintf("fuzz batch task=%s ring=%d batch=%d calls=%d findings=%d canaries=%s",
				a.spec.Name, a.spec.Ring, r.Batch, r.Calls, r.Findings, fr.checkCanaries()))
		}
		for _, pid := range stalled {
			kernel.KillTask(pid)
		}
	}
}

// checkCanaries returns "ok" or what changed (remembered: the first breach is the finding).
func (fr *fuzzRunner) checkCanaries() string {
	why := ""
	for i, v := range coreCanary {
		if v != canaryWord {
			why = fmt.Sprintf("core-canary-word-%d=%#x", i, v)
			coreCanary[i] = canaryWord
			break
		}
	}
	if why == "" {
		if ok, off := inject.CanaryIntact(canarySeed); !ok {
			why = fmt.Sprintf("kernel-canary-byte-%d", off)
			inject.FillCanary(canarySeed)
		}
	}
	if why == "" && fr.bystander != 0 {
		for i := 0; i < canary.Words; i += 8 { // every 64th byte: one word per cache line
			if v, ok := inject.TaskWord(fr.bystander, canary.Addr+uint64(i)*8); ok && v != canary.Word(i) {
				why = fmt.Sprintf("bystander-canary-word-%d=%#x", i, v)
				break
			}
		}
	}
	if why == "" {
		return "ok"
	}
	if fr.breach == "" {
		fr.breach = why
	}
	return why
}

// started notes the bystander's pid when it starts.
func (fr *fuzzRunner) started(a *app, pid int) {
	if a.spec.Name == bystanderName {
		fr.bystander = pid
	}
}

// finish writes the summary and the coverage counters, when the core was built with them.
func (fr *fuzzRunner) finish() {
	time.Sleep(5 * time.Millisecond)
	canaries := fr.checkCanaries()
	if fr.breach != "" {
		canaries = fr.breach
	}
	var calls, findings uint64
	n := 0
	fr.st.mu.Lock()
	bystander := "gone"
	for _, a := range fr.st.apps {
		switch {
		case isFuzzer(a):
			n++
			protocolf("fuzz end task=%s ring=%d ok=%t status=%q", a.spec.Name, a.spec.Ring, a.ok, a.last)
		case a.spec.Name == bystanderName && a.pid != 0 && a.pid == fr.bystander:
			bystander = "alive"
		}
	}
	fr.st.mu.Unlock()
	for _, r := range fr.last {
		calls += r.Calls
		findings += r.Findings
	}
	protocolf("fuzz done fuzzers=%d calls=%d findings=%d canaries=%s bystander=%s checks=%d", n, calls, findings, canaries, bystander, fr.checks)
	writeCoverage()
	if fr.bystander != 0 {
		kernel.KillTask(fr.bystander)
	}
}

// writeCoverage writes the core's coverage meta-data and counters on the protocol channel in
// base64 lines, when it was built with -cover (otherwise there is nothing to write).
func writeCoverage() {
	var meta, counters bytes.Buffer
	if err := coverage.WriteMeta(&meta); err != nil {
		fmt.Printf("core: coverage: %v\n", err)
		return
	}
	if err := coverage.WriteCounters(&counters); err != nil {
		fmt.Printf("core: coverage counters: %v\n", err)
		return
	}
	for _, part := range []struct {
		name string
		b    []byte
	}{{"meta", meta.Bytes()}, {"counters", counters.Bytes()}} {
		s := base64.StdEncoding.EncodeToString(part.b)
		const chunk = 3000
		total := (len(s) + chunk - 1) / chunk
		for i := 0; i < total; i++ {
			kernel.ProtocolLine(fmt.Sprintf("fuzz coverage %s %d/%d %s", part.name, i+1, total, s[i*chunk:min(len(s), (i+1)*chunk)]))
		}
	}
}
