package attack

import (
	"fmt"
	"io"
	"strings"
)

// Result is one attack's run and verdict.
type Result struct {
	Attack  *Attack
	Trap    Trap
	Verdict Verdict
	Why     string
}

// Report summarises a run of attacks.
type Report struct {
	Ring                 int
	Attacks, Passed      int
	Breaches, Mismatches int
	Failures             []Result // breaches and mismatches, in order
	BySignal             map[string]int
}

// RunAll runs every attack whose name contains filter ("" for all) and judges it. A harness
// error (no executable memory, no signal handler) stops the run.
func RunAll(as []Attack, ring int, filter string, progress io.Writer) (Report, error) {
	r := Report{Ring: ring, BySignal: map[string]int{}}
	for i := range as {
		a := &as[i]
		if filter != "" && !strings.Contains(a.Name, filter) {
			continue
		}
		t, err := Run(a.Code)
		if err != nil {
			return r, err
		}
		v, why := a.Judge(t)
		r.Attacks++
		key := "end"
		if !t.Ended {
			key = fmt.Sprintf("%d/%d", t.Signal, t.Trapno())
		}
		r.BySignal[key]++
		switch v {
		case Passed:
			r.Passed++
		case Breach:
			r.Breaches++
		case Mismatch:
			r.Mismatches++
		}
		if v != Passed {
			r.Failures = append(r.Failures, Result{a, t, v, why})
			if progress != nil {
				fmt.Fprintf(progress, "attack: %s: %s: %s\n", v, a.Name, why)
			}
		}
	}
	return r, nil
}

// Summary is the report's one-line summary.
func (r Report) Summary() string {
	return fmt.Sprintf("attack: ring %d: %d attacks, %d passed, %d breaches, %d mismatches", r.Ring, r.Attacks, r.Passed, r.Breaches, r.Mismatches)
}
