package supervisor

import (
	"errors"
	"fmt"
	"strings"
)

// Restart is the rule deciding whether a task that ended is started again.
type Restart int

const (
	// Never is the zero value so that a forgotten rule cannot cause a restart loop.
	Never Restart = iota
	// OnFailure restarts the task unless it exited with code 0.
	OnFailure
	// Always restarts the task however it ended (quarantine still wins).
	Always
)

// ErrUnknownRestart is wrapped by ParseRestart's errors.
var ErrUnknownRestart = errors.New("unknown restart rule")

func (r Restart) String() string {
	switch r {
	case Never:
		return "never"
	case OnFailure:
		return "on-failure"
	case Always:
		return "always"
	}
	return fmt.Sprintf("Restart(%d)", int(r))
}

// ParseRestart reads the names String produces, ignoring case and surrounding space, so the
// policy manifest can spell rules the way they are printed.
func ParseRestart(s string) (Restart, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "never":
		return Never, nil
	case "on-failure":
		return OnFailure, nil
	case "always":
		return Always, nil
	}
	return Never, fmt.Errorf("supervisor: %w %q (want always, on-failure or never)", ErrUnknownRestart, s)
}
