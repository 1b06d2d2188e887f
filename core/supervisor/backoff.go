package supervisor

import (
	"math"
	"time"
)

// delay is the wait before restarting after the nth consecutive failure (n >= 1): none after
// the first — a crash after a healthy run is no loop, and a restart from the module's
// snapshot takes about a millisecond — then Initial·2^(n-2), capped at Max, and saturating
// rather than overflowing when Max is 0. The backoff is for crash loops.
func (b Backoff) delay(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	d := b.Initial
	for i := 2; i < n && d > 0; i++ {
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
