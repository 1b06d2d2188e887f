package fuzzrun

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ReproResult is what reproducing a finding gave.
type ReproResult struct {
	Reproduced bool
	Finding    Finding  // the finding as the batch alone produced it
	Program    []string // the batch's steps, as the fuzzer traced them
	Minimal    []string // the fewest steps that still reproduce it (nil without minimising)
	Boots      int      // machines booted
	File       string   // where the minimal program was written
}

// Repro runs batch batch of the fuzzer in ring with seed alone, tracing every step; if the
// finding (of kind, or any kind for "") comes back and minimise is set, it cuts the program
// down, one boot per try, to the steps without which it does not. Progress goes to w.
func Repro(ctx context.Context, c Config, ring int, seed, batch uint64, kind string, minimise bool, w io.Writer) (*ReproResult, error) {
	if w == nil {
		w = io.Discard
	}
	c.Boots, c.Parallel = 1, 1
	if c.Calls == 0 {
		c.Calls = 1 << 20
	}
	if c.Timeout == 0 {
		c.Timeout = 3 * time.Minute
	}
	k, err := prepare(c)
	if err != nil {
		return nil, err
	}
	rr := &ReproResult{}
	matches := func(br *bootResult) (Finding, bool) {
		for _, f := range br.findings {
			if kind == "" || f.Kind == kind {
				return f, true
			}
		}
		return Finding{}, false
	}
	spec := &bootSpec{rings: []int{ring}, seeds: map[int]uint64{ring: seed},
		extra: []string{"-first", fmt.Sprint(batch), "-batches", "1", "-trace"}, name: "repro"}
	br, err := k.boot(ctx, 0, spec)
	rr.Boots++
	if err != nil {
		return nil, err
	}
	rr.Program = br.traces[ring]
	rr.Finding, rr.Reproduced = matches(br)
	fmt.Fprintf(w, "fuzz: repro ring %d seed %d batch %d: %d steps; reproduced: %t\n", ring, seed, batch, len(rr.Program), rr.Reproduced)
	if !rr.Reproduced || !minimise || len(rr.Program) == 0 {
		return rr, nil
	}
	try := func(steps []string) bool {
		if ctx.Err() != nil {
			return false
		}
		policy, err := writePolicy(c.OutDir, strings.Join(steps, "\n")+"\n", ring)
		if err != nil {
			fmt.Fprintf(w, "fuzz: repro: %v\n", err)
			return false
		}
		spec := &bootSpec{rings: []int{ring}, seeds: map[int]uint64{ring: seed},
			extra: []string{"-first", fmt.Sprint(batch), "-program", programFile}, policy: policy, name: "repro-min"}
		br, err := k.boot(ctx, 0, spec)
		rr.Boots++
		if err != nil {
			fmt.Fprintf(w, "fuzz: repro: %v\n", err)
			return false
		}
		_, ok := matches(br)
		fmt.Fprintf(w, "fuzz: repro: %d steps: %t\n", len(steps), ok)
		return ok
	}
	if !try(rr.Program) {
		fmt.Fprintln(w, "fuzz: repro: the traced program alone does not reproduce it (it needs the races of the live batch)")
		return rr, nil
	}
	rr.Minimal = ddmin(rr.Program, try, 80)
	rr.File = filepath.Join(c.OutDir, fmt.Sprintf("repro-%s-r%d-s%d-b%d.prog", rr.Finding.Kind, ring, seed, batch))
	os.WriteFile(rr.File, []byte(strings.Join(rr.Minimal, "\n")+"\n"), 0o644)
	return rr, nil
}

// ddmin is Zeller's delta debugging: the smallest subsequence of steps (1-minimal, within
// budget tries) for which fails still holds.
func ddmin(steps []string, fails func([]string) bool, budget int) []string {
	n := 2
	for len(steps) >= 2 && budget > 0 {
		chunk := (len(steps) + n - 1) / n
		reduced := false
		for start := 0; start < len(steps) && budget > 0; start += chunk {
			rest := append(append([]string{}, steps[:start]...), steps[min(len(steps), start+chunk):]...)
			budget--
			if len(rest) > 0 && fails(rest) {
				steps, n, reduced = rest, max(n-1, 2), true
				break
			}
		}
		if !reduced {
			if n >= len(steps) {
				break
			}
			n = min(2*n, len(steps))
		}
	}
	return steps
}
