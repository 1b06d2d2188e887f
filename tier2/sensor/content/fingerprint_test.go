package content

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFingerprintIgnoresTheSequenceNumber(t *testing.T) {
	good, bad := Fixtures()
	b := Encode(bad)
	again := *bad
	again.Sequence += 7
	assert.Equal(t, Fingerprint(b), Fingerprint(Encode(&again)), "the bad update resent under a new sequence number")
	assert.NotEqual(t, Fingerprint(b), Fingerprint(Encode(good)))
	// One byte changed anywhere else is different content (or no channel file at all).
	for _, i := range []int{len(Magic), 20, len(b) / 2, len(b) - 5} {
		c := append([]byte(nil), b...)
		c[i] ^= 1
		assert.NotEqual(t, Fingerprint(b), Fingerprint(c), "byte %d", i)
	}
	require.Equal(t, Fingerprint(b), Fingerprint(append([]byte(nil), b...)))
}
