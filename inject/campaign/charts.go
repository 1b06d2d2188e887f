package campaign

// The charts beside results.md: outcomes.svg, what became of the faults of each class in
// each deployment, and recovery.svg, how long restarted modules took to serve again.

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"github.com/simpleos/simpleos/chart"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The charts' file names in a campaign's folder (a whole campaign's; see ChartNames).
const (
	OutcomesChart = "outcomes.svg"
	RecoveryChart = "recovery.svg"
)

// ChartNames are the file names of rs's charts: OutcomesChart and RecoveryChart, or for one
// shard (or set of shards) of a campaign, named like its report (ReportName),
// outcomes-shard-I-of-N.svg and recovery-shard-I-of-N.svg.
func ChartNames(rs []*Results) (outcomes, recovery string) {
	part := strings.TrimSuffix(strings.TrimPrefix(ReportName(rs), "results"), ".md")
	return "outcomes" + part + ".svg", "recovery" + part + ".svg"
}

// outcomeColors are the outcomes' colours: contained ones in cool colours, failures in hot.
var outcomeColors = map[string]color.Color{
	Handled:     color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	Restarted:   color.RGBA{0x1f, 0x77, 0xb4, 0xff},
	Quarantined: color.RGBA{0x94, 0x67, 0xbd, 0xff},
	Breach:      color.RGBA{0xff, 0x7f, 0x0e, 0xff},
	Hang:        color.RGBA{0xbc, 0xbd, 0x22, 0xff},
	CoreCrash:   color.RGBA{0xd6, 0x27, 0x28, 0xff},
	NotRun:      color.RGBA{0xc7, 0xc7, 0xc7, 0xff},
}

// deploymentColors tell the deployments apart where outcomes do not.
var deploymentColors = map[string]color.Color{
	Tiered:     color.RGBA{0x1f, 0x77, 0xb4, 0xff},
	Monolithic: color.RGBA{0xd6, 0x27, 0x28, 0xff},
}

// deploymentSummaries summarizes the deployments present, tiered first.
func deploymentSummaries(rs []*Results) []Summary {
	var ss []Summary
	for _, dep := range []string{Tiered, Monolithic} {
		for _, r := range rs {
			if r.Campaign.Deployment == dep {
				ss = append(ss, Summarize(r))
			}
		}
	}
	return ss
}

// chartClasses are the classes of any deployment, in the report's order.
func chartClasses(ss []Summary) []string {
	seen := map[string]bool{}
	var order []string
	for _, s := range ss {
		for _, c := range s.Classes {
			if !seen[c] {
				seen[c] = true
				order = append(order, c)
			}
		}
	}
	return order
}

// OutcomesPlot draws, for each fault class, one stacked bar per deployment (tiered left,
// monolithic right): the share of the class's injections that ended in each outcome.
func OutcomesPlot(rs []*Results) (*plot.Plot, plot.Legend, error) {
	legend := plot.NewLegend()
	ss := deploymentSummaries(rs)
	classes := chartClasses(ss)
	p := plot.New()
	var names []string
	for _, s := range ss {
		names = append(names, fmt.Sprintf("%s (%s)", s.Deployment, deploymentLetter(s.Deployment)))
	}
	p.Title.Text = "Outcomes per fault class: " + strings.Join(names, " beside ")
	p.Y.Label.Text = "% of the class's injections"
	p.Y.Min, p.Y.Max = 0, 108
	if len(classes) == 0 {
		p.Title.Text = "No injections"
		return p, legend, nil
	}
	p.NominalX(classes...)
	p.X.Min, p.X.Max = -0.7, float64(len(classes))-0.3
	p.X.Tick.Label.Rotation = math.Pi / 5
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.Add(plotter.NewGrid())

	barWidth := vg.Points(9)
	inLegend := map[string]bool{}
	for j, s := range ss {
		offset := barWidth * vg.Length(float64(j)-float64(len(ss)-1)/2)
		var below *plotter.BarChart
		for _, o := range append(Outcomes(), NotRun) {
			vals := make(plotter.Values, len(classes))
			any := false
			for i, c := range classes {
				if n := rowTotal(s.ByClass[c]); n > 0 {
					vals[i] = 100 * float64(s.ByClass[c][o]) / float64(n)
					any = any || vals[i] > 0
				}
			}
			if !any {
				continue
			}
			bar, err := plotter.NewBarChart(vals, barWidth)
			if err != nil {
				return nil, legend, err
			}
			bar.Offset = offset
			bar.Color = outcomeColors[o]
			bar.LineStyle.Width = vg.Points(0.3)
			bar.LineStyle.Color = color.White
			if below != nil {
				bar.StackOn(below)
			}
			below = bar
			p.Add(bar)
			if !inLegend[o] {
				inLegend[o] = true
				legend.Add(o, bar)
			}
		}
		// The deployment's letter above each of its bars.
		var xys plotter.XYLabels
		for i, c := range classes {
			if rowTotal(s.ByClass[c]) > 0 {
				xys.XYs = append(xys.XYs, plotter.XY{X: float64(i), Y: 101})
				xys.Labels = append(xys.Labels, deploymentLetter(s.Deployment))
			}
		}
		if len(xys.XYs) > 0 {
			letters, err := plotter.NewLabels(xys)
			if err != nil {
				return nil, legend, err
			}
			for i := range letters.TextStyle {
				letters.TextStyle[i].Font.Size = vg.Points(7)
				letters.TextStyle[i].XAlign = draw.XCenter
				letters.TextStyle[i].Color = deploymentColors[s.Deployment]
			}
			letters.Offset = vg.Point{X: offset}
			p.Add(letters)
		}
	}
	return p, legend, nil
}

func deploymentLetter(dep string) string {
	if dep == "" {
		return "?"
	}
	return strings.ToUpper(dep[:1])
}

// recoveryBins are the upper edges, in milliseconds, of the recovery-time histogram's bins
// (the last bin has none).
var recoveryBins = []float64{10, 20, 50, 100, 200, 500, 1000, 2000, 5000}

// recoveryBinNames label the bins in milliseconds.
func recoveryBinNames() []string {
	names := []string{fmt.Sprintf("<%g", recoveryBins[0])}
	for i := 1; i < len(recoveryBins); i++ {
		names = append(names, fmt.Sprintf("%g-%g", recoveryBins[i-1], recoveryBins[i]))
	}
	return append(names, fmt.Sprintf(">%g", recoveryBins[len(recoveryBins)-1]))
}

// RecoveryPlot draws the distribution of recovery times (a restarted module's crash to its
// serving again, measured by the core), one bar per deployment in each bin.
func RecoveryPlot(rs []*Results) (*plot.Plot, plot.Legend, error) {
	legend := plot.NewLegend()
	p := plot.New()
	p.Title.Text = "Recovery time of restarted modules (crash to serving again)"
	p.X.Label.Text = "recovery time (ms)"
	p.Y.Label.Text = "restarts"
	names := recoveryBinNames()
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.Add(plotter.NewGrid())
	var deps []*Results
	for _, dep := range []string{Tiered, Monolithic} {
		for _, r := range rs {
			if r.Campaign.Deployment == dep {
				deps = append(deps, r)
			}
		}
	}
	barWidth := vg.Points(14)
	total, highest := 0, 0.0
	var stats []string
	for j, r := range deps {
		counts := make(plotter.Values, len(names))
		var us []int64
		for _, in := range r.Injections {
			if in.Outcome != Restarted || in.RecoveryUS <= 0 {
				continue
			}
			us = append(us, in.RecoveryUS)
			ms := float64(in.RecoveryUS) / 1000
			bin := len(recoveryBins)
			for k, edge := range recoveryBins {
				if ms < edge {
					bin = k
					break
				}
			}
			counts[bin]++
		}
		if len(us) == 0 {
			stats = append(stats, r.Campaign.Deployment+": no restart")
			continue
		}
		total += len(us)
		for _, c := range counts {
			highest = math.Max(highest, c)
		}
		bar, err := plotter.NewBarChart(counts, barWidth)
		if err != nil {
			return nil, legend, err
		}
		bar.Offset = barWidth * vg.Length(float64(j)-float64(len(deps)-1)/2)
		bar.Color = deploymentColors[r.Campaign.Deployment]
		bar.LineStyle.Width = 0
		p.Add(bar)
		legend.Add(fmt.Sprintf("%s (n=%d)", r.Campaign.Deployment, len(us)), bar)
		stats = append(stats, fmt.Sprintf("%s: median %s, p99 %s", r.Campaign.Deployment,
			micros(Median(us)), micros(float64(Percentile(us, 99)))))
	}
	if total == 0 {
		p.Title.Text = "No restarted module reported a recovery time"
		return p, legend, nil
	}
	p.Title.Text += "\n" + strings.Join(stats, "; ")
	p.Y.Min, p.Y.Max = 0, highest*1.1
	return p, legend, nil
}

// WriteCharts writes the outcomes and recovery charts into dir (ChartNames) and returns their
// paths. Each file appears whole or not at all, as the JSON files do.
func WriteCharts(dir string, rs []*Results) ([]string, error) {
	var paths []string
	outcomes, recovery := ChartNames(rs)
	for _, c := range []struct {
		name string
		draw func([]*Results) (*plot.Plot, plot.Legend, error)
		w, h vg.Length
	}{
		{outcomes, OutcomesPlot, 11 * vg.Inch, 5 * vg.Inch},
		{recovery, RecoveryPlot, 9 * vg.Inch, 4 * vg.Inch},
	} {
		p, legend, err := c.draw(rs)
		if err != nil {
			return paths, fmt.Errorf("%s: %w", c.name, err)
		}
		file := filepath.Join(dir, c.name)
		if err := saveChart(p, &legend, c.w, c.h, file); err != nil {
			return paths, err
		}
		paths = append(paths, file)
	}
	return paths, nil
}

// chartLegendWidth is the strip at the right of a chart that holds its legend.
const chartLegendWidth = 2.3 * vg.Inch

// saveChart draws p on a w x h canvas with its legend in a strip at the right, and writes it
// to file: SVG, or PNG for a .png name.
func saveChart(p *plot.Plot, legend *plot.Legend, w, h vg.Length, file string) error {
	return chart.Write(file, w, h, func(dc draw.Canvas) {
		p.Draw(draw.Crop(dc, 0, -chartLegendWidth, 0, 0))
		legend.Top, legend.Left = true, true
		legend.TextStyle.Font.Size = vg.Points(9)
		legend.Draw(draw.Crop(dc, w-chartLegendWidth+vg.Points(8), 0, 0, -vg.Points(24)))
	})
}
