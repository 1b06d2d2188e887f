package content

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The channel file the system policy ships "on disk" is BaseFixture, byte for byte.
func TestPolicyDiskHoldsTheBaseFixture(t *testing.T) {
	b, err := os.ReadFile("../../../policy/sensor.chan")
	require.NoError(t, err)
	assert.Equal(t, Encode(BaseFixture()), b, "regenerate policy/sensor.chan from BaseFixture")
	c, err := Parse("sensor.chan", b)
	require.NoError(t, err)
	assert.EqualValues(t, 0, c.Sequence)
	assert.NoError(t, Validate(c, SensorSupplies()))
}
