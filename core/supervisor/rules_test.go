package supervisor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultRulesPerTier(t *testing.T) {
	for ring, want := range map[int]Restart{1: Always, 2: Always, 3: OnFailure, 0: Never, 4: Never, -1: Never} {
		r := DefaultRules(ring)
		assert.Equal(t, want, r.Restart, "ring %d", ring)
		assert.Equal(t, fastBackoff, r.Backoff, "ring %d", ring)
		assert.Equal(t, 5, r.CrashBudget, "ring %d", ring)
		assert.Equal(t, 10*time.Second, r.CrashWindow, "ring %d", ring)
		assert.Zero(t, r.TotalCPU)
		assert.Zero(t, r.CPUPerPeriod)
		assert.Zero(t, r.Heartbeat)
		assert.NoError(t, r.Validate(), "ring %d", ring)
	}
}

func TestValidateRejectsContradictoryRules(t *testing.T) {
	assert.NoError(t, Rules{}.Validate(), "zero rules mean never restart, no limits")

	err := Rules{CPUPerPeriod: time.Second}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "period is not")

	err = Rules{Restart: Restart(9), CrashBudget: -1, Backoff: Backoff{Initial: -time.Second}}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown restart rule 9")
	assert.Contains(t, err.Error(), "crash budget is negative")
	assert.Contains(t, err.Error(), "backoff initial is negative")
}
