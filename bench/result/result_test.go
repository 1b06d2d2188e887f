package result

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	r := Result{Name: "ipc/call-reply/r3-r2/fast", Iters: 1000, NsPerOp: 77123.5, CyclesPerOp: 200000, Samples: []float64{1, 2.5, 3e6}}
	got, err := Parse([]byte("junk\n[benchipc] " + r.Line() + "\nmore junk\n"))
	require.NoError(t, err)
	assert.Equal(t, []Result{r}, got)
}

func TestParseErrors(t *testing.T) {
	_, err := Parse([]byte("a\nbench result name=x iters=zz ns_per_op=1\n"))
	assert.EqualError(t, err, `line 2: bad iters "zz": "bench result name=x iters=zz ns_per_op=1"`)
	_, err = Parse([]byte("bench result name=x iters=1\n"))
	assert.ErrorContains(t, err, "missing ns_per_op")
	_, err = Parse([]byte("bench result name=X! iters=1 ns_per_op=1\n"))
	assert.ErrorContains(t, err, "bad name")
}
