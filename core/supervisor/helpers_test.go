package supervisor

import "time"

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at is a point in time ms milliseconds after the test epoch.
func at(ms int) time.Time { return epoch.Add(time.Duration(ms) * time.Millisecond) }

func exited(code int, ms int) End { return End{Reason: Exited, Code: code, At: at(ms)} }

func faulted(ms int) End {
	return End{Reason: Faulted, Fault: "page fault", PC: 0x401000, Addr: 0, At: at(ms)}
}

// fastBackoff is a backoff with the built-in numbers, for tests that care about them.
var fastBackoff = Backoff{Initial: 10 * time.Millisecond, Max: time.Second, ResetAfter: 10 * time.Second}
