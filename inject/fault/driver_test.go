package fault

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDriverClasses(t *testing.T) {
	cs := DriverClasses()
	require.Equal(t, []string{DMAWild, DMAStale, DeviceHang, CrashMidWrite}, cs)
	for _, c := range cs {
		assert.True(t, Known(c), c)
		assert.True(t, IsDriver(c), c)
		assert.False(t, IsExternal(c), c)
		assert.NotContains(t, Classes(), c, "not a module class")
		_, err := Inject(c, Targets{}, 1)
		assert.ErrorContains(t, err, "driver class", c)
	}
	assert.False(t, IsDriver(NullDeref))

	// Arm hands a driver class back to the driver instead of running it.
	s := Spec{Class: DMAWild, Delay: 300e6, Seed: 9, Targets: Targets{CoreAddr: 0x57a4000}}
	saved := os.Args
	defer func() { os.Args = saved }()
	os.Args = []string{"blk", "--x", s.Arg()}
	got, ok := Arm()
	require.True(t, ok)
	assert.Equal(t, s, got)
	assert.Equal(t, []string{"blk", "--x"}, os.Args)

	os.Args = []string{"sensor"}
	_, ok = Arm()
	assert.False(t, ok)
}

func TestFSClasses(t *testing.T) {
	cs := FSClasses()
	require.Equal(t, []string{FSCrashMidWrite, FSCorruptRead, FSHang}, cs)
	for _, c := range cs {
		assert.True(t, Known(c), c)
		assert.True(t, IsFS(c), c)
		assert.True(t, IsCommittedByModule(c), c)
		assert.False(t, IsDriver(c), c)
		assert.False(t, IsExternal(c), c)
		_, err := Inject(c, Targets{}, 1)
		assert.ErrorContains(t, err, "file-system class", c)
	}
	s := Spec{Class: FSCorruptRead, Delay: 300e6, Seed: 3}
	saved := os.Args
	defer func() { os.Args = saved }()
	os.Args = []string{"fs", s.Arg(), "--workers=2"}
	got, ok := Arm()
	require.True(t, ok)
	assert.Equal(t, s, got)
	assert.Equal(t, []string{"fs", "--workers=2"}, os.Args)
}
