package chart

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func TestWriteChoosesTheFormatByName(t *testing.T) {
	dir := t.TempDir()
	p := plot.New()
	p.Title.Text = "chart"
	for _, name := range []string{"a.svg", "a.png"} {
		file := filepath.Join(dir, name)
		require.NoError(t, Write(file, 3*vg.Inch, 2*vg.Inch, func(c draw.Canvas) { p.Draw(c) }))
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		if name == "a.png" {
			_, err := png.Decode(bytes.NewReader(b))
			assert.NoError(t, err)
		} else {
			assert.Contains(t, string(b), "<svg")
		}
	}
	assert.Error(t, Write(filepath.Join(dir, "missing", "x.svg"), vg.Inch, vg.Inch, func(draw.Canvas) {}))
}
