package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNamesRoundTrip(t *testing.T) {
	for _, name := range []string{"x", "MSSE-1001-server", "C-00000291-00000002.sys", strings.Repeat("n", 24)} {
		w, err := EncodeName(name)
		require.NoError(t, err)
		assert.Equal(t, name, DecodeName(w))
	}
	_, err := EncodeName("")
	assert.EqualError(t, err, "names are 1 to 24 bytes, not 0")
	_, err = EncodeName(strings.Repeat("n", 25))
	assert.EqualError(t, err, "names are 1 to 24 bytes, not 25")

	a, err := PipeArgs("PSEXESVC", 7)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), a[3])
	assert.Equal(t, "PSEXESVC", PipeName(a))
}
