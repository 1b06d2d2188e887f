// Package chart writes gonum plots to files: the one place that picks the canvas by the file's
// name (PNG for .png, SVG otherwise), shared by the benchmarks' plots (bench), the demo's
// timeline (boot/demo) and a campaign's charts (inject/campaign).
package chart

import (
	"io"
	"os"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Write makes a w x h canvas for file, has paint draw on it, and writes it to file.
func Write(file string, w, h vg.Length, paint func(draw.Canvas)) error {
	var c interface {
		vg.CanvasSizer
		io.WriterTo
	}
	if strings.HasSuffix(file, ".png") {
		c = vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	} else {
		c = vgsvg.New(w, h)
	}
	paint(draw.New(c))
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
