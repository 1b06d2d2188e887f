package bench

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cannedReport is a small report as a run in both TCG environments with the Linux baseline
// would make it.
func cannedReport() *Report {
	fig := func(name, env, system string, ns, cycles float64, samples ...float64) Figure {
		return Figure{Name: name, Env: env, System: system, Iters: 1000, NsPerOp: ns, CyclesPerOp: cycles, Samples: samples, Source: "canned"}
	}
	return &Report{
		Preset: "quick",
		Envs:   []Env{EnvTCG, EnvTCGIcount},
		Linux:  "tcg: measured (6 benchmarks); tcg-icount: measured (6 benchmarks)",
		Figures: []Figure{
			fig("Syscall/getppid/r3", "tcg", SimpleOS, 10800, 27977, 10400, 9831, 14300),
			fig("IPCCallReply/r3-r2/fast", "tcg", SimpleOS, 39110, 101483, 38800, 38100, 43800),
			fig("Guest/syscall/getppid/simpleos", "tcg", SimpleOS, 12078, 31777, 10800, 10200),
			fig("Guest/syscall/getppid/linux", "tcg", Linux, 578, 1500, 560, 600),
			fig("Syscall/getppid/r3", "tcg-icount", SimpleOS, 289, 288, 282, 282, 422),
			fig("ThreadSwitch/futex", "tcg-icount", SimpleOS, 2695, 2692, 2684, 2675, 2767),
			fig("PageFault/first-touch", "tcg-icount", SimpleOS, 1241, 1240, 1229, 1229, 1438),
			fig("IPCCallReply/r3-r2/fast", "tcg-icount", SimpleOS, 6029, 6026, 6029, 6032),
			fig("IPCCallReply/r3-r2-filtered/fast", "tcg-icount", SimpleOS, 6316, 6314, 6316, 6319),
			{Name: "EBPFFilter/r3-r2/fast", Env: "tcg-icount", System: SimpleOS, Iters: 1000, NsPerOp: 287, CyclesPerOp: 288, Source: "difference"},
			fig("Guest/syscall/getppid/simpleos", "tcg-icount", SimpleOS, 282, 282, 282, 293),
			fig("Guest/futex/roundtrip/thread/simpleos", "tcg-icount", SimpleOS, 5198, 5187, 5182, 5402),
			fig("Guest/syscall/getppid/linux", "tcg-icount", Linux, 361, 361, 361, 362),
			fig("Guest/futex/roundtrip/thread/linux", "tcg-icount", Linux, 9911, 9910, 9900, 9920),
			{Name: "ModuleRestart/sensor-kill", Env: "tcg", System: SimpleOS, Iters: 3, NsPerOp: 14e6,
				Samples: []float64{6e6, 16e6, 20e6}, SamplesExclBackoff: []float64{6e6, 6e6, 0e6}, Elapsed: true,
				Extra: []Metric{{Unit: "ns-excl-backoff/op", Value: 4e6}}},
			{Name: "ModuleRestart/sensor-kill-cold", Env: "tcg", System: SimpleOS, Iters: 3, NsPerOp: 130e6,
				Samples: []float64{120e6, 130e6, 140e6}, SamplesExclBackoff: []float64{120e6, 120e6, 120e6}, Elapsed: true,
				Extra: []Metric{{Unit: "ns-excl-backoff/op", Value: 120e6}}, Source: "campaign"},
			{Name: "ModuleRestart/sensor-kill", Env: "tcg-icount", System: SimpleOS, Iters: 4, NsPerOp: 19254250,
				Samples: []float64{14e6, 24e6, 19e6, 20e6}, SamplesExclBackoff: []float64{4e6, 4e6, 4e6, 5e6}, Elapsed: true,
				Extra: []Metric{{Unit: "ns-excl-backoff/op", Value: 4254250}}},
			{Name: "ModuleRestart/console-kill", Env: "tcg-icount", System: SimpleOS, Iters: 4, NsPerOp: 15.6e6,
				Samples: []float64{0.8e6, 10.7e6, 20.6e6, 40.3e6}, SamplesExclBackoff: []float64{0.8e6, 0.7e6, 0.6e6, 0.3e6}, Elapsed: true,
				Extra: []Metric{{Unit: "ns-excl-backoff/op", Value: 0.6e6}}},
			{Name: "ModuleRestart/console-kill-cold", Env: "tcg-icount", System: SimpleOS, Iters: 4, NsPerOp: 47.5e6,
				Samples: []float64{30e6, 40e6, 50e6, 70e6}, SamplesExclBackoff: []float64{30e6, 30e6, 30e6, 30e6}, Elapsed: true,
				Extra: []Metric{{Unit: "ns-excl-backoff/op", Value: 30e6}}, Source: "campaign"},
			{Name: "BootToReady/bundled", Env: "tcg-icount", System: SimpleOS, Iters: 2, NsPerOp: 106350000,
				Samples: []float64{105.6e6, 107.1e6}, Elapsed: true},
			{Name: "SensorPipeline/tiered", Env: "tcg-icount", System: SimpleOS, Iters: 2000, NsPerOp: 10000, Elapsed: true,
				Extra: []Metric{{Unit: "events/s", Value: 100000}, {Unit: "pipes", Value: 2000, Count: true}, {Unit: "screened", Value: 30, Count: true}}},
			{Name: "SensorPipeline/monolithic", Env: "tcg-icount", System: SimpleOS, Iters: 2000, NsPerOp: 8000, Elapsed: true,
				Extra: []Metric{{Unit: "events/s", Value: 125000}, {Unit: "pipes", Value: 2000, Count: true}, {Unit: "screened", Value: 30, Count: true}}},
		},
		Notes:  []string{"a note"},
		Errors: []string{"an error"},
	}
}

var benchLineRE = regexp.MustCompile(`^Benchmark[^\s]+\t[1-9][0-9]*\t-?[0-9.]+ ns/op(\t-?[0-9.]+ [^\s]+)*$`)

func TestWriteBenchIsGoBenchmarkFormat(t *testing.T) {
	r := cannedReport()
	var b bytes.Buffer
	require.NoError(t, r.WriteBench(&b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	n := 0
	for _, line := range lines {
		if !strings.HasPrefix(line, "Benchmark") {
			assert.Regexp(t, `^[a-z-]+: \S`, line, "a configuration line")
			continue
		}
		n++
		assert.Regexp(t, benchLineRE, line)
	}
	assert.Equal(t, len(r.Figures), n, "one line per figure")
	out := b.String()
	assert.Contains(t, out, "BenchmarkIPCCallReply/r3-r2/fast/tcg-icount\t1000\t6029 ns/op\t6026 cycles/op\t6029 instr/op\n")
	assert.Contains(t, out, "BenchmarkSyscall/getppid/r3/tcg\t1000\t10800 ns/op\t27977 cycles/op\n", "no instr/op without icount")
	assert.Contains(t, out, "BenchmarkModuleRestart/sensor-kill/tcg-icount\t4\t19254250 ns/op\t4254250 ns-excl-backoff/op\n",
		"a span of the guest clock is not an instruction count")
	assert.Contains(t, out, "BenchmarkSensorPipeline/tiered/tcg-icount\t2000\t10000 ns/op\t100000 events/s\n", "counts are left out")
	assert.Contains(t, out, "env-tcg-icount: accel tcg, -icount shift=0")
}

func TestMarkdownTables(t *testing.T) {
	r := cannedReport()
	var b bytes.Buffer
	require.NoError(t, r.WriteMarkdown(&b, map[string]string{"Syscall": "bench-syscall.svg"}))
	md := b.String()
	// Every environment's table says its accelerator and icount setting.
	assert.Contains(t, md, "## tcg\n\naccel tcg, no icount")
	assert.Contains(t, md, "## tcg-icount\n\naccel tcg, -icount shift=0")
	row := func(env, name string) string {
		i := strings.Index(md, "## "+env+"\n")
		require.GreaterOrEqual(t, i, 0)
		rest := md[i:]
		j := strings.Index(rest, "\n| "+name+" ")
		require.GreaterOrEqual(t, j, 0, "no row %s in %s", name, env)
		line, _, _ := strings.Cut(rest[j+1:], "\n")
		return line
	}
	// Ratio to Linux: same operation, same environment; the thread switch is half of Linux's
	// futex round trip.
	assert.Contains(t, row("tcg-icount", "Syscall/getppid/r3"), "| 361 instr | 0.80× |")
	assert.Contains(t, row("tcg-icount", "ThreadSwitch/futex"), "| 4,956 instr | 0.54× |")
	assert.Contains(t, row("tcg-icount", "Guest/futex/roundtrip/thread/simpleos"), "| 9,911 instr | 0.52× |")
	assert.Contains(t, row("tcg", "Syscall/getppid/r3"), "| 578 ns | 18.69× |")
	assert.Contains(t, row("tcg-icount", "PageFault/first-touch"), "| not measured | — |", "Linux ran, without this operation")
	// The seL4 anchor for IPC: instructions under icount, cycles otherwise.
	assert.Contains(t, row("tcg-icount", "IPCCallReply/r3-r2/fast"), "| 8.0× |")
	assert.Contains(t, row("tcg", "IPCCallReply/r3-r2/fast"), "| 134.1× |")
	// Goals.
	assert.Contains(t, row("tcg-icount", "IPCCallReply/r3-r2/fast"), "≤ 1,000 instructions (-icount): **not met**")
	assert.Contains(t, row("tcg-icount", "PageFault/first-touch"), "≤ 2,000 instructions (-icount): **met**")
	assert.Contains(t, row("tcg", "IPCCallReply/r3-r2/fast"), "≤ 1,500 cycles (KVM): **not measured (TCG)**")
	assert.NotContains(t, row("tcg", "IPCCallReply/r3-r2/fast"), "instructions (-icount)")
	assert.NotContains(t, row("tcg-icount", "IPCCallReply/r3-r2-filtered/fast"), "**", "no goal for the filtered call")
	// Spans of the guest clock read in time, also under icount.
	assert.Contains(t, row("tcg-icount", "ModuleRestart/sensor-kill"), "| 19.3 ms |")
	assert.Contains(t, row("tcg-icount", "ModuleRestart/sensor-kill"), "(4,254,250 ns-excl-backoff/op)")
	// Restarts from the snapshot are judged without their backoff: ≤ 1 ms of guest time under
	// -icount, ≤ 5 ms under plain TCG; with KVM, as measured. Cold restarts are not judged.
	assert.Contains(t, row("tcg-icount", "ModuleRestart/sensor-kill"),
		"| ≤ 1 ms (-icount, backoff excluded): **not met**; ≤ 5 ms (KVM): **not measured (TCG)** |")
	assert.Contains(t, row("tcg-icount", "ModuleRestart/console-kill"), "≤ 1 ms (-icount, backoff excluded): **met**")
	assert.Contains(t, row("tcg", "ModuleRestart/sensor-kill"),
		"| ≤ 5 ms (TCG, backoff excluded): **met**; ≤ 5 ms (KVM): **not measured (TCG)** |")
	assert.Contains(t, row("tcg", "ModuleRestart/sensor-kill-cold"), "| — | campaign |")
	assert.Contains(t, row("tcg-icount", "ModuleRestart/console-kill-cold"), "| — | campaign |")
	// Cold against snapshot, per module and environment.
	assert.Contains(t, md, "## Module restart: from the snapshot against cold\n")
	assert.Contains(t, md, "| tcg | sensor | 4 ms | 120 ms | 30.0 | 14 ms | 130 ms | 3 / 3 |")
	assert.Contains(t, md, "| tcg-icount | sensor | 4.3 ms | not measured | — | 19.3 ms | not measured | 4 / 0 |")
	assert.Contains(t, md, "| tcg-icount | console | 600 µs | 30 ms | 50.0 | 15.6 ms | 47.5 ms | 4 / 4 |")
	assert.NotContains(t, md, "| tcg | pipesvc |", "no row for what was not measured")
	assert.Contains(t, row("tcg-icount", "Syscall/getppid/r3"), "| 282 (282–422) instr ×3 |")
	// The pipeline's ratio, the goal summary, plots, notes and errors.
	assert.Contains(t, md, "| tcg-icount | 100,000 | 125,000 | 0.80 | 30 / 30 |")
	assert.Contains(t, md, "| null system call ≤ 200 instructions (-icount) | Syscall/getppid/r3 | tcg-icount | 289 instructions | **not met** |")
	assert.Contains(t, md, "| boot to ready ≤ 250 ms (KVM) | — | — | — | not measured (TCG) |")
	assert.Contains(t, md, "| module restart ≤ 1 ms (-icount, backoff excluded) | ModuleRestart/sensor-kill | tcg-icount | 4.25 ms | **not met** |")
	assert.Contains(t, md, "| module restart ≤ 1 ms (-icount, backoff excluded) | ModuleRestart/console-kill | tcg-icount | 0.60 ms | **met** |")
	assert.Contains(t, md, "| module restart ≤ 5 ms (TCG, backoff excluded) | ModuleRestart/sensor-kill | tcg | 4.00 ms | **met** |")
	assert.Contains(t, md, "| module restart ≤ 5 ms (KVM) | — | — | — | not measured (TCG) |")
	assert.NotContains(t, md, "| ModuleRestart/sensor-kill-cold | tcg", "cold restarts are not judged")
	assert.Contains(t, md, "- Syscall: [bench-syscall.svg](bench-syscall.svg)")
	assert.Contains(t, md, "## Notes\n\n- a note\n")
	assert.Contains(t, md, "## Errors\n\n- an error\n")
	assert.Contains(t, md, SeL4Anchor)
	// Issue 15's figures beside this run's, under -icount only.
	_, before, ok := strings.Cut(md, "## Before and after issue 15 (IPC at seL4's level)")
	require.True(t, ok)
	before, _, _ = strings.Cut(before, "\n## ")
	assert.Contains(t, before, "| IPCCallReply/r3-r2/fast | tcg-icount | 6,091 | 6,029 | -1% |")
	assert.Contains(t, before, "| Syscall/getppid/r3 | tcg-icount | 284 | 289 | +2% |")
	assert.Contains(t, before, "| ThreadSwitch/futex | tcg-icount | 2,703 | 2,695 | 0% |")
	assert.NotContains(t, before, "| tcg |", "no instruction count without icount")
	assert.NotContains(t, before, "PageFault", "not an IPC figure")
}

func TestMarkdownWithoutLinux(t *testing.T) {
	r := cannedReport()
	var kept []Figure
	for _, f := range r.Figures {
		if f.System != Linux {
			kept = append(kept, f)
		}
	}
	r.Figures, r.Linux = kept, "not run (--no-linux)"
	var b bytes.Buffer
	require.NoError(t, r.WriteMarkdown(&b, nil))
	assert.Contains(t, b.String(), "| not run | — |")
	assert.Contains(t, b.String(), "Linux baseline: not run (--no-linux).")
}

func TestGoalVerdicts(t *testing.T) {
	ipc := Figure{Name: "IPCCallReply/r3-r1/slow", NsPerOp: 900, CyclesPerOp: 2000}
	var icountGoal, kvmGoal Goal
	for _, g := range GoalsFor(ipc.Name) {
		if g.KVM {
			kvmGoal = g
		} else {
			icountGoal = g
		}
	}
	assert.Equal(t, "met", icountGoal.Verdict(ipc, EnvTCGIcount))
	assert.Equal(t, "", icountGoal.Verdict(ipc, EnvTCG), "an instruction goal says nothing about plain TCG")
	assert.Equal(t, "not measured (TCG)", kvmGoal.Verdict(ipc, EnvTCG))
	assert.Equal(t, "not measured (TCG)", kvmGoal.Verdict(ipc, EnvTCGIcount))
	assert.Equal(t, "not met", kvmGoal.Verdict(ipc, EnvKVM), "2,000 cycles > 1,500")
	assert.Empty(t, GoalsFor("IPCCallReply/r3-r2-filtered/fast"))
	assert.Empty(t, GoalsFor("ThreadSwitch/futex"))
	restart := GoalsFor("ModuleRestart/sensor-kill")
	require.Len(t, restart, 3)
	assert.Empty(t, GoalsFor("ModuleRestart/sensor-kill-cold"), "cold restarts are the comparison, not the system's")
	fast := Figure{NsPerOp: 4.9e6, Extra: []Metric{{Unit: MetricExclBackoff, Value: 0.9e6}}}
	slow := Figure{NsPerOp: 25e6, Extra: []Metric{{Unit: MetricExclBackoff, Value: 5.5e6}}}
	verdicts := func(f Figure, e Env) []string {
		var vs []string
		for _, g := range restart {
			vs = append(vs, g.Text()+": "+g.Verdict(f, e))
		}
		return vs
	}
	assert.Equal(t, []string{"≤ 1 ms (-icount, backoff excluded): met", "≤ 5 ms (TCG, backoff excluded): ", "≤ 5 ms (KVM): not measured (TCG)"},
		verdicts(fast, EnvTCGIcount))
	assert.Equal(t, []string{"≤ 1 ms (-icount, backoff excluded): ", "≤ 5 ms (TCG, backoff excluded): met", "≤ 5 ms (KVM): not measured (TCG)"},
		verdicts(fast, EnvTCG))
	assert.Equal(t, []string{"≤ 1 ms (-icount, backoff excluded): not met", "≤ 5 ms (TCG, backoff excluded): ", "≤ 5 ms (KVM): not measured (TCG)"},
		verdicts(slow, EnvTCGIcount))
	assert.Equal(t, []string{"≤ 1 ms (-icount, backoff excluded): ", "≤ 5 ms (TCG, backoff excluded): not met", "≤ 5 ms (KVM): not measured (TCG)"},
		verdicts(slow, EnvTCG))
	assert.Equal(t, []string{"≤ 1 ms (-icount, backoff excluded): ", "≤ 5 ms (TCG, backoff excluded): ", "≤ 5 ms (KVM): met"},
		verdicts(fast, EnvKVM), "the KVM goal judges ns/op, backoff included")
	assert.Equal(t, "not measured (no ns-excl-backoff/op)", restart[0].Verdict(Figure{NsPerOp: 0.5e6}, EnvTCGIcount))
	v, ok := restart[0].Value(fast)
	assert.True(t, ok)
	assert.InDelta(t, 0.9, v, 1e-9)
	assert.Equal(t, "≤ 250 ms (KVM)", GoalsFor("BootToReady/bundled")[0].Text())
}

func TestPlotsOnePerGroup(t *testing.T) {
	r := cannedReport()
	dir := t.TempDir()
	files, err := r.WritePlots(dir)
	require.NoError(t, err)
	// EBPFFilter and SensorPipeline have no samples: no plot.
	assert.Equal(t, map[string]string{
		"Syscall": "bench-syscall.svg", "IPCCallReply": "bench-ipccallreply.svg", "Guest": "bench-guest.svg",
		"ThreadSwitch": "bench-threadswitch.svg", "PageFault": "bench-pagefault.svg",
		"ModuleRestart": "bench-modulerestart.svg", "BootToReady": "bench-boottoready.svg",
	}, files)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		var doc struct {
			XMLName xml.Name
		}
		require.NoError(t, xml.Unmarshal(b, &doc), f)
		assert.Equal(t, "svg", doc.XMLName.Local, f)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "bench-guest.svg"))
	require.NoError(t, err)
	assert.Contains(t, string(svg), "Guest, tcg-icount: per-batch means", "one panel per environment")
	assert.Contains(t, string(svg), "Guest, tcg: per-batch means")
	assert.Contains(t, string(svg), "guest instructions per op")
	// Restarts: without the backoff, each module's cold restarts beside its restarts from
	// the snapshot.
	svg, err = os.ReadFile(filepath.Join(dir, "bench-modulerestart.svg"))
	require.NoError(t, err)
	assert.Contains(t, string(svg), "ModuleRestart, tcg-icount: one sample per kill, restart backoff excluded")
	assert.Contains(t, string(svg), "ModuleRestart, tcg: one sample per kill, restart backoff excluded")
	i, j := strings.Index(string(svg), ">sensor-kill<"), strings.Index(string(svg), ">sensor-kill-cold<")
	assert.True(t, i >= 0 && j >= 0, "both labels")
}

func TestPlotPairsRestarts(t *testing.T) {
	figs := []Figure{
		{Name: "ModuleRestart/sensor-kill"}, {Name: "ModuleRestart/console-kill"},
		{Name: "ModuleRestart/sensor-kill-cold"}, {Name: "ModuleRestart/console-kill-cold"},
	}
	assert.Equal(t, operation(figs[0].Name), operation(figs[2].Name))
	assert.NotEqual(t, operation(figs[0].Name), operation(figs[1].Name))
	assert.Equal(t, "Guest/x", operation("Guest/x/linux"))
	assert.True(t, exclBackoff([]Figure{{SamplesExclBackoff: []float64{1, 2}}}))
	assert.False(t, exclBackoff([]Figure{{SamplesExclBackoff: []float64{1, 2}}, {Samples: []float64{1, 2}}}), "all or none")
}

func TestWriteAllAndReadBack(t *testing.T) {
	r := cannedReport()
	dir := t.TempDir()
	written, err := r.WriteAll(dir)
	require.NoError(t, err)
	for _, f := range []string{BenchFile, JSONFile, MarkdownFile, "bench-syscall.svg"} {
		assert.Contains(t, written, filepath.Join(dir, f))
	}
	back, err := ReadJSON(filepath.Join(dir, JSONFile))
	require.NoError(t, err)
	assert.Equal(t, r.Figures, back.Figures)
	assert.Equal(t, r.Envs, back.Envs)
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "(bench-guest.svg)")
}

func TestNumbers(t *testing.T) {
	assert.Equal(t, "1,234,568", num(1234567.8))
	assert.Equal(t, "30", num(30))
	assert.Equal(t, "12.5", num(12.46))
	assert.Equal(t, "-1,519", num(-1519))
	assert.Equal(t, "6,029 instr", perOp(6029, true))
	assert.Equal(t, "19.3 M instr", perOp(19.254e6, true))
	assert.Equal(t, "39.1 µs", perOp(39110, false))
	assert.Equal(t, "578 ns", perOp(578, false))
	assert.Equal(t, "99.2 ms", perOp(99.19e6, false))
	st := sampleStats([]float64{3, 1, 2, 10})
	assert.Equal(t, stats{n: 4, min: 1, median: 2.5, max: 10}, st)
}
