package supervisor

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRestartRules(t *testing.T) {
	tests := []struct {
		rule    Restart
		end     End
		restart bool
		why     string
	}{
		{Always, exited(0, 5), true, "restart in 10ms (exited 0, rule always)"},
		{Always, exited(1, 5), true, "restart now (1st consecutive failure"},
		{Always, faulted(5), true, "restart now (1st consecutive failure"},
		{OnFailure, exited(0, 5), false, "not restarted: exited 0 (rule on-failure)"},
		{OnFailure, exited(1, 5), true, "restart now (1st consecutive failure"},
		{OnFailure, End{Reason: Panicked, Code: 2, Detail: "nil map", At: at(5)}, true, "restart now"},
		{Never, exited(0, 5), false, "not restarted: rule never (exited 0)"},
		{Never, faulted(5), false, "not restarted: rule never (faulted: page fault at pc 0x401000, address 0x0)"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%v/%v", tc.rule, tc.end), func(t *testing.T) {
			tr := NewTracker(Rules{Restart: tc.rule, Backoff: fastBackoff, CrashBudget: 5, CrashWindow: 10 * time.Second})
			tr.Started(at(0))
			d := tr.Ended(tc.end)
			assert.Equal(t, tc.restart, d.Restart)
			assert.False(t, d.Quarantined)
			assert.Contains(t, d.Why, tc.why)
			switch {
			case tc.restart && tc.end.Clean():
				assert.Equal(t, 10*time.Millisecond, d.Delay, "a clean exit still waits Initial: it cannot spin")
			case tc.restart:
				assert.Zero(t, d.Delay, "a first failure is restarted at once: the backoff is for loops")
			default:
				assert.Zero(t, d.Delay)
			}
			assert.Equal(t, !tc.end.Clean(), tr.Crashes() == 1, "only unclean ends count as crashes")
		})
	}
}

// crashNow starts the task at ms and has it fault 1 ms later.
func crashNow(tr *Tracker, ms int) Decision {
	tr.Started(at(ms))
	return tr.Ended(faulted(ms + 1))
}

func TestBackoffDoublesAndCaps(t *testing.T) {
	tr := NewTracker(Rules{Restart: Always, Backoff: Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond, ResetAfter: 10 * time.Second}})
	var delays []time.Duration
	for i := range 6 {
		d := crashNow(tr, i*1000)
		require.True(t, d.Restart)
		delays = append(delays, d.Delay)
		if i == 3 {
			assert.Equal(t, "restart in 40ms (4th consecutive failure)", d.Why, "no budget, so no budget words")
		}
	}
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{0, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 100 * ms}, delays)
}

func TestBackoffResetsAfterALongHealthyRun(t *testing.T) {
	tr := NewTracker(Rules{Restart: Always, Backoff: fastBackoff})
	for i := range 3 {
		crashNow(tr, i*100) // 0, 10, 20 ms
	}

	// Just short of ResetAfter: still the same failure loop.
	tr.Started(at(1000))
	d := tr.Ended(faulted(1000 + 9999))
	assert.Equal(t, 40*time.Millisecond, d.Delay)
	assert.Contains(t, d.Why, "4th consecutive failure")

	// Exactly ResetAfter of healthy running: a new, first failure, restarted at once.
	tr.Started(at(20000))
	d = tr.Ended(faulted(30000))
	assert.Zero(t, d.Delay)
	assert.Contains(t, d.Why, "restart now (1st consecutive failure")
	assert.Equal(t, 5, tr.Crashes())
}

func TestCleanExitResetsBackoff(t *testing.T) {
	tr := NewTracker(Rules{Restart: Always, Backoff: fastBackoff})
	crashNow(tr, 0)
	crashNow(tr, 100)
	tr.Started(at(200))
	assert.Equal(t, 10*time.Millisecond, tr.Ended(exited(0, 201)).Delay)
	assert.Zero(t, crashNow(tr, 300).Delay, "after a clean exit a crash is a first failure again")
}

func TestBackoffDelayEdges(t *testing.T) {
	assert.Zero(t, Backoff{}.delay(50), "no initial delay: restart at once")
	assert.Zero(t, Backoff{Initial: time.Second}.delay(1), "a first failure waits nothing")
	assert.Equal(t, 1024*time.Millisecond, Backoff{Initial: time.Millisecond}.delay(12), "Max 0: no cap")
	assert.Equal(t, time.Duration(1<<63-1), Backoff{Initial: time.Second}.delay(1000), "saturates instead of overflowing")
	assert.Equal(t, time.Second, Backoff{Initial: 2 * time.Second, Max: time.Second}.delay(2), "Max caps even Initial")
}

func TestCrashBudgetBoundary(t *testing.T) {
	rules := Rules{Restart: Always, Backoff: fastBackoff, CrashBudget: 3, CrashWindow: 10 * time.Second}

	t.Run("N-1 crashes within T restart, the Nth quarantines", func(t *testing.T) {
		tr := NewTracker(rules)
		d := crashNow(tr, 0)
		assert.True(t, d.Restart)
		d = crashNow(tr, 1000)
		assert.True(t, d.Restart)
		assert.Equal(t, "restart in 10ms (2nd consecutive failure; 2 crashes within 10s, quarantine at 3)", d.Why)
		assert.False(t, tr.Quarantined())

		d = crashNow(tr, 9000) // crash at 9001 ms: 9 s after the first
		assert.False(t, d.Restart)
		assert.Zero(t, d.Delay)
		assert.True(t, d.Quarantined)
		assert.True(t, tr.Quarantined())
		assert.Equal(t, "quarantined: 3 crashes within 10s (last: faulted: page fault at pc 0x401000, address 0x0)", d.Why)
	})

	t.Run("a crash exactly T ago has left the window", func(t *testing.T) {
		tr := NewTracker(rules)
		crashNow(tr, 0)          // at 1 ms
		crashNow(tr, 5000)       // at 5001 ms
		d := crashNow(tr, 10000) // at 10001 ms: exactly 10 s after the first
		assert.True(t, d.Restart)
		assert.Contains(t, d.Why, "2 crashes within 10s")
		assert.True(t, crashNow(tr, 10001).Quarantined, "but 5001, 10001, 10002 are within")
	})

	t.Run("crashes spread over more than T never quarantine", func(t *testing.T) {
		tr := NewTracker(rules)
		for i := range 100 {
			d := crashNow(tr, i*5001) // any three span 10.002 s
			require.True(t, d.Restart, "crash %d", i+1)
		}
		assert.False(t, tr.Quarantined())
		assert.Equal(t, 100, tr.Crashes())
	})
}

func TestQuarantineIsSticky(t *testing.T) {
	tr := NewTracker(Rules{Restart: Always, Backoff: fastBackoff, CrashBudget: 2, CrashWindow: time.Second})
	crashNow(tr, 0)
	first := crashNow(tr, 10)
	require.True(t, first.Quarantined)

	// Even a clean exit, long after the window, does not lift it.
	tr.Started(at(60000))
	again := tr.Ended(exited(0, 120000))
	assert.True(t, again.Quarantined)
	assert.False(t, again.Restart)
	assert.Equal(t, first.Why, again.Why, "the original reason is kept")
	assert.True(t, tr.Quarantined())
	assert.Equal(t, 2, tr.Crashes())
}

func TestEveryUncleanEndIsACrash(t *testing.T) {
	for _, e := range []End{
		{Reason: Killed, Detail: "CPU budget exceeded: 1.2s of 1s"},
		{Reason: Killed, Detail: "by request"},
		{Reason: Exited, Code: 1},
		{Reason: Panicked, Code: 2},
		{Reason: Faulted, Fault: "general protection"},
	} {
		tr := NewTracker(Rules{Restart: OnFailure, Backoff: fastBackoff, CrashBudget: 2, CrashWindow: time.Second})
		for i := range 2 {
			tr.Started(at(i * 100))
			e.At = at(i*100 + 1)
			d := tr.Ended(e)
			assert.Equal(t, i == 1, d.Quarantined, "%v, crash %d", e, i+1)
		}
		assert.Equal(t, 2, tr.Crashes(), "%v", e)
	}
}

func TestZeroCrashBudgetNeverQuarantines(t *testing.T) {
	tr := NewTracker(Rules{Restart: Always})
	for i := range 1000 {
		d := tr.Ended(faulted(i)) // not even started: still handled
		require.True(t, d.Restart)
		assert.Zero(t, d.Delay, "zero backoff restarts at once")
	}
	assert.False(t, tr.Quarantined())
	assert.Equal(t, 1000, tr.Crashes())
}

func TestZeroCrashWindowCountsCrashesForever(t *testing.T) {
	tr := NewTracker(Rules{Restart: Always, CrashBudget: 3})
	hour := 3600 * 1000
	assert.True(t, crashNow(tr, 0).Restart)
	assert.True(t, crashNow(tr, hour).Restart)
	d := crashNow(tr, 24*hour)
	assert.True(t, d.Quarantined)
	assert.Equal(t, "quarantined: 3 crashes (last: faulted: page fault at pc 0x401000, address 0x0)", d.Why)
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 101: "101st", 111: "111th"} {
		assert.Equal(t, want, ordinal(n))
	}
}
