package supervisor

import (
	"errors"
	"fmt"
	"time"
)

// Backoff spaces out restarts of a failing task: none after the first failure, Initial after
// the second consecutive one, doubling after each further one, never more than Max (0 = no
// cap). A run that lasted ResetAfter or longer before failing counts as healthy: its failure
// is a first one again (0 = never reset by run time).
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	ResetAfter time.Duration
}

// Rules is how one task is supervised. Zero-valued limits mean unlimited.
type Rules struct {
	Restart Restart
	Backoff Backoff
	// CrashBudget is how many crashes within CrashWindow quarantine the task: the Nth crash
	// does, the (N-1)th does not. 0 = never quarantine; CrashWindow 0 = count crashes forever.
	CrashBudget int
	CrashWindow time.Duration
	// TotalCPU caps the CPU time of one instance over its whole life.
	TotalCPU time.Duration
	// CPUPerPeriod caps the CPU time of one instance in each Period of wall time (see Check).
	CPUPerPeriod time.Duration
	Period       time.Duration
	// Heartbeat is the longest an instance may go without a heartbeat, counted from its start.
	Heartbeat time.Duration
	// Spin caps the CPU an instance may spend spinning — its threads running without making
	// a system call — before it stops for SpinGap (see Check). A loop that never yields is
	// caught by it whatever share of the CPU it gets; a CPU budget alone misses a loop that
	// competes with other work and so stays under its share.
	Spin time.Duration
}

// Validate reports rules that cannot mean what their writer intended.
func (r Rules) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"backoff initial", r.Backoff.Initial}, {"backoff max", r.Backoff.Max},
		{"backoff reset-after", r.Backoff.ResetAfter}, {"crash window", r.CrashWindow},
		{"total CPU", r.TotalCPU}, {"CPU per period", r.CPUPerPeriod}, {"period", r.Period},
		{"heartbeat", r.Heartbeat}, {"spin", r.Spin},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s is negative (%v)", d.name, d.v))
		}
	}
	if r.Restart < Never || r.Restart > Always {
		errs = append(errs, fmt.Errorf("unknown restart rule %d", int(r.Restart)))
	}
	if r.CrashBudget < 0 {
		errs = append(errs, fmt.Errorf("crash budget is negative (%d)", r.CrashBudget))
	}
	if r.CPUPerPeriod > 0 && r.Period <= 0 {
		errs = append(errs, errors.New("CPU per period is set but period is not"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("supervisor: invalid rules: %w", err)
	}
	return nil
}

// builtinRules is the built-in policy, one entry per tier, kept in this one place on purpose:
// the policy manifest will replace it, and DefaultRules is its only reader.
var builtinRules = map[int]Rules{
	1: withCommonDefaults(Always),    // drivers: the machine needs them back
	2: withCommonDefaults(Always),    // security modules: running without them is unsafe
	3: withCommonDefaults(OnFailure), // apps: a clean exit means the app is done
}

func withCommonDefaults(r Restart) Rules {
	return Rules{
		Restart:     r,
		Backoff:     Backoff{Initial: 10 * time.Millisecond, Max: time.Second, ResetAfter: 10 * time.Second},
		CrashBudget: 5,
		CrashWindow: 10 * time.Second,
	}
}

// DefaultRules returns the built-in rules for tasks in ring 1, 2 or 3. Any other ring gets
// rules that never restart, so a mistaken tier cannot turn into a restart loop.
func DefaultRules(ring int) Rules {
	if r, ok := builtinRules[ring]; ok {
		return r
	}
	return withCommonDefaults(Never)
}
