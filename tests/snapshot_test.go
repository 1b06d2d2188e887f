package tests

// Post-init snapshots (docs/snapshots.md) on the booted kernel: the core's selftest=snapshot
// restores the snapshotee module 1,000 times through the task API and checks frames and
// sharing; the demo's tiered boot (demo_test.go) checks a restored sensor serving.

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSnapshotRestoresShareNothingWritableAndLeakNoFrame(t *testing.T) {
	t.Parallel()
	res := bootWith(t, "", "selftest=snapshot:1000", 4*time.Minute, nil, "ring=3 snapshotee")
	require.False(t, res.TimedOut)
	out := string(res.Output)
	assert.Equal(t, 0, res.Status, "the self-test failed")
	assert.Regexp(t, `(?m)^snapshot: snapshotee: taken: \d+ pages, [4-9] threads$`, out, "every thread of its runtime is in the snapshot")
	v := field(t, res.Output, `selftest snapshot restores=(\d+) shared-writable=(\d+) leaked-frames=(-?\d+) restore-us=(\d+) stale=dropped cold=ok`)
	assert.Equal(t, 1001, v[0], "a second instance beside the first, then 1,000 restores")
	assert.Zero(t, v[1], "no instance may write a frame another instance or the snapshot holds")
	assert.Zero(t, v[2], "frames outside the core are back to their count before the first start")
	// The first instance and the second (restored) one checked the snapshot's memory and
	// threads; the thousand were killed at once, some in the middle of their checks.
	assert.Regexp(t, `snapshotee: pid \d+ restored=false: heap of 2 MiB intact, 3 threads running, IPC buffer kept`, out)
	assert.Regexp(t, `snapshotee: pid \d+ restored=true: heap of 2 MiB intact, 3 threads running, IPC buffer kept`, out)
	assert.NotContains(t, out, "FAIL")
	assert.NotRegexp(t, regexp.MustCompile(`CORE CRASH|panic`), out)
}
