package content

import "crypto/sha256"

// Fingerprint identifies what a channel file tells the sensor to do: the SHA-256 of its
// encoding with the sequence number set to zero. An update sent again under a new sequence
// number is the same content to the core's quarantine, and no two different rule sets share a
// fingerprint. Bytes that do not parse are fingerprinted as they are.
func Fingerprint(b []byte) [32]byte {
	c, err := Parse("", b)
	if err != nil {
		return sha256.Sum256(b)
	}
	c.Sequence = 0
	return sha256.Sum256(Encode(c))
}
