package supervisor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRestartAcceptsWhatStringPrints(t *testing.T) {
	for _, r := range []Restart{Always, OnFailure, Never} {
		got, err := ParseRestart(r.String())
		require.NoError(t, err)
		assert.Equal(t, r, got)
	}
	got, err := ParseRestart("  On-Failure\n")
	require.NoError(t, err)
	assert.Equal(t, OnFailure, got)
}

func TestParseRestartRejectsUnknownNames(t *testing.T) {
	for _, s := range []string{"", "sometimes", "onfailure", "on failure", "0"} {
		_, err := ParseRestart(s)
		require.Error(t, err, "%q", s)
		assert.ErrorIs(t, err, ErrUnknownRestart)
		assert.Contains(t, err.Error(), "want always, on-failure or never")
	}
}

func TestZeroRestartNeverRestarts(t *testing.T) {
	var r Restart
	assert.Equal(t, Never, r)
	assert.Equal(t, "Restart(7)", Restart(7).String())
}
