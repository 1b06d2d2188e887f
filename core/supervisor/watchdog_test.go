package supervisor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func running(r Rules) *Tracker {
	tr := NewTracker(r)
	tr.Started(at(0))
	return tr
}

func TestZeroLimitsNeverKill(t *testing.T) {
	tr := running(Rules{})
	kill, why := tr.Check(at(1000*3600*24), Usage{CPU: 1000 * time.Hour})
	assert.False(t, kill)
	assert.Empty(t, why)

	// CPUPerPeriod without a Period cannot be measured: unlimited (and Validate complains).
	tr = running(Rules{CPUPerPeriod: time.Millisecond})
	kill, _ = tr.Check(at(1000), Usage{CPU: time.Second})
	assert.False(t, kill)
}

func TestNothingToKillWhenNotRunning(t *testing.T) {
	tr := NewTracker(Rules{TotalCPU: time.Millisecond, Heartbeat: time.Millisecond})
	kill, _ := tr.Check(at(1000), Usage{CPU: time.Second})
	assert.False(t, kill, "never started")

	tr.Started(at(0))
	tr.Ended(exited(0, 1))
	kill, _ = tr.Check(at(1000), Usage{CPU: time.Second})
	assert.False(t, kill, "already ended")
}

func TestTotalCPUBudget(t *testing.T) {
	tr := running(Rules{TotalCPU: time.Second})
	kill, _ := tr.Check(at(5000), Usage{CPU: time.Second})
	assert.False(t, kill, "exactly the budget is allowed")

	kill, why := tr.Check(at(6000), Usage{CPU: 1200 * time.Millisecond})
	assert.True(t, kill)
	assert.Equal(t, "CPU budget exceeded: 1.2s of 1s", why)

	tr.Started(at(7000))
	kill, _ = tr.Check(at(8000), Usage{CPU: 500 * time.Millisecond})
	assert.False(t, kill, "a new instance has its own budget")
}

// steadyLoad checks a task that uses share of every period, sampling every step until end,
// and returns when it was killed (-1 if never) and why.
func steadyLoad(tr *Tracker, share float64, step, end time.Duration) (time.Duration, string) {
	for now := step; now <= end; now += step {
		cpu := time.Duration(share * float64(now))
		if kill, why := tr.Check(epoch.Add(now), Usage{CPU: cpu}); kill {
			return now, why
		}
	}
	return -1, ""
}

func TestCPUPerPeriodBudget(t *testing.T) {
	rules := Rules{CPUPerPeriod: 500 * time.Millisecond, Period: time.Second}

	t.Run("60% of each second with a 50% budget is killed", func(t *testing.T) {
		when, why := steadyLoad(running(rules), 0.6, time.Second, 10*time.Second)
		assert.Equal(t, time.Second, when, "checked only at boundaries: killed at the first")
		assert.Equal(t, "CPU budget exceeded: 600ms of 500ms per 1s", why)

		when, _ = steadyLoad(running(rules), 0.6, 100*time.Millisecond, 10*time.Second)
		assert.Equal(t, 900*time.Millisecond, when, "checked more often: killed as soon as it is over")
	})

	t.Run("40% of each second with a 50% budget is not", func(t *testing.T) {
		when, _ := steadyLoad(running(rules), 0.4, time.Second, 60*time.Second)
		assert.Equal(t, time.Duration(-1), when)
		when, _ = steadyLoad(running(rules), 0.4, 100*time.Millisecond, 60*time.Second)
		assert.Equal(t, time.Duration(-1), when)
	})

	t.Run("each period is measured on its own", func(t *testing.T) {
		tr := running(rules)
		for _, c := range []struct {
			ms, cpuMs int
			kill      bool
		}{
			{1000, 0, false},    // idle first second
			{1500, 500, false},  // the whole budget, in half a second
			{2000, 500, false},  // then nothing
			{2999, 1000, false}, // exactly the budget again
			{3000, 1000, false}, // boundary sample
			{3500, 1501, true},  // 501 ms in the fourth second
		} {
			kill, _ := tr.Check(at(c.ms), Usage{CPU: time.Duration(c.cpuMs) * time.Millisecond})
			assert.Equal(t, c.kill, kill, "at %d ms", c.ms)
		}
	})

	t.Run("a late check charges the gap to the ended period", func(t *testing.T) {
		tr := running(rules)
		kill, _ := tr.Check(at(3500), Usage{CPU: 800 * time.Millisecond})
		assert.True(t, kill, "3.5 s unreported: the 800 ms cannot be shown to fit")
	})

	t.Run("periods stay aligned to the start after missed checks", func(t *testing.T) {
		tr := running(rules)
		tr.Check(at(2500), Usage{CPU: 400 * time.Millisecond}) // new period [2s, 3s) sampled at 400 ms
		kill, _ := tr.Check(at(2999), Usage{CPU: 900 * time.Millisecond})
		assert.False(t, kill)
		kill, _ = tr.Check(at(3000), Usage{CPU: 901 * time.Millisecond})
		assert.True(t, kill, "501 ms charged to [2s, 3s)")
	})
}

func TestHeartbeat(t *testing.T) {
	rules := Rules{Heartbeat: 300 * time.Millisecond}

	t.Run("missed before the first heartbeat, measured from start", func(t *testing.T) {
		tr := NewTracker(rules)
		tr.Heartbeat(at(0)) // not running yet: ignored
		tr.Started(at(1000))
		kill, _ := tr.Check(at(1300), Usage{})
		assert.False(t, kill, "exactly the deadline is allowed")
		kill, why := tr.Check(at(1350), Usage{})
		assert.True(t, kill)
		assert.Equal(t, "heartbeat missed: none for 350ms (since start), deadline 300ms", why)
	})

	t.Run("met by regular heartbeats", func(t *testing.T) {
		tr := running(rules)
		for ms := 0; ms <= 10000; ms += 50 {
			if ms%250 == 0 {
				tr.Heartbeat(at(ms))
			}
			kill, why := tr.Check(at(ms), Usage{})
			assert.False(t, kill, "at %d ms: %s", ms, why)
		}
	})

	t.Run("missed after the last heartbeat", func(t *testing.T) {
		tr := running(rules)
		tr.Heartbeat(at(200))
		tr.Heartbeat(at(100)) // out of order: does not move the deadline back
		kill, why := tr.Check(at(550), Usage{})
		assert.True(t, kill)
		assert.Equal(t, "heartbeat missed: none for 350ms (since last heartbeat), deadline 300ms", why)
	})

	t.Run("a previous instance's heartbeats do not count", func(t *testing.T) {
		tr := running(rules)
		tr.Heartbeat(at(900))
		tr.Ended(faulted(1000))
		tr.Heartbeat(at(1100)) // late report from the dead instance
		tr.Started(at(2000))
		kill, _ := tr.Check(at(2301), Usage{})
		assert.True(t, kill)
	})
}

// spinLoad checks, every 10 ms until end, a task whose spin time grows by spin(now) each
// sample, and returns when it was killed (-1 if never) and why.
func spinLoad(tr *Tracker, end time.Duration, spin func(now time.Duration) time.Duration) (time.Duration, string) {
	var total time.Duration
	for now := 10 * time.Millisecond; now <= end; now += 10 * time.Millisecond {
		total += spin(now)
		if kill, why := tr.Check(epoch.Add(now), Usage{Spin: total}); kill {
			return now, why
		}
	}
	return -1, ""
}

func TestSpinLimit(t *testing.T) {
	rules := Rules{Spin: 200 * time.Millisecond}

	t.Run("a loop alone is killed once its streak passes the limit", func(t *testing.T) {
		when, why := spinLoad(running(rules), 10*time.Second, func(time.Duration) time.Duration { return 10 * time.Millisecond })
		assert.Equal(t, 210*time.Millisecond, when)
		assert.Equal(t, "spinning: 210ms of CPU without a system call (limit 200ms)", why)
	})

	t.Run("a loop getting a fifth of the CPU is still killed", func(t *testing.T) {
		// 2 ms of every 10: far under any CPU share a budget would allow it.
		when, _ := spinLoad(running(rules), 10*time.Second, func(time.Duration) time.Duration { return 2 * time.Millisecond })
		assert.Equal(t, 1010*time.Millisecond, when)
	})

	t.Run("a loop scheduled every few samples is one streak", func(t *testing.T) {
		// 30 ms of spin every 90 ms: the gaps are shorter than SpinGap.
		when, _ := spinLoad(running(rules), 10*time.Second, func(now time.Duration) time.Duration {
			if now%(90*time.Millisecond) == 0 {
				return 30 * time.Millisecond
			}
			return 0
		})
		assert.Equal(t, 630*time.Millisecond, when)
	})

	t.Run("bursts of computing separated by waits are not", func(t *testing.T) {
		// 150 ms of spin in a row, then 200 ms without, forever.
		when, _ := spinLoad(running(rules), 60*time.Second, func(now time.Duration) time.Duration {
			if now%(350*time.Millisecond) < 150*time.Millisecond {
				return 10 * time.Millisecond
			}
			return 0
		})
		assert.Equal(t, time.Duration(-1), when)
	})

	t.Run("a new instance starts a new streak", func(t *testing.T) {
		tr := running(rules)
		kill, _ := tr.Check(at(100), Usage{Spin: 150 * time.Millisecond})
		assert.False(t, kill)
		tr.Ended(exited(0, 1))
		tr.Started(at(150))
		kill, _ = tr.Check(at(160), Usage{Spin: 100 * time.Millisecond})
		assert.False(t, kill, "the new instance's own 100 ms")
		kill, _ = tr.Check(at(170), Usage{Spin: 201 * time.Millisecond})
		assert.True(t, kill)
	})

	t.Run("without a limit spinning is never killed", func(t *testing.T) {
		when, _ := spinLoad(running(Rules{}), 10*time.Second, func(time.Duration) time.Duration { return 10 * time.Millisecond })
		assert.Equal(t, time.Duration(-1), when)
	})
}
