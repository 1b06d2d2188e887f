package tests

// The CI-sized fuzzing campaign (make fuzz runs the long one): fuzzers in rings 1, 2 and 3 at
// once, 70,000 calls each, on a core built with coverage counters. Nothing may crash, hang,
// breach, change a canary or die, and the fuzzers must reach the code that matters (the IPC
// slow and fast paths, grants, the blocking calls...), not only its error returns.

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/inject/fuzzrun"
)

func TestFuzzFromEveryRing(t *testing.T) {
	t.Parallel()
	p := kernelPaths(t)
	cfg := fuzzrun.Config{Paths: p, Seed: 20261204, Calls: 70000, Boots: 1, Coverage: true, Minimise: true, OutDir: t.TempDir()}
	res, err := fuzzrun.Run(context.Background(), cfg)
	require.NoError(t, err)
	t.Log("\n" + fuzzrun.Report(res))
	for _, f := range res.Findings {
		t.Errorf("finding: %s\n%s", f, f.Program)
	}
	assert.GreaterOrEqual(t, res.TotalCalls(), uint64(200_000))
	for _, r := range fuzzrun.Rings {
		assert.GreaterOrEqual(t, res.Calls[r], uint64(70_000), "ring %d", r)
	}

	// Every call was made, and the ones that make resources for the others succeeded.
	for _, name := range []string{"pipe2", "eventfd2", "epoll_create1", "epoll_ctl", "mmap", "munmap", "ipc_lookup", "ipc_call",
		"mmio_map", "event_subscribe", "event_post", "content_read", "content_write", "thread",
		"dup", "getcwd", "umask"} { // file calls that need no file-system server (the campaign runs none)
		s := res.PerCall[name]
		if assert.NotNil(t, s, name) {
			assert.Positive(t, s.OK, "no %s succeeded", name)
		}
	}
	require.NotNil(t, res.Coverage)
	for key, ok := range res.Reached {
		assert.True(t, ok, "the fuzzers never reached %s", key)
	}
	covered, total := fuzzrun.Totals(res.Coverage, func(f fuzzrun.FileCoverage) bool { return f.SyscallLayer })
	base := 0
	for _, f := range res.Coverage {
		if f.SyscallLayer {
			base += f.Baseline
		}
	}
	t.Logf("system-call layer: %d of %d statements with fuzzing, %d without", covered, total, base)
	assert.Greater(t, covered, base+total/10, "fuzzing adds little to what a boot reaches anyway")
}

// The campaign's own machinery: a finding made on purpose (every getppid that succeeds in
// ring 3 is a "breach") is reported with the seed and batch that reproduce it, comes back when
// that batch runs alone, and is cut down to the one call that matters.
func TestFuzzFindingsAreReportedReproducedAndMinimised(t *testing.T) {
	t.Parallel()
	p := kernelPaths(t)
	// 1,000 calls a ring: about eight getppids each, whatever calls the table gains (at 300, a
	// new call once moved every pick and ring 3 made none).
	cfg := fuzzrun.Config{Paths: p, Seed: 5, Calls: 1000, Boots: 1, OutDir: t.TempDir(), FalseBreach: "getppid"}
	res, err := fuzzrun.Run(context.Background(), cfg)
	require.NoError(t, err)
	var f *fuzzrun.Finding
	for i := range res.Findings {
		if res.Findings[i].Kind == "breach" && res.Findings[i].Ring == 3 {
			f = &res.Findings[i]
			break
		}
		t.Errorf("unexpected finding: %s", res.Findings[i])
	}
	require.NotNil(t, f, "the false breach was not reported:\n%s", fuzzrun.Report(res))
	assert.Contains(t, f.What, "getppid")
	assert.Equal(t, fuzzrun.Seed(5, 0, 3), f.Seed)
	assert.NotEmpty(t, f.Program, "the finding comes with its batch's program")

	rr, err := fuzzrun.Repro(context.Background(), cfg, 3, f.Seed, f.Batch, "breach", true, nil)
	require.NoError(t, err)
	require.True(t, rr.Reproduced, "batch %d alone did not reproduce it", f.Batch)
	require.Len(t, rr.Minimal, 1, "minimal program: %q", rr.Minimal)
	assert.Regexp(t, `^getppid `, rr.Minimal[0])
	t.Logf("%d steps cut down to %q in %d boots", len(rr.Program), rr.Minimal, rr.Boots)
}
