package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/bench/linux"
	"github.com/simpleos/simpleos/bench/result"
	"github.com/simpleos/simpleos/boot"
)

// linuxBenchmarks are the results bench/guest prints on Linux (every one of its benchmarks).
var linuxBenchmarks = []string{
	"pipe/roundtrip/process",
	"pipe/roundtrip/thread",
	"futex/roundtrip/thread",
	"syscall/getppid",
	"sched/yield",
	"pagefault/first-touch",
	"disk/seq-write", // Linux's virtio-blk on /dev/vda, O_DIRECT (bench/guest/disk.go)
	"disk/seq-read",
	"disk/rand-read-4k",
}

// TestLinuxBaseline fetches Debian's cloud kernel, boots it under TCG with bench/guest -quick
// as /init and checks that every benchmark printed a well-formed result. It asserts no
// figure: the numbers are the baseline, not a property of SimpleOS.
func TestLinuxBaseline(t *testing.T) {
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("apt-get is not available: the Linux baseline needs Debian's kernel package (a Debian or Ubuntu host)")
	}
	if _, err := exec.LookPath(boot.DefaultQEMU); err != nil {
		t.Fatalf("the Linux baseline boots %s: install it with `scripts/deps bench` (make test does)", boot.DefaultQEMU)
	}
	wd, err := os.Getwd()
	require.NoError(t, err)
	root, err := boot.FindRoot(wd)
	require.NoError(t, err)

	start := time.Now()
	results, out, err := linux.Run(context.Background(), linux.RunOptions{
		Dir:     filepath.Join(root, "build", "bench", "linux"),
		Root:    root,
		Quick:   true,
		Accel:   boot.AccelTCG,
		Timeout: 5 * time.Minute,
		Log:     t.Output(),
	})
	t.Logf("Linux boot and quick run under TCG: %v\n%s", time.Since(start).Round(time.Millisecond), out)
	require.NoError(t, err)

	byName := map[string]result.Result{}
	for _, r := range results {
		byName[r.Name] = r
	}
	for _, name := range linuxBenchmarks {
		r, ok := byName[name]
		if assert.True(t, ok, "no result line for %s", name) {
			assert.Positive(t, r.Iters, name)
			assert.NotEmpty(t, r.Samples, name)
		}
	}
	assert.Len(t, results, len(linuxBenchmarks), "one line per benchmark")
}
