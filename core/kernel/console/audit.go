package console

// Audit lines: one line for each request the policy denied — who, what, which rule — with a
// limit per task: a burst of auditBurst, then auditPerSecond. A task denied in a loop would
// otherwise fill the console everyone shares (and, without a console driver, hold the CPU in
// the UART with interrupts off) with lines about itself. The denials are still counted; the
// lines left out are reported with the next one written.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const (
	auditBurst     = 20
	auditPerSecond = 10
)

// bucket is a task's audit allowance.
type bucket struct {
	tokens     int64 // lines it may write now, times 1e9
	last       int64 // when tokens was last refilled (monotonic ns)
	suppressed uint64
}

var buckets task.Attached[bucket]

var denials uint64

// AuditStart resets a task's allowance (its start hook).
func AuditStart(t *task.Task) { *buckets.Of(t) = bucket{} }

// AuditHead starts an audit line: who is denied. It returns false, writing nothing, when t has
// used up its audit lines for now.
//
//go:nosplit
func AuditHead(t *task.Task) bool {
	denials++
	b := buckets.Of(t)
	now := arch.Nanotime()
	if b.last == 0 {
		b.tokens = auditBurst * 1e9
	} else if dt := now - b.last; dt > 0 {
		b.tokens += dt * auditPerSecond
		if b.tokens > auditBurst*1e9 {
			b.tokens = auditBurst * 1e9
		}
	}
	b.last = now
	if b.tokens < 1e9 {
		b.suppressed++
		return false
	}
	b.tokens -= 1e9
	if b.suppressed > 0 {
		Puts("audit: ")
		PutDec(b.suppressed)
		Puts(" more denials of ")
		Puts(t.Name())
		Puts(" (pid ")
		PutDec(uint64(t.PID()))
		Puts(") not shown\n")
		b.suppressed = 0
	}
	Puts("audit: deny ")
	Puts(t.Name())
	Puts(" (pid ")
	PutDec(uint64(t.PID()))
	Puts(", ring ")
	PutDec(uint64(t.Ring()))
	Puts(") ")
	return true
}

// Deny writes the audit line of a request for name that the policy's rule list does not
// allow.
//
//go:nosplit
func Deny(t *task.Task, what string, name *abi.Name, rule string) {
	if !AuditHead(t) {
		return
	}
	Puts(what)
	Puts(" \"")
	PutName(name)
	Puts("\": not in its policy '")
	Puts(rule)
	Puts("' list\n")
}

// Denials counts the requests the policy denied.
func Denials() uint64 { return denials }
