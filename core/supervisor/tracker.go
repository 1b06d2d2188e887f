package supervisor

import (
	"fmt"
	"time"
)

// Tracker keeps one task's history across its restarts and turns the kernel's reports into
// decisions. It is not safe for concurrent use; the supervisor owns it.
type Tracker struct {
	rules Rules

	running   bool
	startedAt time.Time
	lastBeat  time.Time // start of the instance or its latest heartbeat
	period    cpuPeriod
	spin      spinStreak

	failures      int         // consecutive failures, drives the backoff
	crashes       int         // all crashes ever
	recentCrashes []time.Time // the last CrashBudget crash times, oldest first
	quarantined   string      // why, once quarantined; sticky
}

// NewTracker starts following a task supervised by r. The task is not yet running.
func NewTracker(r Rules) *Tracker { return &Tracker{rules: r} }

// Started records that a new instance began running at now. Its CPU usage and heartbeat
// deadline are measured from now. Starting a quarantined task is the caller's bug; the next
// Ended still says quarantined.
func (t *Tracker) Started(now time.Time) {
	t.running = true
	t.startedAt = now
	t.lastBeat = now
	t.period = cpuPeriod{start: now}
	t.spin = spinStreak{at: now}
}

// Heartbeat records that the running instance showed signs of life at now. Heartbeats from
// an instance that is not running (a late report) are ignored.
func (t *Tracker) Heartbeat(now time.Time) {
	if t.running && now.After(t.lastBeat) {
		t.lastBeat = now
	}
}

// Quarantined reports whether the task must never be started again.
func (t *Tracker) Quarantined() bool { return t.quarantined != "" }

// Crashes returns how many times the task has crashed (ended other than exit 0) in total.
func (t *Tracker) Crashes() int { return t.crashes }

// Ended records how the current instance stopped and decides what happens next. Every
// unclean end, including a kill by request, counts as a crash: a supervisor shutting the task
// down on purpose should simply not act on the decision.
func (t *Tracker) Ended(e End) Decision {
	ranFor := time.Duration(0)
	if t.running {
		ranFor = e.At.Sub(t.startedAt)
	}
	t.running = false

	if t.Quarantined() {
		return Decision{Quarantined: true, Why: t.quarantined}
	}
	if e.Clean() {
		t.failures = 0
		return t.decideClean()
	}

	t.crashes++
	if t.rules.Backoff.ResetAfter > 0 && ranFor >= t.rules.Backoff.ResetAfter {
		t.failures = 0 // it was healthy long enough: this is a fresh failure, not a loop
	}
	t.failures++
	inWindow := t.recordCrash(e.At)
	if t.rules.CrashBudget > 0 && inWindow >= t.rules.CrashBudget {
		t.quarantined = fmt.Sprintf("quarantined: %s (last: %s)", t.crashCount(inWindow), e)
		return Decision{Quarantined: true, Why: t.quarantined}
	}
	if t.rules.Restart == Never {
		return Decision{Why: fmt.Sprintf("not restarted: rule never (%s)", e)}
	}
	d := t.rules.Backoff.delay(t.failures)
	why := fmt.Sprintf("%s (%s consecutive failure", restartIn(d), ordinal(t.failures))
	if t.rules.CrashBudget > 0 {
		why += fmt.Sprintf("; %s, quarantine at %d", t.crashCount(inWindow), t.rules.CrashBudget)
	}
	return Decision{Restart: true, Delay: d, Why: why + ")"}
}

func (t *Tracker) decideClean() Decision {
	switch t.rules.Restart {
	case Always:
		// Not a failure, but still wait Initial so a task that exits at once cannot spin.
		d := t.rules.Backoff.Initial
		return Decision{Restart: true, Delay: d, Why: fmt.Sprintf("restart in %v (exited 0, rule always)", d)}
	case OnFailure:
		return Decision{Why: "not restarted: exited 0 (rule on-failure)"}
	default:
		return Decision{Why: "not restarted: rule never (exited 0)"}
	}
}

// recordCrash remembers a crash at and returns how many crashes fall within the window.
// Only the last CrashBudget crashes can matter, so older ones are forgotten.
func (t *Tracker) recordCrash(at time.Time) int {
	if t.rules.CrashBudget <= 0 {
		return 0
	}
	t.recentCrashes = append(t.recentCrashes, at)
	if extra := len(t.recentCrashes) - t.rules.CrashBudget; extra > 0 {
		t.recentCrashes = append(t.recentCrashes[:0], t.recentCrashes[extra:]...)
	}
	return t.crashesInWindow(at)
}

// crashesInWindow counts remembered crashes in (now-CrashWindow, now]: a crash exactly
// CrashWindow ago has left the window. CrashWindow 0 means every remembered crash counts.
func (t *Tracker) crashesInWindow(now time.Time) int {
	n := 0
	for _, c := range t.recentCrashes {
		if t.rules.CrashWindow <= 0 || now.Sub(c) < t.rules.CrashWindow {
			n++
		}
	}
	return n
}

func (t *Tracker) crashCount(n int) string {
	s := fmt.Sprintf("%d crash", n)
	if n != 1 {
		s += "es"
	}
	if t.rules.CrashWindow > 0 {
		s += fmt.Sprintf(" within %v", t.rules.CrashWindow)
	}
	return s
}

// EndedExcused records an unclean end that the supervisor has blamed on something it has
// already undone — content it rolled back — rather than on the task: the instance is
// restarted after the usual backoff, but the crash does not count against the crash budget.
func (t *Tracker) EndedExcused(e End, excuse string) Decision {
	t.running = false
	if t.Quarantined() {
		return Decision{Quarantined: true, Why: t.quarantined}
	}
	t.crashes++
	t.failures++
	d := t.rules.Backoff.delay(t.failures)
	return Decision{Restart: true, Delay: d, Why: fmt.Sprintf("%s (%s; not counted against the crash budget)", restartIn(d), excuse)}
}

// restartIn says when the restart happens: "restart now" after a first failure (no backoff),
// "restart in 20ms" in a crash loop.
func restartIn(d time.Duration) string {
	if d == 0 {
		return "restart now"
	}
	return fmt.Sprintf("restart in %v", d)
}

// Reset forgets the task's history, quarantine included: the operator's "try again".
func (t *Tracker) Reset() {
	*t = Tracker{rules: t.rules}
}
