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
