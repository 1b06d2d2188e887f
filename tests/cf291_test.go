package tests

// The Channel-File-291 failure on a booted kernel: the same content interpreter and the same
// bad update, in the core (ring 0), in a ring-2 task, and behind the validator.

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCF291MonolithicCrashesTheCoreOnEveryBoot(t *testing.T) {
	t.Parallel()
	for boot := 1; boot <= 2; boot++ { // the same content on disk: the boot loop
		res := bootKernel(t, "selftest=cf291:monolithic", time.Minute)
		assert.Equal(t, 100, res.Status, "boot %d", boot)
		line := regexp.MustCompile(`(?m)^CORE CRASH: .*$`).Find(res.Output)
		require.NotNil(t, line, "boot %d", boot)
		assert.Regexp(t, `^CORE CRASH: page fault \(#PF\) in github\.com/simpleos/simpleos/tier2/sensor/content\.\w+\+0x[0-9a-f]+: unexpected fault address 0xdead0000`, string(line))
	}
}

func TestCF291TieredSensorIsContained(t *testing.T) {
	t.Parallel()
	res := bootApps(t, "", time.Minute, nil, "ring=2 sensorcf291", "heartbeat 10")
	out := string(res.Output)
	assert.Contains(t, out, "[sensorcf291] sensorcf291: applying C-00000291-00000002.sys")
	assert.Regexp(t, `^app sensorcf291 faulted: page fault \(#PF\) at github\.com/simpleos/simpleos/tier2/sensor/content\.\w+\+0x[0-9a-f]+ addr=0xdead0000$`, summary(t, res.Output, "sensorcf291"))
	assert.Equal(t, "app heartbeat exited 0", summary(t, res.Output, "heartbeat"), "the applications keep working")
}

func TestCF291VerifiedUpdateIsRejected(t *testing.T) {
	t.Parallel()
	res := bootKernel(t, "selftest=cf291:verified", time.Minute)
	assert.Equal(t, 0, res.Status)
	assert.Contains(t, string(res.Output), `cf291 verified: update rejected: C-00000291-00000002.sys: instance 7 ("NamedPipeC2") of template type 3 ("IPC") has a non-wildcard criterion on field 21, but the sensor supplies only 20 values`)
	assert.Contains(t, string(res.Output), "cf291 verified: screened 3 pipe events, 1 detections; still up")
}
