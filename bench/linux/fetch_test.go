package linux

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDepends(t *testing.T) {
	out := []byte("linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64\n")
	pkg, ok := parseDepends(out)
	require.True(t, ok)
	assert.Equal(t, "linux-image-6.1.0-56-cloud-amd64", pkg)

	out = []byte("linux-image-cloud-amd64\n  Depends: <initramfs-tools>\n |Depends: linux-image-6.12.9-cloud-amd64\n  Recommends: firmware\n")
	pkg, ok = parseDepends(out)
	require.True(t, ok)
	assert.Equal(t, "linux-image-6.12.9-cloud-amd64", pkg)

	_, ok = parseDepends([]byte("linux-image-cloud-amd64\n  Recommends: linux-image-x\n"))
	assert.False(t, ok)
}

func TestAptError(t *testing.T) {
	err := aptError("apt-cache depends x", errors.New("exit status 100"), []byte("E: No packages found\n"))
	assert.ErrorIs(t, err, ErrNoAptLists)
	assert.ErrorContains(t, err, "sudo apt-get update")
	err = aptError("apt-get download x", errors.New("exit status 100"), []byte("E: Unable to locate package x\n"))
	assert.ErrorIs(t, err, ErrNoAptLists)

	err = aptError("apt-get download x", errors.New("exit status 100"), []byte("E: Failed to fetch http://deb.debian.org/...  Temporary failure resolving\n"))
	assert.NotErrorIs(t, err, ErrNoAptLists)
	assert.ErrorContains(t, err, "Temporary failure resolving")
}

func TestPackageNames(t *testing.T) {
	assert.Equal(t, "6.1.192-2", debVersion("/d/linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb"))
	assert.Equal(t, "1:2.0", debVersion("x_1%3a2.0_amd64.deb"))
	assert.Equal(t, "", debVersion("odd.deb"))
	assert.Equal(t, "6.1.0-56-cloud-amd64", release("linux-image-6.1.0-56-cloud-amd64"))
	assert.Equal(t, "6.1.0-56-cloud-amd64", release("linux-image-6.1.0-56-cloud-amd64-unsigned"))
}

func TestCache(t *testing.T) {
	dir := t.TempDir()
	const older, newer = "linux-image-6.1.0-9-cloud-amd64", "linux-image-6.1.0-10-cloud-amd64"
	_, ok := newestCached(dir)
	assert.False(t, ok)

	require.NoError(t, os.MkdirAll(filepath.Join(dir, "boot"), 0o755))
	for i, pkg := range []string{older, newer} {
		require.NoError(t, os.WriteFile(vmlinuz(dir, pkg), []byte("kernel"), 0o644))
		assert.Zero(t, cachedKernel(dir, pkg), "no stamp: the unpack may be incomplete")
		stamp := stampPath(dir, pkg)
		require.NoError(t, os.WriteFile(stamp, []byte("6.1.1-1\n"), 0o644))
		when := time.Now().Add(time.Duration(i-2) * time.Hour)
		require.NoError(t, os.Chtimes(stamp, when, when))
	}
	k := cachedKernel(dir, older)
	assert.Equal(t, Kernel{Path: filepath.Join(dir, "boot", "vmlinuz-6.1.0-9-cloud-amd64"), Release: "6.1.0-9-cloud-amd64", Package: older, PackageVersion: "6.1.1-1"}, k)

	k, ok = newestCached(dir)
	require.True(t, ok)
	assert.Equal(t, newer, k.Package, "the one unpacked last")

	require.NoError(t, os.Remove(vmlinuz(dir, newer)))
	k, ok = newestCached(dir)
	require.True(t, ok)
	assert.Equal(t, older, k.Package)
}
