package rng

import (
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The first ChaCha20 block of the all-zero key and nonce (the known-answer vector of the
// original ChaCha20, which RFC 8439's test vectors share for these inputs).
func TestChaChaBlockKnownAnswer(t *testing.T) {
	var key [8]uint32
	var out [16]uint32
	chachaBlock(&key, 0, &out)
	b := make([]byte, 64)
	for i, w := range out {
		binary.LittleEndian.PutUint32(b[i*4:], w)
	}
	assert.Equal(t, "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"+
		"da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586", hex.EncodeToString(b))
	chachaBlock(&key, 1, &out)
	binary.LittleEndian.PutUint32(b, out[0])
	assert.Equal(t, "9f07e7be", hex.EncodeToString(b[:4]), "block 1")
}

func TestKeyErasure(t *testing.T) {
	var r Generator
	r.key[0] = 1
	before := r.key
	a := r.Word()
	assert.NotEqual(t, before, r.key, "every request replaces the key")
	b := r.Word()
	assert.NotEqual(t, a, b)
	r2 := Generator{key: before}
	assert.Equal(t, a, r2.Word(), "deterministic for a key")
}
