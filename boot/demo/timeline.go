package demo

// The timeline picture (timeline.svg): one lane per deployment, each boot of its disk a bar,
// the boots laid end to end, and the moments that matter marked on each boot's kernel clock.

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"github.com/simpleos/simpleos/chart"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// TimelineFile is the timeline picture's name in the demo's folder.
const TimelineFile = "timeline.svg"

// markStyles are the markers of each kind of event.
var markStyles = map[string]draw.GlyphStyle{
	KindApplied:    {Shape: draw.TriangleGlyph{}, Color: color.RGBA{0x1f, 0x77, 0xb4, 0xff}, Radius: vg.Points(4)},
	KindRejected:   {Shape: draw.BoxGlyph{}, Color: color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, Radius: vg.Points(3.5)},
	KindFault:      {Shape: draw.CrossGlyph{}, Color: color.RGBA{0xff, 0x7f, 0x0e, 0xff}, Radius: vg.Points(4.5)},
	KindCoreCrash:  {Shape: draw.CrossGlyph{}, Color: color.RGBA{0xd6, 0x27, 0x28, 0xff}, Radius: vg.Points(6)},
	KindRollback:   {Shape: draw.PyramidGlyph{}, Color: color.RGBA{0x94, 0x67, 0xbd, 0xff}, Radius: vg.Points(4)},
	KindQuarantine: {Shape: draw.SquareGlyph{}, Color: color.RGBA{0x8c, 0x56, 0x4b, 0xff}, Radius: vg.Points(4.5)},
	KindServing:    {Shape: draw.CircleGlyph{}, Color: color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, Radius: vg.Points(3.5)},
	KindReboot:     {Shape: draw.RingGlyph{}, Color: color.RGBA{0xd6, 0x27, 0x28, 0xff}, Radius: vg.Points(5)},
	KindRepair:     {Shape: draw.PlusGlyph{}, Color: color.Black, Radius: vg.Points(5)},
	KindPowerOff:   {Shape: draw.RingGlyph{}, Color: color.Gray{0x55}, Radius: vg.Points(3.5)},
}

var (
	barOK      = color.RGBA{0xc7, 0xd9, 0xe8, 0xff} // a boot that ended well
	barCrashed = color.RGBA{0xf4, 0xc2, 0xc2, 0xff} // a boot that ended in a core crash
)

// lane is one deployment's row: where each of its boots starts on the picture's axis.
type lane struct {
	r     *Result
	y     float64
	start map[int]time.Duration // boot number -> its start on the axis
	end   time.Duration
}

// lanes lays out the deployments top to bottom, each one's boots end to end.
func lanes(results []*Result) []lane {
	var ls []lane
	for i, r := range results {
		l := lane{r: r, y: float64(len(results) - 1 - i), start: map[int]time.Duration{}}
		for _, b := range r.Boots {
			l.start[b.N] = l.end
			l.end += b.Duration
		}
		ls = append(ls, l)
	}
	return ls
}

// Timeline draws the deployments' timelines, and the legend of its markers (drawn beside it).
func Timeline(results []*Result) (*plot.Plot, plot.Legend, error) {
	legend := plot.NewLegend()
	p := plot.New()
	p.Title.Text = "Channel File 291 on SimpleOS: the same bad update in three deployments"
	p.X.Label.Text = "seconds on the kernel clock (each boot from its kernel entry; the boots of one disk end to end)"
	ls := lanes(results)
	var names []string
	longest := time.Duration(0)
	for i := len(ls) - 1; i >= 0; i-- {
		names = append(names, ls[i].r.Mode)
		longest = max(longest, ls[i].end)
	}
	if len(ls) == 0 || longest <= 0 {
		return nil, legend, fmt.Errorf("nothing to draw: no boots")
	}
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.6, float64(len(ls))-0.4
	p.X.Min, p.X.Max = 0, longest.Seconds()*1.02
	p.X.Tick.Marker = secondTicks{}
	p.Add(plotter.NewGrid())

	marks := map[string]plotter.XYs{}
	var labels plotter.XYLabels
	for _, l := range ls {
		for _, b := range l.r.Boots {
			x0 := l.start[b.N].Seconds()
			bar, err := plotter.NewLine(plotter.XYs{{X: x0, Y: l.y}, {X: x0 + b.Duration.Seconds(), Y: l.y}})
			if err != nil {
				return nil, legend, err
			}
			bar.LineStyle.Width = vg.Points(10)
			bar.LineStyle.Color = barOK
			if b.Crashed || b.Reset {
				bar.LineStyle.Color = barCrashed
			}
			p.Add(bar)
			labels.XYs = append(labels.XYs, plotter.XY{X: x0, Y: l.y + 0.16})
			labels.Labels = append(labels.Labels, fmt.Sprintf("boot %d", b.N))
		}
		for _, e := range l.r.Timeline {
			if _, ok := markStyles[e.Kind]; !ok {
				continue
			}
			marks[e.Kind] = append(marks[e.Kind], plotter.XY{X: (l.start[e.Boot] + e.Kernel).Seconds(), Y: l.y})
		}
	}
	bootNumbers, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, legend, err
	}
	for i := range bootNumbers.TextStyle {
		bootNumbers.TextStyle[i].Font.Size = vg.Points(7)
	}
	p.Add(bootNumbers)

	for _, k := range Kinds {
		xys, ok := marks[k]
		if !ok {
			continue
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, legend, err
		}
		sc.GlyphStyle = markStyles[k]
		p.Add(sc)
		legend.Add(k, sc)
	}
	legend.Top = true
	legend.Left = true
	legend.TextStyle.Font.Size = vg.Points(9)
	return p, legend, nil
}

// secondTicks mark whole seconds, a round number of them apart: about ten to an axis.
type secondTicks struct{}

func (secondTicks) Ticks(min, max float64) []plot.Tick {
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 20, 30, 60, 120, 300} {
		step = s
		if (max-min)/s <= 12 {
			break
		}
	}
	var ts []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ts
}

// WriteTimeline writes the timeline picture to file: SVG, or PNG for a file name ending in
// .png.
func WriteTimeline(results []*Result, file string) error {
	p, legend, err := Timeline(results)
	if err != nil {
		return err
	}
	return savePlot(p, &legend, vg.Length(11)*vg.Inch, vg.Length(4)*vg.Inch, file)
}

// legendWidth is the strip at the right of the picture that holds the legend.
const legendWidth = 1.9 * vg.Inch

// savePlot draws p on a w x h canvas, with legend in a strip at its right, and writes it to
// file: SVG, or PNG for a .png name.
func savePlot(p *plot.Plot, legend *plot.Legend, w, h vg.Length, file string) error {
	return chart.Write(file, w, h, func(dc draw.Canvas) {
		p.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
		legend.Draw(draw.Crop(draw.Crop(dc, w-legendWidth+vg.Points(8), 0, 0, 0), 0, 0, 0, -vg.Points(24)))
	})
}
