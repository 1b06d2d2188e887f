package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSizes(t *testing.T) {
	for in, want := range map[string]uint64{"32MiB": 32 << 20, "512KiB": 512 << 10, "1GiB": 1 << 30, "4M": 4 << 20, "65536": 65536, " 2 MiB ": 2 << 20} {
		n, err := parseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, n, in)
	}
	for _, in := range []string{"", "MiB", "-1MiB", "12x", "100", "2TiB", "2048G", "1.5MiB"} {
		_, err := parseSize(in)
		assert.Error(t, err, in)
	}
	assert.Equal(t, "64 MiB", formatSize(64<<20))
	assert.Equal(t, "33 MiB", formatSize(33<<20))
	assert.Equal(t, "1 GiB", formatSize(1<<30))
	assert.Equal(t, "1536 KiB", formatSize(1536<<10))
	assert.Equal(t, "1000 bytes", formatSize(1000))
	var f sizeFlag
	require.NoError(t, f.Set("16MiB"))
	assert.Equal(t, "16 MiB", f.String())
	assert.Error(t, f.Set("lots"))
}
