package tests

// Reboots and safe mode (issue 13 item 4): with crash=reboot a crashed core resets the machine,
// which boots again and crashes again, until the launcher stops the loop after N reboots; a
// safemode boot starts no third-party module, so the machine comes up for its repair.

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
)

var cf291Crash = regexp.MustCompile(`^CORE CRASH: page fault \(#PF\) in github\.com/simpleos/simpleos/tier2/sensor/content\.\w+\+0x[0-9a-f]+: unexpected fault address 0xdead0000`)

// checkBootLoop checks a run the launcher stopped after 2 reboots, each boot having crashed.
func checkBootLoop(t *testing.T, res boot.Result) {
	t.Helper()
	assert.True(t, res.BootLoop, "the launcher stops the loop")
	assert.False(t, res.TimedOut)
	assert.Equal(t, boot.StatusCrashed, res.Status)
	assert.Equal(t, 2, res.Reboots)
	assert.Regexp(t, `boot loop: 2 reboots in \d+\.\d s`, res.Note)
	require.Len(t, res.Boots, 3, "two crashed boots and the one the launcher cut short")
	for i, b := range res.Boots[:2] {
		assert.Regexp(t, cf291Crash, b.Crash, "boot %d", i+1)
	}
	assert.Greater(t, res.Boots[2].Start, res.Boots[1].Start)
	assert.Equal(t, 2, strings.Count(string(res.Output), "kernel: resetting the machine (crash=reboot)"))
}

func TestCrashRebootSelftestLoopsUntilTheLauncherStops(t *testing.T) {
	p := kernelPaths(t)
	res, err := boot.Run(context.Background(), boot.Options{
		Image:   p.Image,
		Modules: []string{p.ELF},
		Append:  "selftest=cf291:monolithic crash=reboot",
		Timeout: time.Minute,
		Reboots: 2,
	})
	require.NoError(t, err)
	t.Logf("status %d after %v: %s\n%s", res.Status, res.Duration.Round(time.Millisecond), res.Note, res.Output)
	checkBootLoop(t, res)

	// Without reboots allowed the reset ends QEMU (-no-reboot): still a crash, as before.
	res = bootKernel(t, "selftest=cf291:monolithic crash=reboot", time.Minute)
	assert.Equal(t, boot.StatusCrashed, res.Status)
	assert.True(t, res.Crashed)
	assert.Len(t, res.Boots, 1)
	assert.Contains(t, string(res.Output), "kernel: resetting the machine (crash=reboot)")
}

// lineWatch cancels a boot once its console has shown a line matching stop.
type lineWatch struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	stop   *regexp.Regexp
	cancel context.CancelFunc
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.stop.Match(w.buf.Bytes()) {
		w.cancel()
	}
	return len(p), nil
}

// bootSystem boots the whole system (the bundled modules, policy/system.policy) with cmdline
// and reboots, stopping early once the console shows stop (nil: run to the end).
func bootSystem(t *testing.T, cmdline string, reboots int, stop *regexp.Regexp) boot.Result {
	t.Helper()
	o, err := boot.System(kernelPaths(t), boot.SystemSpec{Append: cmdline}, nil)
	require.NoError(t, err)
	o.Timeout, o.Reboots = time.Minute, reboots
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if stop != nil {
		o.Stdout = &lineWatch{stop: stop, cancel: cancel}
	}
	res, err := boot.Run(ctx, o)
	require.NoError(t, err)
	t.Logf("%q: status %d after %v: %s\n%s", cmdline, res.Status, res.Duration.Round(time.Millisecond), res.Note, res.Output)
	return res
}

func TestMonolithicSensorBootLoop(t *testing.T) {
	// Every boot: the updater delivers the bad channel file, the sensor in ring 0 reads
	// field 21 and the core dies; the machine resets and it all happens again.
	res := bootSystem(t, "sensor=monolithic crash=reboot", 2, nil)
	checkBootLoop(t, res)
	assert.GreaterOrEqual(t, strings.Count(string(res.Output), "core: sensor linked into the core (monolithic)"), 2,
		"the in-core sensor ran on each crashed boot")
}

func TestSafeModeStartsNoThirdPartyModule(t *testing.T) {
	// Stop once the app has done some work: a started sensor or updater would have shown
	// itself by then (the updater's first offer comes at 0.3 s).
	working := regexp.MustCompile(`\[app\] app: 20/120 pipes created`)
	for _, c := range []struct{ cmdline, line string }{
		{"safemode", "safemode: third-party modules not started: sensor, updater\n"},
		{"safemode sensor=monolithic crash=reboot", "safemode: third-party modules not started: sensor (in the core, sensor=monolithic), updater\n"},
	} {
		t.Run(c.cmdline, func(t *testing.T) {
			res := bootSystem(t, c.cmdline, 2, working)
			out := string(res.Output)
			assert.Contains(t, out, c.line)
			assert.Regexp(t, working, out, "the system's own modules run")
			assert.Contains(t, out, "[pipesvc] pipesvc: serving pipes")
			for _, not := range []string{"[sensor]", "[updater]", "core: sensor", "app sensor", "app updater", "CORE CRASH"} {
				assert.NotContains(t, out, not)
			}
			assert.Len(t, res.Boots, 1, "no reboot")
		})
	}
}
