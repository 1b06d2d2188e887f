package supervisor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTaskThatCrashesOnEveryStart plays the supervisor loop against a task that crashes
// runFor after each start: start at t=0, crash, wait the decided delay, start again, ...
func TestTaskThatCrashesOnEveryStart(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name       string
		rules      Rules
		runFor     time.Duration
		wantDelays []time.Duration // delays given before the decision to quarantine
		quarantine bool            // false: still restarting after maxStarts crashes
	}{
		{
			name:       "built-in rules quarantine on the 5th crash",
			rules:      DefaultRules(1),
			runFor:     ms,
			wantDelays: []time.Duration{0, 10 * ms, 20 * ms, 40 * ms}, // the first restart is at once
			quarantine: true,
		},
		{
			name:       "budget of one quarantines at once",
			rules:      Rules{Restart: Always, Backoff: fastBackoff, CrashBudget: 1, CrashWindow: time.Second},
			runFor:     ms,
			wantDelays: []time.Duration{},
			quarantine: true,
		},
		{
			name:       "capped backoff",
			rules:      Rules{Restart: OnFailure, Backoff: Backoff{Initial: 10 * ms, Max: 30 * ms}, CrashBudget: 6, CrashWindow: time.Second},
			runFor:     ms,
			wantDelays: []time.Duration{0, 10 * ms, 20 * ms, 30 * ms, 30 * ms},
			quarantine: true,
		},
		{
			name:       "backoff outgrows a short window",
			rules:      Rules{Restart: Always, Backoff: Backoff{Initial: 20 * ms}, CrashBudget: 3, CrashWindow: 20 * ms},
			runFor:     ms,
			wantDelays: []time.Duration{0, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, 1280 * ms},
		},
		{
			name:       "slow crashes are first crashes after a healthy run: restarted at once, under budget",
			rules:      Rules{Restart: Always, Backoff: Backoff{Initial: 10 * ms, ResetAfter: 2 * time.Second}, CrashBudget: 5, CrashWindow: 10 * time.Second},
			runFor:     2500 * ms,
			wantDelays: []time.Duration{0, 0, 0, 0, 0, 0, 0, 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(tc.rules)
			maxStarts := len(tc.wantDelays) + 1
			if !tc.quarantine {
				maxStarts = len(tc.wantDelays)
			}
			delays := []time.Duration{}
			var last Decision
			now := epoch
			for start := 0; start < maxStarts; start++ {
				require.False(t, tr.Quarantined(), "started while quarantined")
				tr.Started(now)
				now = now.Add(tc.runFor)
				last = tr.Ended(End{Reason: Faulted, Fault: "invalid opcode", At: now})
				if !last.Restart {
					break
				}
				delays = append(delays, last.Delay)
				now = now.Add(last.Delay)
			}
			assert.Equal(t, tc.wantDelays, delays)
			assert.Equal(t, tc.quarantine, last.Quarantined, last.Why)
			assert.Equal(t, tc.quarantine, tr.Quarantined())
			assert.Equal(t, maxStarts, tr.Crashes())
			if tc.quarantine {
				assert.Equal(t, tc.rules.CrashBudget, tr.Crashes(), "quarantined after exactly CrashBudget crashes")
				assert.Contains(t, last.Why, "quarantined: ")
				assert.Contains(t, last.Why, "invalid opcode")
			}
		})
	}
}
