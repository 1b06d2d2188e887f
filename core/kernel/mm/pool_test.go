package mm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPoolKeepsTheCoresReserve(t *testing.T) {
	p := Pool{Total: 100, Keep: 20}
	var a, b Share
	require.True(t, p.Admit(&a, 10, 1000))
	require.True(t, p.Admit(&b, 10, 1000))
	n := 0
	for p.Take(&a) {
		n++
	}
	assert.Equal(t, 70, n, "a task takes its reservation and what nobody was promised, not the core's reserve")
	for i := 0; i < 10; i++ {
		assert.True(t, p.Take(&b), "what b was promised is still b's")
	}
	assert.False(t, p.Take(&b), "beyond its reservation, b finds nothing left")
	for i := 0; i < 20; i++ {
		assert.True(t, p.Take(nil), "the core's reserve is the core's")
	}
	assert.False(t, p.Take(nil))
	assert.Equal(t, int64(100), p.used)
}

func TestPoolAdmitsOnlyWhatItCanPromise(t *testing.T) {
	p := Pool{Total: 100, Keep: 20}
	var a, b, c Share
	require.True(t, p.Admit(&a, 50, 60))
	assert.False(t, p.Admit(&b, 31, 60), "80 free, 50 promised, 20 kept: 30 left to promise")
	require.True(t, p.Admit(&b, 30, 60))
	assert.False(t, p.Admit(&c, 1, 10))
	assert.False(t, p.Admit(&c, 5, 4), "a reservation above the limit")
	// The core may still take what nobody was promised: its reserve.
	for i := 0; i < 20; i++ {
		require.True(t, p.Take(nil))
	}
	assert.False(t, p.Take(nil), "the rest is promised")
	p.Release(&a)
	assert.True(t, p.Take(nil), "a's reservation is free again")
}

func TestPoolLimitAndGiveBack(t *testing.T) {
	p := Pool{Total: 10}
	var a Share
	require.True(t, p.Admit(&a, 2, 3))
	assert.True(t, p.Take(&a))
	assert.True(t, p.Take(&a))
	assert.True(t, p.Take(&a))
	assert.False(t, p.Take(&a), "its limit")
	p.Give(&a)
	p.Give(&a)
	p.Give(&a)
	assert.Equal(t, int64(0), p.used)
	assert.Equal(t, int64(2), p.promised, "given back into its reservation")
	p.Release(&a)
	assert.Equal(t, int64(0), p.promised)
	assert.Equal(t, int64(10), p.Headroom())
}
