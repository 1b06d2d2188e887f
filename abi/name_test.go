package abi

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNamesOfFullLengthCompareByEveryByte(t *testing.T) {
	a, ok := MakeName(strings.Repeat("a", NameMax))
	require.True(t, ok)
	b, ok := MakeName(strings.Repeat("a", NameMax-1) + "b")
	require.True(t, ok)
	assert.False(t, a.Equal(&b), "32-byte names differing in the last byte")
	c := a
	assert.True(t, a.Equal(&c))
	d, _ := MakeName("b" + strings.Repeat("a", NameMax-1))
	assert.False(t, a.Equal(&d), "32-byte names differing in the first byte")
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"console", "pipe.created", "sensor.chan.lkg", "a_b-c", strings.Repeat("x", NameMax)} {
		assert.NoError(t, CheckName(ok), ok)
		n, valid := MakeName(ok)
		assert.True(t, valid)
		assert.True(t, n.Valid())
		assert.Equal(t, ok, n.String())
	}
	for _, bad := range []string{"", strings.Repeat("x", NameMax+1), "Console", "a b", "a\nb", "a/b", "x\x00", "\xff"} {
		assert.Error(t, CheckName(bad), "%q", bad)
		_, valid := MakeName(bad)
		assert.False(t, valid)
	}
	var n Name
	assert.False(t, n.Valid(), "the zero name")
	n.Len = NameMax + 1
	assert.False(t, n.Valid())
	assert.Equal(t, "", n.String())
}
