package bench

import (
	"fmt"
	"strings"
)

// Goal is one of the project's performance goals.
type Goal struct {
	What  string  // "IPC round trip"
	KVM   bool    // a goal for KVM (in cycles or time)
	TCG   bool    // a goal for TCG without icount (in time, which follows the host's clock there)
	Unit  string  // instructions, cycles, ms; neither KVM nor TCG: a goal for -icount
	Limit float64 // the figure must be at most this
	// Metric is the figure's extra metric (Figure.Metric) the goal judges, such as
	// MetricExclBackoff; "" judges its ns/op (cycles/op for cycles).
	Metric string
	match  func(name string) bool
}

func prefix(p string) func(string) bool {
	return func(name string) bool { return strings.HasPrefix(name, p) }
}

// ipcRoundTrip matches the plain call+reply benchmarks of one caller and at most four words
// (not the filtered one, the 1 KiB ones or the four clients' throughput).
func ipcRoundTrip(name string) bool {
	return strings.HasPrefix(name, "IPCCallReply/") && !strings.Contains(name, "filtered") &&
		!strings.Contains(name, "-1k/") && !strings.Contains(name, "-1kbuf/") && !strings.Contains(name, "-x4/")
}

// snapshotRestart matches the restart figures of the system as it runs, modules restored from
// their snapshots (not the cold starts of snapshot=off, which are there to compare).
func snapshotRestart(name string) bool {
	return strings.HasPrefix(name, "ModuleRestart/") && !strings.HasSuffix(name, "-cold")
}

// Goals are the project's goals (docs/benchmarks.md).
var Goals = []Goal{
	{What: "IPC round trip", Unit: "instructions", Limit: 1000, match: ipcRoundTrip},
	{What: "null system call", Unit: "instructions", Limit: 200, match: prefix("Syscall/getppid/")},
	{What: "page fault", Unit: "instructions", Limit: 2000, match: prefix("PageFault/")},
	{What: "module restart", Unit: "ms", Limit: 1, Metric: MetricExclBackoff, match: snapshotRestart},
	{What: "module restart", TCG: true, Unit: "ms", Limit: 5, Metric: MetricExclBackoff, match: snapshotRestart},
	{What: "IPC round trip", KVM: true, Unit: "cycles", Limit: 1500, match: ipcRoundTrip},
	{What: "null system call", KVM: true, Unit: "cycles", Limit: 250, match: prefix("Syscall/getppid/")},
	{What: "module restart", KVM: true, Unit: "ms", Limit: 5, match: snapshotRestart},
	{What: "boot to ready", KVM: true, Unit: "ms", Limit: 250, match: prefix("BootToReady/")},
}

// Applies reports whether the goal is about the benchmark name.
func (g Goal) Applies(name string) bool { return g.match(name) }

// Env reports whether the goal is judged in the environment.
func (g Goal) Env(e Env) bool {
	switch {
	case g.KVM:
		return e.Accel == "kvm" && e.Icount == ""
	case g.TCG:
		return e.Accel == "tcg" && e.Icount == ""
	}
	return e.Instructions()
}

// Where names the environment the goal is judged in.
func (g Goal) Where() string {
	switch {
	case g.KVM:
		return "KVM"
	case g.TCG:
		return "TCG"
	}
	return "-icount"
}

// metricWords say what a goal's metric leaves out, for its text.
var metricWords = map[string]string{MetricExclBackoff: "backoff excluded"}

// Text is the goal as a reader sees it: "≤ 1,000 instructions (-icount)", "≤ 5 ms (TCG,
// backoff excluded)".
func (g Goal) Text() string {
	where := g.Where()
	if g.Metric != "" {
		w := metricWords[g.Metric]
		if w == "" {
			w = g.Metric
		}
		where += ", " + w
	}
	return fmt.Sprintf("≤ %s %s (%s)", thousands(g.Limit), g.Unit, where)
}

// Value is the figure in the goal's unit; false when the figure lacks the goal's metric.
func (g Goal) Value(f Figure) (float64, bool) {
	v := f.NsPerOp // instructions: guest ns under -icount shift=0
	if g.Metric != "" {
		m, ok := f.Metric(g.Metric)
		if !ok {
			return 0, false
		}
		v = m
	} else if g.Unit == "cycles" {
		v = f.CyclesPerOp
	}
	if g.Unit == "ms" {
		v /= 1e6
	}
	return v, true
}

// Verdict is "met" or "not met" for a figure measured in an environment where the goal is
// judged (or "not measured (no METRIC)" when the figure lacks the goal's metric), "not
// measured (TCG)" for a KVM goal in a TCG run, and "" when the goal is not about this
// environment.
func (g Goal) Verdict(f Figure, e Env) string {
	switch {
	case g.Env(e):
		v, ok := g.Value(f)
		switch {
		case !ok:
			return "not measured (no " + g.Metric + ")"
		case v <= g.Limit:
			return "met"
		}
		return "not met"
	case g.KVM && e.Accel != "kvm":
		return "not measured (TCG)"
	}
	return ""
}

// GoalsFor returns the goals about the benchmark name.
func GoalsFor(name string) []Goal {
	var gs []Goal
	for _, g := range Goals {
		if g.Applies(name) {
			gs = append(gs, g)
		}
	}
	return gs
}

// The published anchor: seL4's IPC call plus reply on x86-64, Skylake (375 + 382 cycles).
const (
	SeL4CallReplyCycles = 375 + 382
	SeL4Anchor          = "seL4 x86-64 call+reply ≈ 375+382 cycles (Skylake)"
)

// anchored reports whether the seL4 anchor is relevant to the benchmark.
func anchored(name string) bool { return strings.HasPrefix(name, "IPCCallReply/") }

// linuxTwin returns the Linux figure the SimpleOS figure compares with (same operation,
// measured in the same run) and the factor that turns the Linux figure into the same unit of
// operation.
func linuxTwin(name string) (linuxName string, factor float64, ok bool) {
	switch {
	case strings.HasPrefix(name, "Syscall/getppid/"):
		return "Guest/syscall/getppid/linux", 1, true
	case name == "ThreadSwitch/futex":
		return "Guest/futex/roundtrip/thread/linux", 0.5, true // a round trip is two switches
	case name == "PageFault/first-touch":
		return "Guest/pagefault/first-touch/linux", 1, true
	case strings.HasPrefix(name, "Disk/") && strings.HasSuffix(name, "/"+SimpleOSNoIOMMU):
		return strings.TrimSuffix(name, "/"+SimpleOSNoIOMMU) + "/linux", 1, true
	case strings.HasPrefix(name, "Disk/") && strings.HasSuffix(name, "/simpleos"):
		return strings.TrimSuffix(name, "/simpleos") + "/linux", 1, true
	case strings.HasPrefix(name, "Files/") && strings.HasSuffix(name, "/simpleos"):
		return strings.TrimSuffix(name, "/simpleos") + "/linux", 1, true
	case strings.HasPrefix(name, "Guest/") && strings.HasSuffix(name, "/simpleos"):
		return strings.TrimSuffix(name, "/simpleos") + "/linux", 1, true
	}
	return "", 0, false
}

// thousands formats v with a thousands separator, without decimals when it is whole.
func thousands(v float64) string {
	if v != float64(int64(v)) {
		return fmt.Sprintf("%.1f", v)
	}
	s := fmt.Sprint(int64(v))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
