package boot

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProbeKVM(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "kvm")
	writeTree(t, dir, map[string]string{
		"kvm":         "",
		"cpuinfo-vmx": "processor\t: 0\nflags\t\t: fpu vme vmx sse2\n",
		"cpuinfo-svm": "flags\t\t: fpu svm\n",
		"cpuinfo-no":  "processor\t: 0\nflags\t\t: fpu vme sse2 hypervisor\nvmx flags\t: ept\n",
	})

	ok, _ := probeKVM(dev, filepath.Join(dir, "cpuinfo-vmx"))
	assert.True(t, ok)
	ok, _ = probeKVM(dev, filepath.Join(dir, "cpuinfo-svm"))
	assert.True(t, ok)

	ok, why := probeKVM(dev, filepath.Join(dir, "cpuinfo-no"))
	assert.False(t, ok, "a /dev/kvm without vmx/svm (nested software hypervisor) is not usable")
	assert.Contains(t, why, "no vmx/svm")

	ok, why = probeKVM(filepath.Join(dir, "missing"), filepath.Join(dir, "cpuinfo-vmx"))
	assert.False(t, ok)
	assert.Contains(t, why, "missing")
}

func TestResolveAccel(t *testing.T) {
	usable := func() (bool, string) { return true, "" }
	unusable := func() (bool, string) { return false, "no vmx/svm in /proc/cpuinfo" }

	accel, note, err := resolveAccel("auto", usable)
	require.NoError(t, err)
	assert.Equal(t, "kvm", accel)
	assert.Empty(t, note)

	accel, note, err = resolveAccel("", unusable)
	require.NoError(t, err)
	assert.Equal(t, "tcg", accel)
	assert.Equal(t, "simpleos: KVM not usable here (no vmx/svm in /proc/cpuinfo); using TCG emulation", note)

	accel, _, err = resolveAccel("tcg", usable)
	require.NoError(t, err)
	assert.Equal(t, "tcg", accel)

	accel, _, err = resolveAccel("kvm", usable)
	require.NoError(t, err)
	assert.Equal(t, "kvm", accel)

	_, _, err = resolveAccel("kvm", unusable)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no vmx/svm")

	_, _, err = resolveAccel("hax", usable)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"hax"`)
}
