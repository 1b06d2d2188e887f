package bench

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/simpleos/simpleos/boot"
)

// Env is one QEMU setting the suite runs every benchmark in.
type Env struct {
	Name   string `json:"name"`             // tcg, tcg-icount, kvm: the last element of benchmark names
	Accel  string `json:"accel"`            // "tcg" or "kvm"
	Icount string `json:"icount,omitempty"` // "shift=0" or ""
}

// Environments.
var (
	EnvTCG       = Env{Name: "tcg", Accel: boot.AccelTCG}
	EnvTCGIcount = Env{Name: "tcg-icount", Accel: boot.AccelTCG, Icount: "shift=0"}
	EnvKVM       = Env{Name: "kvm", Accel: boot.AccelKVM}
)

// Instructions reports whether a guest nanosecond is one guest instruction here (-icount
// shift=0).
func (e Env) Instructions() bool { return e.Icount == "shift=0" }

// PerOpUnit is the unit the environment's guest nanoseconds are: instr/op under -icount
// shift=0, ns/op otherwise.
func (e Env) PerOpUnit() string {
	if e.Instructions() {
		return "instr/op"
	}
	return "ns/op"
}

// Describe says what the environment is, for every table: the accelerator and the icount
// setting.
func (e Env) Describe() string {
	switch {
	case e.Instructions():
		return fmt.Sprintf("accel %s, -icount %s: one guest ns = one guest instruction; cycles are the emulated TSC", e.Accel, e.Icount)
	case e.Icount != "":
		return fmt.Sprintf("accel %s, -icount %s", e.Accel, e.Icount)
	case e.Accel == boot.AccelTCG:
		return "accel tcg, no icount: guest time follows the host clock under emulation (noisy, load-dependent); cycles are the emulated TSC"
	}
	return "accel " + e.Accel + ", no icount: guest time and cycles are the hardware's"
}

// Systems a figure is measured on.
const (
	SimpleOS = "simpleos"
	Linux    = "linux"
)

// Metric is a figure in a unit of its own (events/s, ...), printed after ns/op. A Count
// (pipes created, events screened) is a total of the run, not a rate: it is left out of the
// benchmark line.
type Metric struct {
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
	Count bool    `json:"count,omitempty"`
}

// Figure is one benchmark measured in one environment.
type Figure struct {
	// Name is the benchmark name without "Benchmark" and the environment, its elements
	// separated by '/': the first is the group (Syscall, IPCCallReply, ...), which gets one
	// plot; e.g. "IPCCallReply/r3-r2/fast".
	Name        string    `json:"name"`
	Env         string    `json:"env"`
	System      string    `json:"system"` // SimpleOS or Linux
	Iters       int64     `json:"iters"`
	NsPerOp     float64   `json:"ns_per_op"`               // guest ns (= instructions under -icount shift=0)
	CyclesPerOp float64   `json:"cycles_per_op,omitempty"` // RDTSC; 0 = not measured
	Samples     []float64 `json:"samples,omitempty"`       // per-batch means, ns per op
	// SamplesExclBackoff are a restart figure's samples without the supervisor's restart
	// backoff (policy: the same schedule for every module and both kinds of restart), for
	// the restarts whose backoff the transcript gives; the plots show these.
	SamplesExclBackoff []float64 `json:"samples_excl_backoff,omitempty"`
	// Elapsed says the figure is a span of the guest clock (a restart, a boot) that may
	// include idle time: under -icount it is not an instruction count.
	Elapsed bool     `json:"elapsed,omitempty"`
	Extra   []Metric `json:"extra,omitempty"`
	Source  string   `json:"source"` // how it was measured, in a few words
	Note    string   `json:"note,omitempty"`
}

// Instructions reports whether the figure counts guest instructions in environment e.
func (f Figure) Instructions(e Env) bool { return e.Instructions() && !f.Elapsed }

// Group is the figure's benchmark group: the first element of its name.
func (f Figure) Group() string {
	g, _, _ := strings.Cut(f.Name, "/")
	return g
}

// BenchName is the Go benchmark name: Benchmark + name + / + environment.
func (f Figure) BenchName() string { return "Benchmark" + f.Name + "/" + f.Env }

// Metric returns the extra figure in unit, if there is one.
func (f Figure) Metric(unit string) (float64, bool) {
	for _, m := range f.Extra {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

// Report is everything one run of the suite measured.
type Report struct {
	Start       time.Time `json:"start"`
	WallSeconds float64   `json:"wall_seconds"`
	Preset      string    `json:"preset"` // quick, full (or custom, in tests)
	Host        string    `json:"host,omitempty"`
	Envs        []Env     `json:"envs"`
	Figures     []Figure  `json:"figures"`
	Linux       string    `json:"linux"`              // what became of the Linux baseline
	Profiles    []Profile `json:"profiles,omitempty"` // instruction profiles of IPC round trips (part profile)
	Notes       []string  `json:"notes,omitempty"`    // things a reader must know about the figures
	Errors      []string  `json:"errors,omitempty"`   // parts that failed
}

// Find returns the figure of that name, environment and system.
func (r *Report) Find(name, env, system string) (Figure, bool) {
	for _, f := range r.Figures {
		if f.Name == name && f.Env == env && f.System == system {
			return f, true
		}
	}
	return Figure{}, false
}

// Env returns the environment of that name.
func (r *Report) Env(name string) (Env, bool) {
	for _, e := range r.Envs {
		if e.Name == name {
			return e, true
		}
	}
	return Env{}, false
}

// Groups lists the benchmark groups in the order their first figures appear.
func (r *Report) Groups() []string {
	var gs []string
	seen := map[string]bool{}
	for _, f := range r.Figures {
		if g := f.Group(); !seen[g] {
			seen[g] = true
			gs = append(gs, g)
		}
	}
	return gs
}

// stats are the order statistics of a figure's samples.
type stats struct {
	n                int
	min, median, max float64
}

func sampleStats(xs []float64) stats {
	if len(xs) == 0 {
		return stats{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stats{n: len(s), min: s[0], median: med, max: s[len(s)-1]}
}
