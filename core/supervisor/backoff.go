package supervisor

import (
	"math"
	"time"
)

// delay is the wait before restarting after the nth consecutive failure (n >= 1):
// Initial·2^(n-1), capped at Max, and saturating rather than overflowing when Max is 0.
func (b Backoff) delay(n int) time.Duration {
	d := b.Initial
	for i := 1; i < n && d > 0; i++ {
		if b.Max > 0 && d >= b.Max {
			break
		}
		if d > math.MaxInt64/2 {
			return math.MaxInt64
		}
		d *= 2
	}
	if b.Max > 0 && d > b.Max {
		d = b.Max
	}
	return d
}
