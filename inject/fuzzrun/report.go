package fuzzrun

import (
	"fmt"
	"sort"
	"strings"
)

// Report is the campaign's result in Markdown: calls per ring, findings with what reproduces
// them, results per call and coverage per file.
func Report(r *Result) string {
	c := r.Config
	var b strings.Builder
	fmt.Fprintf(&b, "# System-call fuzzing: %d boots, seed %d\n\n", r.Boots, c.Seed)
	fmt.Fprintf(&b, "%d calls in %s (%s), %d per fuzzer per boot in batches of %d; %d findings.\n\n",
		r.TotalCalls(), r.Duration.Round(1e9), accelName(c.Accel), c.Calls, c.Batch, len(r.Findings))
	b.WriteString("| ring | calls |\n|---|---|\n")
	for _, ring := range Rings {
		fmt.Fprintf(&b, "| %d | %d |\n", ring, r.Calls[ring])
	}
	b.WriteString("\n## Findings\n\n")
	if len(r.Findings) == 0 {
		b.WriteString("None: no core crash, no hang, no breach, no canary changed, every fuzzer and the bystander survived.\n")
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "- %s\n", f)
		if f.Ring != 0 {
			fmt.Fprintf(&b, "  reproduce: `simpleos fuzz --repro %d:%d:%d --kind %s`\n", f.Ring, f.Seed, f.Batch, f.Kind)
		}
		if f.Log != "" {
			fmt.Fprintf(&b, "  transcript: %s\n", f.Log)
		}
		if f.Minimal != nil {
			fmt.Fprintf(&b, "  reproduced alone; the %d calls that still reproduce it (%s):\n", len(f.Minimal), f.MinimalIn)
			for _, m := range f.Minimal {
				fmt.Fprintf(&b, "      %s\n", m)
			}
			continue
		} else if c.Minimise && f.Ring != 0 {
			fmt.Fprintf(&b, "  reproduced alone: %t; not cut down\n", f.Reproduced)
		}
		for i, s := range f.Program {
			if i == 20 {
				fmt.Fprintf(&b, "  ... %d more steps\n", len(f.Program)-i)
				break
			}
			fmt.Fprintf(&b, "      %s\n", s)
		}
	}
	b.WriteString("\n## Calls\n\n| call | made | succeeded | errors seen |\n|---|---|---|---|\n")
	var names []string
	for n := range r.PerCall {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := r.PerCall[n]
		var errs []string
		for e := range s.Errnos {
			errs = append(errs, e)
		}
		sort.Strings(errs)
		fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", n, s.Calls, s.OK, strings.Join(errs, " "))
	}
	if r.Coverage != nil {
		sc, st := Totals(r.Coverage, func(f FileCoverage) bool { return f.SyscallLayer })
		ac, at := Totals(r.Coverage, func(FileCoverage) bool { return true })
		sb, ab := 0, 0
		for _, f := range r.Coverage {
			ab += f.Baseline
			if f.SyscallLayer {
				sb += f.Baseline
			}
		}
		fmt.Fprintf(&b, "\n## Coverage of core/kernel\n\nStatements reached with fuzzing; in brackets, by a boot of the same tasks without it (the core's runtime and the tasks' own start make system calls too).\n\n")
		fmt.Fprintf(&b, "System-call layer: %d of %d statements, %.1f%% (%.1f%%); all of core/kernel: %d of %d, %.1f%% (%.1f%%).\n\n",
			sc, st, pct(sc, st), pct(sb, st), ac, at, pct(ac, at), pct(ab, at))
		var keys, missed []string
		for k, ok := range r.Reached {
			keys = append(keys, k)
			if !ok {
				missed = append(missed, k)
			}
		}
		sort.Strings(missed)
		fmt.Fprintf(&b, "Key paths (the IPC slow and fast paths, grants, blocking calls, memory, device memory, events, content): %d of %d reached", len(keys)-len(missed), len(keys))
		if len(missed) > 0 {
			fmt.Fprintf(&b, "; not reached: %s", strings.Join(missed, ", "))
		}
		b.WriteString(".\n\n")
		b.WriteString("| file | statements | with fuzzing | without | |\n|---|---|---|---|---|\n")
		for _, f := range r.Coverage {
			mark := ""
			if f.SyscallLayer {
				mark = "system calls"
			}
			fmt.Fprintf(&b, "| %s | %d | %.1f%% | %.1f%% | %s |\n", f.File, f.Total, f.Percent(), pct(f.Baseline, f.Total), mark)
		}
	}
	return b.String()
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func accelName(a string) string {
	if a == "" {
		return "accelerator auto"
	}
	return a
}
