package campaign

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// svgTexts parses an SVG document (any XML error fails the test) and returns its root
// element's name and the contents of its text elements.
func svgTexts(t *testing.T, file string) (string, []string) {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	d := xml.NewDecoder(f)
	root, inText := "", false
	var texts []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "valid XML")
		switch x := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = x.Name.Local
			}
			inText = x.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(x))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return root, texts
}

func TestWriteCharts(t *testing.T) {
	dir := t.TempDir()
	tr, mr := shardResults(Tiered, 1, 1), shardResults(Monolithic, 1, 1)
	mr.Injections = append(mr.Injections, Record{ID: 9, Class: "dma-wild", Target: "blk", Outcome: Breach, Boot: 1})
	paths, err := WriteCharts(dir, []*Results{mr, tr})
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dir, OutcomesChart), filepath.Join(dir, RecoveryChart)}, paths)

	root, texts := svgTexts(t, paths[0])
	assert.Equal(t, "svg", root)
	for _, want := range []string{"panic", "kill", "dma-wild", Restarted, CoreCrash, Breach, "T", "M", "% of the class's injections"} {
		assert.Contains(t, texts, want)
	}
	assert.NotContains(t, texts, Hang, "an outcome no injection had is not in the legend")
	assert.Contains(t, strings.Join(texts, "\n"), "tiered (T) beside monolithic (M)")

	root, texts = svgTexts(t, paths[1])
	assert.Equal(t, "svg", root)
	all := strings.Join(texts, "\n")
	// Tiered: panics 1, 3, 5, 7 ms and kills 0.5 ms; monolithic: panics only (its kills crashed the core).
	assert.Contains(t, texts, "tiered (n=8)")
	assert.Contains(t, texts, "monolithic (n=4)")
	assert.Contains(t, all, "tiered: median 0.8 ms, p99 7.0 ms")
	for _, bin := range []string{"<10", "10-20", "2000-5000", ">5000"} {
		assert.Contains(t, texts, bin)
	}
}

func TestWriteChartsWithoutData(t *testing.T) {
	dir := t.TempDir()
	r := shardResults(Tiered, 1, 1)
	for i := range r.Injections {
		r.Injections[i].Outcome, r.Injections[i].RecoveryUS = Handled, 0
	}
	paths, err := WriteCharts(dir, []*Results{r})
	require.NoError(t, err)
	_, texts := svgTexts(t, paths[1])
	assert.Contains(t, texts, "No restarted module reported a recovery time")

	paths, err = WriteCharts(t.TempDir(), nil)
	require.NoError(t, err)
	_, texts = svgTexts(t, paths[0])
	assert.Contains(t, texts, "No injections")
}
