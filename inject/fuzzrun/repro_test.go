package fuzzrun

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDdminFindsTheStepsThatMatter(t *testing.T) {
	var steps []string
	for i := 0; i < 100; i++ {
		steps = append(steps, string(rune('a'+i%26))+strings.Repeat("x", i/26))
	}
	// The "bug" needs step 17 and step 63, in that order.
	fails := func(s []string) bool {
		i := index(s, steps[17])
		return i >= 0 && index(s[i:], steps[63]) >= 0
	}
	tries := 0
	got := ddmin(steps, func(s []string) bool { tries++; return fails(s) }, 200)
	assert.Equal(t, []string{steps[17], steps[63]}, got)
	assert.Less(t, tries, 60)
}

func index(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

func TestSeedsDiffer(t *testing.T) {
	seen := map[uint64]bool{}
	for b := 0; b < 50; b++ {
		for _, r := range Rings {
			s := Seed(1, b, r)
			assert.False(t, seen[s])
			assert.Less(t, s, uint64(1)<<63)
			seen[s] = true
		}
	}
}
