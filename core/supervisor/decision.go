package supervisor

import (
	"fmt"
	"time"
)

// Decision is what the supervisor should do about a task that just ended.
type Decision struct {
	Restart     bool
	Delay       time.Duration // wait this long before starting it again (when Restart)
	Quarantined bool          // never start it again
	Why         string        // for the console, e.g. "restart in 40ms (3rd consecutive failure)"
}

// ordinal spells 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, ... for Why strings.
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
