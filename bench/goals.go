package bench

import (
	"fmt"
	"strings"
)

// Goal is one of the project's performance goals.
type Goal struct {
	What  string  // "IPC round trip"
	KVM   bool    // a goal for KVM (in cycles or time); otherwise for -icount (in instructions)
	Unit  string  // instructions, cycles, ms
	Limit float64 // the figure must be at most this
	match func(name string) bool
}

func prefix(p string) func(string) bool {
	return func(name string) bool { return strings.HasPrefix(name, p) }
}

// ipcRoundTrip matches the plain call+reply benchmarks (not the filtered one).
func ipcRoundTrip(name string) bool {
	return strings.HasPrefix(name, "IPCCallReply/") && !strings.Contains(name, "filtered")
}

// Goals are the project's goals (docs/benchmarks.md).
var Goals = []Goal{
	{What: "IPC round trip", Unit: "instructions", Limit: 1000, match: ipcRoundTrip},
	{What: "null system call", Unit: "instructions", Limit: 200, match: prefix("Syscall/getppid/")},
	{What: "page fault", Unit: "instructions", Limit: 2000, match: prefix("PageFault/")},
	{What: "IPC round trip", KVM: true, Unit: "cycles", Limit: 1500, match: ipcRoundTrip},
	{What: "null system call", KVM: true, Unit: "cycles", Limit: 250, match: prefix("Syscall/getppid/")},
	{What: "module restart", KVM: true, Unit: "ms", Limit: 5, match: prefix("ModuleRestart/")},
	{What: "boot to ready", KVM: true, Unit: "ms", Limit: 250, match: prefix("BootToReady/")},
}

// Applies reports whether the goal is about the benchmark name.
func (g Goal) Applies(name string) bool { return g.match(name) }

// Env reports whether the goal is judged in the environment.
func (g Goal) Env(e Env) bool {
	if g.KVM {
		return e.Accel == "kvm" && e.Icount == ""
	}
	return e.Instructions()
}

// Where names the environment the goal is judged in.
func (g Goal) Where() string {
	if g.KVM {
		return "KVM"
	}
	return "-icount"
}

// Text is the goal as a reader sees it: "≤ 1,000 instructions under -icount".
func (g Goal) Text() string {
	return fmt.Sprintf("≤ %s %s (%s)", thousands(g.Limit), g.Unit, g.Where())
}

// Value is the figure in the goal's unit.
func (g Goal) Value(f Figure) float64 {
	switch g.Unit {
	case "cycles":
		return f.CyclesPerOp
	case "ms":
		return f.NsPerOp / 1e6
	}
	return f.NsPerOp // instructions: guest ns under -icount shift=0
}

// Verdict is "met" or "not met" for a figure measured in an environment where the goal is
// judged, "not measured (TCG)" for a KVM goal in a TCG run, and "" when the goal is not
// about this environment.
func (g Goal) Verdict(f Figure, e Env) string {
	switch {
	case g.Env(e):
		if g.Value(f) <= g.Limit {
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
