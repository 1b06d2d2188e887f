package supervisor

import (
	"fmt"
	"time"
)

// EndReason says how a task instance stopped running.
type EndReason int

const (
	// Exited: the task called exit; Code holds its status.
	Exited EndReason = iota
	// Faulted: an unhandled CPU fault; Fault, PC and Addr describe it.
	Faulted
	// Panicked: the task's Go runtime died (exit code 2); Detail holds the panic message.
	Panicked
	// Killed: the watchdog or a request stopped it; Detail says why.
	Killed
)

func (r EndReason) String() string {
	switch r {
	case Exited:
		return "exited"
	case Faulted:
		return "faulted"
	case Panicked:
		return "panicked"
	case Killed:
		return "killed"
	}
	return fmt.Sprintf("EndReason(%d)", int(r))
}

// End is the kernel's report that a task instance stopped.
type End struct {
	Reason EndReason
	Code   int       // exit status (Exited; 2 for Panicked)
	Fault  string    // CPU fault name, e.g. "page fault" (Faulted)
	PC     uint64    // instruction address of the fault (Faulted)
	Addr   uint64    // faulting address, e.g. CR2 for a page fault (Faulted)
	At     time.Time // when it ended; required, as backoff and the crash window are measured with it
	Detail string    // panic message, kill reason, or extra words for the log
}

// Clean reports a normal exit with status 0; every other End counts as a crash.
func (e End) Clean() bool { return e.Reason == Exited && e.Code == 0 }

// String describes the end for the console, e.g. "faulted: page fault at pc 0x401000, address 0x0".
func (e End) String() string {
	var s string
	switch e.Reason {
	case Exited:
		s = fmt.Sprintf("exited %d", e.Code)
	case Faulted:
		s = fmt.Sprintf("faulted: %s at pc %#x, address %#x", e.Fault, e.PC, e.Addr)
	case Panicked:
		s = fmt.Sprintf("panicked (exit %d)", e.Code)
	default:
		s = e.Reason.String()
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}
