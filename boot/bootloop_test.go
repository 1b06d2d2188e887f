package boot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serialBoot is one boot as the console shows when the core crashes at every boot with crash=reboot.
const serialBoot = "\nSimpleOS core: 64-bit entry\r\nSimpleOS core: 207 MiB usable\r\ncore: sensor linked into the core\r\n" +
	"[app] app: 10/120 pipes created\r\n   /usr/local/go/src/runtime/panic.go:1229 fp=0xc0CORE CRASH: page fault (#PF) in content.GlobMatch+0x52: unexpected fault address 0xdead0000\r\n" +
	"  vector 14\r\nCORE CRASH END\r\nkernel: resetting the machine (crash=reboot)\r\n"

func TestBootWatchCountsBootsAndStopsAtTheLimit(t *testing.T) {
	now := time.Duration(0)
	w := newBootWatch(2, func() time.Duration { return now })
	stream := strings.Repeat(serialBoot, 2) + "\x1bc\x1b[2J\nSimpleOS core: 64-bit entry\n" + serialBoot
	// Fed in small uneven pieces, as a pipe delivers it; the clock advances as it arrives.
	for i := 0; i < len(stream); i += 7 {
		now += time.Millisecond
		_, err := w.Write([]byte(stream[i:min(i+7, len(stream))]))
		require.NoError(t, err)
		if i+7 < len(stream) && strings.Count(stream[:i+7], BootMarker) <= 2 {
			select {
			case <-w.limit:
				t.Fatalf("limit reached after %d bytes, with %d boots", i+7, len(w.result()))
			default:
			}
		}
	}
	select {
	case <-w.limit:
	default:
		t.Fatal("the third boot did not reach the limit of 2 reboots")
	}
	boots := w.result()
	require.Len(t, boots, 4, "counting goes on; Run stops QEMU at the first signal")
	for i, b := range boots {
		if i < 2 || i == 3 {
			assert.Equal(t, "CORE CRASH: page fault (#PF) in content.GlobMatch+0x52: unexpected fault address 0xdead0000", b.Crash, "boot %d", i+1)
		}
		if i > 0 {
			assert.Greater(t, b.Start, boots[i-1].Start)
		}
	}
	assert.Empty(t, boots[2].Crash, "the boot after the escape sequences printed no crash")
}

func TestBootWatchWithoutLimitNeverSignals(t *testing.T) {
	w := newBootWatch(0, func() time.Duration { return time.Second })
	_, _ = w.Write([]byte(strings.Repeat(serialBoot, 5)))
	select {
	case <-w.limit:
		t.Fatal("no limit: no signal")
	default:
	}
	assert.Len(t, w.result(), 5)
}

func TestIsBootMarker(t *testing.T) {
	for _, l := range []string{"SimpleOS core: 64-bit entry", "\x1bc\x1b[?7lSimpleOS core: 64-bit entry", "\x00\x07SimpleOS core: 64-bit entry "} {
		assert.True(t, isBootMarker([]byte(l)), "%q", l)
	}
	for _, l := range []string{"[app] SimpleOS core: 64-bit entry", "SimpleOS core: 64-bit entry and more", "SimpleOS core: 207 MiB usable"} {
		assert.False(t, isBootMarker([]byte(l)), "%q", l)
	}
}

func TestRunStopsABootLoop(t *testing.T) {
	// A "QEMU" that reboots for ever: it would never exit on its own.
	script := "while true; do printf '" + strings.ReplaceAll(strings.ReplaceAll(serialBoot, "\n", "\\n"), "\r", "\\r") + "'; sleep 0.05; done"
	qemu, img := fakeQEMU(t, "echo \"$*\" | grep -q -- -no-reboot && exit 99\n"+script)
	res, err := Run(context.Background(), Options{QEMU: qemu, Image: img, Accel: "tcg", Reboots: 2, Timeout: 20 * time.Second})
	require.NoError(t, err)
	assert.False(t, res.TimedOut)
	assert.True(t, res.BootLoop)
	assert.True(t, res.Crashed)
	assert.Equal(t, StatusCrashed, res.Status)
	assert.Equal(t, 2, res.Reboots)
	require.Len(t, res.Boots, 3)
	assert.Regexp(t, `^boot loop: 2 reboots in \d+\.\d s$`, res.Note)
	assert.Contains(t, res.Boots[0].Crash, "CORE CRASH: page fault")
	assert.Less(t, res.Boots[0].Start, res.Boots[2].Start)
}

func TestRunWithoutRebootsKeepsNoReboot(t *testing.T) {
	args, err := Options{Image: "img"}.Args("tcg")
	require.NoError(t, err)
	assert.Contains(t, args, "-no-reboot")
	args, err = Options{Image: "img", Reboots: 3}.Args("tcg")
	require.NoError(t, err)
	assert.NotContains(t, args, "-no-reboot")
	_, err = Options{Image: "img", Reboots: -1}.Args("tcg")
	assert.ErrorContains(t, err, "reboots")

	// One boot, healthy: one Boot, no reboots, no note about them.
	qemu, img := fakeQEMU(t, "printf '\\nSimpleOS core: 64-bit entry\\nbye\\n'\nexit 1")
	res, err := Run(context.Background(), Options{QEMU: qemu, Image: img, Accel: "tcg"})
	require.NoError(t, err)
	assert.Len(t, res.Boots, 1)
	assert.Zero(t, res.Reboots)
	assert.False(t, res.BootLoop)
	assert.Empty(t, res.Note)
}
