package bench

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/simpleos/simpleos/chart"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// WritePlots writes one SVG per benchmark group into dir: a box plot of the per-batch samples
// of every figure of the group that has at least two, in every environment. It returns the
// file names (relative to dir) by group; a group without samples gets no plot.
func (r *Report) WritePlots(dir string) (map[string]string, error) {
	files := map[string]string{}
	for _, g := range r.Groups() {
		var figs []Figure
		for _, f := range r.Figures {
			if f.Group() == g && len(f.Samples) >= 2 {
				figs = append(figs, f)
			}
		}
		if len(figs) == 0 {
			continue
		}
		kind := sampleKind(g)
		if exclBackoff(figs) {
			// Restarts without the backoff: the supervisor's fixed schedule would hide the
			// difference between a restore and a cold start.
			for i := range figs {
				figs[i].Samples = figs[i].SamplesExclBackoff
			}
			kind += ", restart backoff excluded"
		}
		// SimpleOS's and Linux's figures of one operation side by side (and a module's
		// restarts from its snapshot and cold), in the order the operations first appear.
		first := map[string]int{}
		for i, f := range figs {
			if _, ok := first[operation(f.Name)]; !ok {
				first[operation(f.Name)] = i
			}
		}
		sort.SliceStable(figs, func(i, j int) bool { return first[operation(figs[i].Name)] < first[operation(figs[j].Name)] })
		name := "bench-" + strings.ToLower(g) + ".svg"
		if err := plotGroup(g, kind, figs, r.Envs, filepath.Join(dir, name)); err != nil {
			return files, fmt.Errorf("plot %s: %w", g, err)
		}
		files[g] = name
	}
	return files, nil
}

// exclBackoff reports whether every figure has at least two samples without the restart
// backoff (restart figures): the plot then shows those.
func exclBackoff(figs []Figure) bool {
	for _, f := range figs {
		if len(f.SamplesExclBackoff) < 2 {
			return false
		}
	}
	return true
}

// plotGroup draws the group's figures, one panel per environment (the units differ: guest
// nanoseconds, or instructions under -icount), each box labelled with the figure's name
// without the group; kind says what a sample is. A .png file name gives a PNG (for looking at
// plots where no SVG viewer is at hand).
func plotGroup(group, kind string, figs []Figure, envs []Env, file string) error {
	var rows [][]*plot.Plot
	boxes := 0
	for _, e := range envs {
		var in []Figure
		for _, f := range figs {
			if f.Env == e.Name {
				in = append(in, f)
			}
		}
		if len(in) == 0 {
			continue
		}
		p, err := panel(group, kind, in, e)
		if err != nil {
			return err
		}
		rows = append(rows, []*plot.Plot{p})
		boxes = max(boxes, len(in))
	}
	if len(rows) == 0 {
		return fmt.Errorf("no figure with samples")
	}
	width := vg.Length(math.Max(5.5, 1.0*float64(boxes)+2)) * vg.Inch
	height := vg.Length(4*len(rows)) * vg.Inch
	tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4, PadY: vg.Millimeter * 6}
	return chart.Write(file, width, height, func(dc draw.Canvas) {
		canvases := plot.Align(rows, tiles, dc)
		for i := range rows {
			rows[i][0].Draw(canvases[i][0])
		}
	})
}

// panel is one environment's box plots. Cold restarts (ModuleRestart/…-cold) are filled grey
// beside their module's restarts from its snapshot.
func panel(group, kind string, figs []Figure, e Env) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s, %s: %s", group, e.Name, kind)
	lo, hi := math.Inf(1), math.Inf(-1)
	var meds []float64
	instr := true
	for _, f := range figs {
		st := sampleStats(f.Samples)
		lo, hi = math.Min(lo, st.min), math.Max(hi, st.max)
		meds = append(meds, st.median)
		instr = instr && f.Instructions(e)
	}
	div, unit := scaleFor(sampleStats(meds).median, instr)
	if instr {
		p.Y.Label.Text = "guest instructions per op"
		if unit == "M instr" {
			p.Y.Label.Text = "guest instructions per op (millions)"
		}
	} else {
		p.Y.Label.Text = "guest " + unit + " per op"
	}
	logScale := lo > 0 && hi/lo > 20
	p.Y.Tick.Marker = plainTicks{}
	if logScale {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	var names []string
	for i, f := range figs {
		vals := make(plotter.Values, len(f.Samples))
		for j, s := range f.Samples {
			vals[j] = s / div
			if logScale && vals[j] <= 0 {
				vals[j] = math.SmallestNonzeroFloat64
			}
		}
		box, err := plotter.NewBoxPlot(vg.Points(18), float64(i), vals)
		if err != nil {
			return nil, err
		}
		if group == "ModuleRestart" && strings.HasSuffix(f.Name, "-cold") {
			box.FillColor = color.Gray{Y: 200}
		}
		p.Add(box)
		n := strings.TrimPrefix(strings.TrimPrefix(f.Name, group), "/")
		if n == "" {
			n = group
		}
		names = append(names, n)
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.Add(plotter.NewGrid())
	return p, nil
}

// sampleKind says what one sample of the group is.
func sampleKind(group string) string {
	switch group {
	case "ModuleRestart":
		return "one sample per kill"
	case "BootToReady", "SensorPipeline":
		return "one sample per boot"
	}
	return "per-batch means"
}

// operation is a figure name without the system it was measured on, and a restart figure's
// without "-cold".
func operation(name string) string {
	if strings.HasPrefix(name, "ModuleRestart/") {
		return strings.TrimSuffix(name, "-cold")
	}
	return strings.TrimSuffix(strings.TrimSuffix(name, "/"+SimpleOS), "/"+Linux)
}

// plainTicks are gonum's default ticks labelled without trailing zeros (9250, not 9250.00).
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}
