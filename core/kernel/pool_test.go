package kernel

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPoolKeepsTheCoresReserve(t *testing.T) {
	p := pool{total: 100, keep: 20}
	var a, b share
	require.True(t, p.admit(&a, 10, 1000))
	require.True(t, p.admit(&b, 10, 1000))
	n := 0
	for p.take(&a) {
		n++
	}
	assert.Equal(t, 70, n, "a task takes its reservation and what nobody was promised, not the core's reserve")
	for i := 0; i < 10; i++ {
		assert.True(t, p.take(&b), "what b was promised is still b's")
	}
	assert.False(t, p.take(&b), "beyond its reservation, b finds nothing left")
	for i := 0; i < 20; i++ {
		assert.True(t, p.take(nil), "the core's reserve is the core's")
	}
	assert.False(t, p.take(nil))
	assert.Equal(t, int64(100), p.used)
}

func TestPoolAdmitsOnlyWhatItCanPromise(t *testing.T) {
	p := pool{total: 100, keep: 20}
	var a, b, c share
	require.True(t, p.admit(&a, 50, 60))
	assert.False(t, p.admit(&b, 31, 60), "80 free, 50 promised, 20 kept: 30 left to promise")
	require.True(t, p.admit(&b, 30, 60))
	assert.False(t, p.admit(&c, 1, 10))
	assert.False(t, p.admit(&c, 5, 4), "a reservation above the limit")
	// The core may still take what nobody was promised: its reserve.
	for i := 0; i < 20; i++ {
		require.True(t, p.take(nil))
	}
	assert.False(t, p.take(nil), "the rest is promised")
	p.release(&a)
	assert.True(t, p.take(nil), "a's reservation is free again")
}

func TestPoolLimitAndGiveBack(t *testing.T) {
	p := pool{total: 10}
	var a share
	require.True(t, p.admit(&a, 2, 3))
	assert.True(t, p.take(&a))
	assert.True(t, p.take(&a))
	assert.True(t, p.take(&a))
	assert.False(t, p.take(&a), "its limit")
	p.give(&a)
	p.give(&a)
	p.give(&a)
	assert.Equal(t, int64(0), p.used)
	assert.Equal(t, int64(2), p.promised, "given back into its reservation")
	p.release(&a)
	assert.Equal(t, int64(0), p.promised)
	assert.Equal(t, int64(10), p.headroom())
}
