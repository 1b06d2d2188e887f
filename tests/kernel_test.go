// Package tests boots the real SimpleOS kernel in QEMU (TCG unless KVM really works) and checks
// what it prints on the serial console and the exit status it sets.
package tests

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
)

var (
	buildOnce sync.Once
	paths     boot.Paths
	buildErr  error
)

// kernelPaths builds the image once per test binary (rebuilding only when sources changed).
func kernelPaths(t *testing.T) boot.Paths {
	t.Helper()
	if _, err := exec.LookPath(boot.DefaultQEMU); err != nil {
		t.Fatalf("these tests boot the kernel and need %s: install it with `scripts/deps test` (make test does)", boot.DefaultQEMU)
	}
	buildOnce.Do(func() {
		wd, err := os.Getwd()
		if err != nil {
			buildErr = err
			return
		}
		root, err := boot.FindRoot(wd)
		if err != nil {
			buildErr = err
			return
		}
		paths = boot.DefaultPaths(root)
		buildErr = boot.EnsureBuilt(paths, os.Stderr)
	})
	require.NoError(t, buildErr)
	return paths
}

// bootKernel boots the core with the given command line and returns the launcher's result.
func bootKernel(t *testing.T, cmdline string, timeout time.Duration) boot.Result {
	t.Helper()
	p := kernelPaths(t)
	res, err := boot.Run(context.Background(), boot.Options{
		Image:   p.Image,
		Modules: []string{p.ELF},
		Append:  cmdline,
		Timeout: timeout,
	})
	require.NoError(t, err)
	t.Logf("%s: status %d after %v (%s)\n%s", cmdline, res.Status, res.Duration.Round(time.Millisecond), res.Accel, res.Output)
	return res
}

// field extracts an integer key=value from the line matching prefix.
func field(t *testing.T, out []byte, pattern string) []int {
	t.Helper()
	m := regexp.MustCompile(pattern).FindSubmatch(out)
	require.NotNil(t, m, "no line matching %q in output", pattern)
	var vals []int
	for _, s := range m[1:] {
		v, err := strconv.Atoi(string(s))
		require.NoError(t, err)
		vals = append(vals, v)
	}
	return vals
}
