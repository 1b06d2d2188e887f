package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// WriteBench writes the figures as Go benchmark lines, which benchstat reads:
//
//	BenchmarkIPCCallReply/r3-r2/fast/tcg-icount  10000  6029 ns/op  6026 cycles/op  6029 instr/op
//
// Under -icount shift=0 the same number is given again as instr/op. Extra metrics follow in
// their own units.
func (r *Report) WriteBench(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "pkg: github.com/simpleos/simpleos/bench\n")
	fmt.Fprintf(&b, "preset: %s\n", r.Preset)
	if r.Host != "" {
		fmt.Fprintf(&b, "cpu: %s\n", r.Host)
	}
	for _, e := range r.Envs {
		fmt.Fprintf(&b, "env-%s: %s\n", e.Name, strings.ReplaceAll(describeEnv(e), "\n", " "))
	}
	for _, f := range r.Figures {
		b.WriteString(BenchLine(f, r.envOf(f)))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// BenchLine formats one figure as a Go benchmark line.
func BenchLine(f Figure, e Env) string {
	iters := f.Iters
	if iters < 1 {
		iters = 1
	}
	line := fmt.Sprintf("%s\t%d\t%s ns/op", f.BenchName(), iters, benchFloat(f.NsPerOp))
	if f.CyclesPerOp != 0 {
		line += fmt.Sprintf("\t%s cycles/op", benchFloat(f.CyclesPerOp))
	}
	if f.Instructions(e) {
		line += fmt.Sprintf("\t%s instr/op", benchFloat(f.NsPerOp))
	}
	for _, m := range f.Extra {
		if !m.Count {
			line += fmt.Sprintf("\t%s %s", benchFloat(m.Value), m.Unit)
		}
	}
	return line
}

func benchFloat(v float64) string {
	if math.Abs(v) >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func (r *Report) envOf(f Figure) Env {
	e, _ := r.Env(f.Env)
	return e
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// WriteMarkdown writes the report's tables: per environment, each figure with its ratio to
// Linux (same operation, same run), to the seL4 anchor where relevant and its goal; then the
// sensor pipeline's tiered/monolithic ratio, the goals, notes and errors. plots are the SVG
// files to link, by group.
func (r *Report) WriteMarkdown(w io.Writer, plots map[string]string) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# SimpleOS benchmarks\n\n")
	p("Run of %s, preset %s, %s wall", r.Start.UTC().Format("2006-01-02 15:04 MST"), r.Preset, (time.Duration(r.WallSeconds * float64(time.Second))).Round(time.Second))
	if r.Host != "" {
		p(", host CPU %s", r.Host)
	}
	p(". Linux baseline: %s.\n\n", r.Linux)
	p("Every figure is per operation: guest nanoseconds (under `-icount shift=0` one guest ns is one guest " +
		"instruction: *instr*), cycles from RDTSC (the emulated TSC under TCG). *Batches* are the per-batch " +
		"means whose distributions the plots show. *× Linux* divides the SimpleOS figure by Linux's for the same " +
		"operation measured in the same run by the same program (bench/guest) under the same QEMU settings. " +
		"*× seL4* divides the IPC figure (cycles, or instructions under -icount) by " + SeL4Anchor + ".\n\n")

	for _, e := range r.Envs {
		r.envTable(&b, e)
	}
	r.pipelineTable(&b)
	r.restartTable(&b)
	r.diskTable(&b)
	r.filesTable(&b)
	r.goalTable(&b)
	r.beforeTable(&b)
	r.profileTables(&b)
	if len(plots) > 0 {
		p("## Plots\n\n")
		for _, g := range r.Groups() {
			if f, ok := plots[g]; ok {
				p("- %s: [%s](%s)\n", g, f, f)
			}
		}
		p("\n")
	}
	if len(r.Notes) > 0 {
		p("## Notes\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
		p("\n")
	}
	if len(r.Errors) > 0 {
		p("## Errors\n\n")
		for _, e := range r.Errors {
			p("- %s\n", e)
		}
		p("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) envTable(b *strings.Builder, e Env) {
	var figs []Figure
	for _, f := range r.Figures {
		if f.Env == e.Name {
			figs = append(figs, f)
		}
	}
	fmt.Fprintf(b, "## %s\n\n%s.\n\n", e.Name, describeEnv(e))
	if len(figs) == 0 {
		b.WriteString("Nothing was measured.\n\n")
		return
	}
	b.WriteString("| benchmark | per op | cycles/op | batches: median (min–max) | ops | Linux | × Linux | × seL4 | goal | how |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|---|---|\n")
	linuxRan := false
	for _, f := range r.Figures {
		linuxRan = linuxRan || (f.System == Linux && f.Env == e.Name)
	}
	for _, f := range figs {
		instr := f.Instructions(e)
		st := sampleStats(f.Samples)
		batches := "—"
		if st.n > 1 {
			div, unit := scaleFor(st.median, instr)
			batches = fmt.Sprintf("%s (%s–%s) %s ×%d", num(st.median/div), num(st.min/div), num(st.max/div), unit, st.n)
		}
		cycles := "—"
		if f.CyclesPerOp != 0 {
			cycles = num(f.CyclesPerOp)
		}
		linux, ratio := "—", "—"
		if f.System == SimpleOS {
			if ln, factor, ok := linuxTwin(f.Name); ok {
				lf, found := r.Find(ln, f.Env, Linux)
				switch {
				case found && lf.NsPerOp > 0:
					lv := lf.NsPerOp * factor
					linux = perOp(lv, instr)
					ratio = fmt.Sprintf("%.2f×", f.NsPerOp/lv)
				case linuxRan:
					linux = "not measured"
				default:
					linux = "not run"
				}
			}
		}
		anchor := "—"
		if anchored(f.Name) {
			v := f.CyclesPerOp
			if instr {
				v = f.NsPerOp
			}
			if v > 0 {
				anchor = fmt.Sprintf("%.1f×", v/SeL4CallReplyCycles)
			}
		}
		var goals []string
		for _, g := range GoalsFor(f.Name) {
			if v := g.Verdict(f, e); v != "" {
				goals = append(goals, g.Text()+": **"+v+"**")
			}
		}
		goal := "—"
		if len(goals) > 0 {
			goal = strings.Join(goals, "; ")
		}
		name := f.Name
		if len(f.Extra) > 0 {
			var ex []string
			for _, m := range f.Extra {
				ex = append(ex, num(m.Value)+" "+m.Unit)
			}
			name += " (" + strings.Join(ex, ", ") + ")"
		}
		how := f.Source
		if f.Note != "" {
			how += "; " + f.Note
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			name, perOp(f.NsPerOp, instr), cycles, batches, thousands(float64(f.Iters)), linux, ratio, anchor, goal, how)
	}
	b.WriteString("\n")
}

// pipelineTable compares the two deployments of the sensor pipeline in every environment.
func (r *Report) pipelineTable(b *strings.Builder) {
	var rows []string
	for _, e := range r.Envs {
		t, okT := r.Find("SensorPipeline/tiered", e.Name, SimpleOS)
		m, okM := r.Find("SensorPipeline/monolithic", e.Name, SimpleOS)
		if !okT && !okM {
			continue
		}
		cell := func(f Figure, ok bool, unit string) string {
			if !ok {
				return "not measured"
			}
			if v, ok := f.Metric(unit); ok {
				return num(v)
			}
			return "?"
		}
		ratio := "—"
		if okT && okM {
			tv, _ := t.Metric("events/s")
			mv, _ := m.Metric("events/s")
			if mv > 0 {
				ratio = fmt.Sprintf("%.2f", tv/mv)
			}
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s / %s |", e.Name,
			cell(t, okT, "events/s"), cell(m, okM, "events/s"), ratio,
			cell(t, okT, "screened"), cell(m, okM, "screened")))
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Sensor pipeline: tiered against monolithic\n\n")
	b.WriteString("ring3/app creates pipes through ring3/pipesvc as fast as it can; each pipe is one pipe.created " +
		"event for the sensor. *events/s* is the app's rate (guest clock); *screened* is the last count the sensor " +
		"printed with a detection (a lower bound; \"0\" when it printed none): when it is far below the pipes " +
		"created, the kernel dropped events (a subscriber's queue holds 32) and the figure measures the producer, " +
		"not the sensor.\n\n")
	b.WriteString("| env | tiered events/s | monolithic events/s | tiered ÷ monolithic | screened (tiered / monolithic) |\n")
	b.WriteString("|---|--:|--:|--:|--:|\n")
	for _, row := range rows {
		b.WriteString(row + "\n")
	}
	b.WriteString("\n")
}

// restartTable sets each module's restarts from its snapshot beside its cold restarts, in
// every environment.
func (r *Report) restartTable(b *strings.Builder) {
	var rows []string
	for _, e := range r.Envs {
		for _, m := range RestartModules {
			snap, okS := r.Find(RestartFigureName(m, false), e.Name, SimpleOS)
			cold, okC := r.Find(RestartFigureName(m, true), e.Name, SimpleOS)
			if !okS && !okC {
				continue
			}
			cell := func(f Figure, ok bool, excl bool) (string, float64) {
				if !ok {
					return "not measured", 0
				}
				v := f.NsPerOp
				if excl {
					x, found := f.Metric(MetricExclBackoff)
					if !found {
						return "?", 0
					}
					v = x
				}
				return perOp(v, false), v
			}
			sx, sv := cell(snap, okS, true)
			cx, cv := cell(cold, okC, true)
			si, _ := cell(snap, okS, false)
			ci, _ := cell(cold, okC, false)
			ratio := "—"
			if sv > 0 && cv > 0 {
				ratio = fmt.Sprintf("%.1f", cv/sv)
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %d / %d |", e.Name, m,
				sx, cx, ratio, si, ci, snap.Iters, cold.Iters))
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Module restart: from the snapshot against cold\n\n")
	b.WriteString("The core kills each module in two campaigns on the same system: as the system runs, the next " +
		"instance restored from the module's snapshot (docs/snapshots.md), and with " + SnapshotOff + " on the " +
		"kernel command line, every restart a cold start (the ELF loaded, the Go runtime initialised again). Per " +
		"restart, from the killed instance's end to the next one serving (kernel clock: guest time, also under " +
		"-icount). *excl. backoff* subtracts the restart delay the supervisor printed (none after a first failure, " +
		"then 10 ms, doubling); *incl.* is the whole wait. Quarantined kills are not timed.\n\n")
	b.WriteString("| env | module | snapshot, excl. backoff | cold, excl. backoff | cold ÷ snapshot | snapshot, incl. | cold, incl. | restarts timed (snapshot / cold) |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range rows {
		b.WriteString(row + "\n")
	}
	b.WriteString("\n")
}

// goalTable lists every goal with what was measured for it.
func (r *Report) goalTable(b *strings.Builder) {
	b.WriteString("## Goals\n\n| goal | benchmark | environment | measured | verdict |\n|---|---|---|--:|---|\n")
	for _, g := range Goals {
		n := 0
		for _, f := range r.Figures {
			if f.System != SimpleOS || !g.Applies(f.Name) {
				continue
			}
			e := r.envOf(f)
			if !g.Env(e) {
				continue
			}
			n++
			measured := "—"
			if v, ok := g.Value(f); ok {
				measured = goalNum(v, g.Unit) + " " + g.Unit
			}
			fmt.Fprintf(b, "| %s %s | %s | %s | %s | **%s** |\n", g.What, g.Text(), f.Name, e.Name,
				measured, g.Verdict(f, e))
		}
		if n == 0 {
			verdict := "not measured"
			if g.KVM {
				verdict = "not measured (TCG)"
			}
			fmt.Fprintf(b, "| %s %s | — | — | — | %s |\n", g.What, g.Text(), verdict)
		}
	}
	b.WriteString("\n")
}

func goalNum(v float64, unit string) string {
	if unit == "ms" && v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	if unit == "ms" {
		return fmt.Sprintf("%.1f", v)
	}
	return num(v)
}

// scaleFor chooses the unit a per-operation figure of about v reads best in: instructions
// (instr, M instr) or guest time (ns, µs, ms). It returns the divisor and the unit.
func scaleFor(v float64, instr bool) (float64, string) {
	a := math.Abs(v)
	switch {
	case instr && a >= 1e6:
		return 1e6, "M instr"
	case instr:
		return 1, "instr"
	case a >= 1e6:
		return 1e6, "ms"
	case a >= 1e4:
		return 1e3, "µs"
	}
	return 1, "ns"
}

// perOp formats a per-operation figure with its unit.
func perOp(v float64, instr bool) string {
	div, unit := scaleFor(v, instr)
	return num(v/div) + " " + unit
}

// num formats a figure for a table: whole numbers with separators from 100 up and when
// whole, one decimal otherwise.
func num(v float64) string {
	if math.Abs(v) >= 100 || v == math.Trunc(v) {
		return thousands(math.Round(v))
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// Outputs are the files WriteAll writes, relative to its folder.
const (
	BenchFile    = "bench.txt"
	JSONFile     = "results.json"
	MarkdownFile = "report.md"
)

// WriteAll writes the report into dir: the benchmark lines, the JSON, the plots and the
// Markdown tables that link them. It returns the paths written.
func (r *Report) WriteAll(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	var bench strings.Builder
	if err := r.WriteBench(&bench); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, BenchFile)
	if err := os.WriteFile(path, []byte(bench.String()), 0o644); err != nil {
		return nil, err
	}
	written = append(written, path)
	path = filepath.Join(dir, JSONFile)
	if err := r.WriteJSON(path); err != nil {
		return written, err
	}
	written = append(written, path)
	plots, err := r.WritePlots(dir)
	for _, g := range r.Groups() {
		if f, ok := plots[g]; ok {
			written = append(written, filepath.Join(dir, f))
		}
	}
	if err != nil {
		return written, err
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md, plots); err != nil {
		return written, err
	}
	path = filepath.Join(dir, MarkdownFile)
	if err := os.WriteFile(path, []byte(md.String()), 0o644); err != nil {
		return written, err
	}
	written = append(written, path)
	if len(r.Profiles) > 0 {
		var lines strings.Builder
		lines.WriteString("# Where a round trip's instructions go, by source line\n\n" +
			"The profiles of report.md (part `profile`), each side's instructions by the source line they " +
			"were compiled from (the programs' line tables); lines under half an instruction a round trip " +
			"are summed per function.\n\n")
		var src sourceFiles
		for _, p := range r.Profiles {
			profileLines(&lines, p, 0.5, &src)
		}
		path = filepath.Join(dir, LinesFile)
		if err := os.WriteFile(path, []byte(lines.String()), 0o644); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// profileTables writes the instruction profiles (part profile).
func (r *Report) profileTables(b *strings.Builder) {
	if len(r.Profiles) == 0 {
		return
	}
	b.WriteString("## Where a round trip's instructions go\n\n")
	b.WriteString("QEMU's execution log, one instruction per line (`-singlestep -d exec,nochain`), between two marks " +
		"of the client around its round trips (part `profile`, bench/itrace): every instruction attributed to a " +
		"function of the core (level 0) or of the task whose ring it ran in. Functions under 1% are summed; " +
		LinesFile + " has every side's instructions by source line.\n\n")
	for _, p := range r.Profiles {
		profileTable(b, p, 0.01)
		b.WriteString("\n")
	}
}
