package supervisor

import (
	"fmt"
	"time"
)

// Usage is what the kernel reports about the running instance.
type Usage struct {
	CPU  time.Duration // cumulative CPU time of the current instance since it started
	Spin time.Duration // the part of CPU its threads spent spinning (no system call for a sample)
}

// SpinGap ends a spinning streak: spin time seen again after this long without any starts a
// new streak. A thread that computes for a while and then waits stays far below a Spin limit;
// a loop that never yields adds spin at every sample, even when it gets little of the CPU.
const SpinGap = 100 * time.Millisecond

// spinStreak follows the current streak of spin time: base is the cumulative spin before it,
// seen the latest cumulative value, at when it last grew.
type spinStreak struct {
	base, seen time.Duration
	at         time.Time
}

// cpuPeriod tracks the per-period CPU budget. Periods are fixed windows of wall time aligned
// to the instance's start: [start, start+Period), [start+Period, start+2·Period), ...
// The CPU used in a period is the cumulative CPU now minus the cumulative CPU sampled by the
// first Check at or after the period's start (0 for the first period).
type cpuPeriod struct {
	start   time.Time
	baseCPU time.Duration
}

// Check is the watchdog: it reports whether the running instance must be killed now, and why.
// Limits are exceeded only when strictly passed; using exactly the budget is allowed.
//
//   - TotalCPU: killed once u.CPU > TotalCPU.
//   - CPUPerPeriod per Period: killed as soon as a Check sees the CPU used in the current
//     period above CPUPerPeriod. The kernel should call Check at least at every period
//     boundary; CPU used between a boundary and a late Check is charged to the period that
//     ended, which errs towards killing. So with a 500ms per 1s budget, a task using 60% of
//     every second is killed by the Check at (or before) the end of its first second, and a
//     task using 40% never is.
//   - Heartbeat: killed once more than Heartbeat has passed since the instance started or
//     sent its latest heartbeat.
//   - Spin: killed once the spin time of the current streak passes Spin; a streak ends when
//     the spin time stops growing for SpinGap.
//
// Check updates the period sample, so call it with non-decreasing now.
func (t *Tracker) Check(now time.Time, u Usage) (kill bool, why string) {
	if !t.running {
		return false, ""
	}
	r := t.rules
	if r.TotalCPU > 0 && u.CPU > r.TotalCPU {
		return true, fmt.Sprintf("CPU budget exceeded: %v of %v", u.CPU, r.TotalCPU)
	}
	if r.CPUPerPeriod > 0 && r.Period > 0 {
		if used := u.CPU - t.period.baseCPU; used > r.CPUPerPeriod {
			return true, fmt.Sprintf("CPU budget exceeded: %v of %v per %v", used, r.CPUPerPeriod, r.Period)
		}
		if elapsed := now.Sub(t.period.start); elapsed >= r.Period {
			// Skip whole periods the kernel did not report on; sample the CPU for the new one.
			t.period.start = t.period.start.Add(elapsed / r.Period * r.Period)
			t.period.baseCPU = u.CPU
		}
	}
	if r.Spin > 0 {
		if u.Spin > t.spin.seen {
			if now.Sub(t.spin.at) > SpinGap {
				t.spin.base = t.spin.seen
			}
			t.spin.seen, t.spin.at = u.Spin, now
		}
		if s := u.Spin - t.spin.base; s > r.Spin {
			return true, fmt.Sprintf("spinning: %v of CPU without a system call (limit %v)", s.Round(time.Millisecond), r.Spin)
		}
	}
	if r.Heartbeat > 0 {
		if silent := now.Sub(t.lastBeat); silent > r.Heartbeat {
			since := "since last heartbeat"
			if t.lastBeat.Equal(t.startedAt) {
				since = "since start"
			}
			return true, fmt.Sprintf("heartbeat missed: none for %v (%s), deadline %v", silent, since, r.Heartbeat)
		}
	}
	return false, ""
}
