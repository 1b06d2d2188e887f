package campaign

// Settling a boot: what its transcript and the way it ended mean for each injection it was
// given.

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/simpleos/simpleos/boot"
)

// bootEnd is how a boot ended, as the runner saw it.
type bootEnd struct {
	Deployment  string // what the boot was asked to run ("" in tests that do not care)
	Status      int
	Crashed     bool          // boot.Result.Crashed: status 100, a CORE CRASH line, or no status at all
	TimedOut    bool          // the per-boot timeout
	Timeout     time.Duration // ...which was this long
	Stalled     bool          // we stopped it: no output for Stall
	Stall       time.Duration
	NoCampaign  bool // we stopped it: no "inject: campaign" line in time
	Interrupted bool // the campaign was cancelled
	Note        string
	CrashLine   string // the CORE CRASH line, if any
}

// name is BootRecord.End: how the boot ended.
func (e bootEnd) name(t Transcript) string {
	switch {
	case e.Interrupted:
		return "interrupted"
	case e.Crashed:
		return "core-crash"
	case e.Stalled || e.NoCampaign:
		return "stall"
	case e.TimedOut:
		return "timeout"
	case t.Done && e.Status == 0:
		return "done"
	}
	return "ended"
}

// settlement is what a boot decided.
type settlement struct {
	records  []Record    // outcomes (Expected and Boot still to fill in)
	notRun   []Record    // NotRun records with the reason: errors of the run
	next     []Injection // injections to run in a new boot (after a core crash or hang)
	problems []string
}

// settle maps a boot's transcript onto the injections it was given. The runner's results
// count as they are; the injection open at a core crash is core-crash, at a timeout or stall
// hang, and the ones after it go to a new boot. Anything else that did not run is not-run.
// next is always shorter than chunk, so a chunk needs at most len(chunk) boots.
func settle(chunk []Injection, t Transcript, end bootEnd) settlement {
	var s settlement
	s.problems = append(s.problems, t.Problems...)
	index := make(map[int]int, len(chunk))
	for i, in := range chunk {
		index[in.ID] = i
	}
	if h := t.Header; h != nil && h.Count != len(chunk) {
		s.problems = append(s.problems, fmt.Sprintf("the kernel read %d injections from a plan of %d", h.Count, len(chunk)))
	}
	if h := t.Header; h != nil && end.Deployment != "" && h.Deployment != end.Deployment {
		s.problems = append(s.problems, fmt.Sprintf("the kernel ran deployment %s, not %s", h.Deployment, end.Deployment))
	}
	done := map[int]bool{}
	for _, id := range t.Order {
		ev := t.Results[id]
		i, ok := index[id]
		if !ok {
			s.problems = append(s.problems, fmt.Sprintf("a result for id %d, which was not in this boot's plan", id))
			continue
		}
		in := chunk[i]
		if (ev.Class != "" && ev.Class != in.Class) || (ev.Target != "" && ev.Target != in.Target) {
			s.problems = append(s.problems, fmt.Sprintf("id %d: the kernel reported class=%s target=%s, the plan says class=%s target=%s",
				id, ev.Class, ev.Target, in.Class, in.Target))
		}
		r := record(in, ev.Outcome, ev.RecoveryUS, ev.Detail)
		r.TookUS = ev.TookUS
		s.records = append(s.records, r)
		done[id] = true
	}

	open, ok := t.Open()
	if _, planned := index[open]; !ok || !planned || done[open] {
		open = 0
	}
	var hostOutcome, detail string
	switch {
	case end.Interrupted:
	case end.Crashed:
		hostOutcome, detail = CoreCrash, end.CrashLine
		if detail == "" {
			detail = "the core crashed: " + end.Note
		}
	case end.Stalled:
		hostOutcome, detail = Hang, fmt.Sprintf("no console output for %v; the host stopped the machine", end.Stall)
	case end.TimedOut:
		hostOutcome, detail = Hang, fmt.Sprintf("the boot timed out after %v", end.Timeout)
	}
	if open != 0 && hostOutcome != "" {
		at := index[open]
		s.records = append(s.records, record(chunk[at], hostOutcome, 0, detail))
		done[open] = true
		var skipped []int
		for _, in := range chunk[:at] {
			if !done[in.ID] {
				s.notRun = append(s.notRun, record(in, NotRun, 0, fmt.Sprintf("the kernel skipped it before id %d", open)))
				skipped = append(skipped, in.ID)
			}
		}
		if len(skipped) > 0 {
			s.problems = append(s.problems, fmt.Sprintf("the kernel skipped %s before id %d", idList(skipped), open))
		}
		for _, in := range chunk[at+1:] {
			if !done[in.ID] {
				s.next = append(s.next, in)
			}
		}
		return s
	}

	var missing []int
	for _, in := range chunk {
		if !done[in.ID] {
			s.notRun = append(s.notRun, record(in, NotRun, 0, ""))
			missing = append(missing, in.ID)
		}
	}
	why, verb := "", "did not run"
	if t.Done && end.Status == 0 && !end.Crashed {
		verb = "have no result"
		if len(missing) == 1 {
			verb = "has no result"
		}
	}
	switch {
	case end.Interrupted:
		why = "the campaign was interrupted"
	case end.Crashed:
		why = "the core crashed outside any injection: " + detail
	case end.NoCampaign:
		why = fmt.Sprintf("no %q line within %v: does the core support inject=on?", "inject: campaign", end.Stall)
	case end.Stalled:
		why = fmt.Sprintf("no console output for %v outside any injection", end.Stall)
	case end.TimedOut:
		why = fmt.Sprintf("the boot timed out after %v outside any injection", end.Timeout)
	case t.Done && end.Status == 0 && len(t.Order) > 0 && !lastHasResult(chunk, done):
		why = "the kernel finished the campaign without reporting them"
	case t.Done && end.Status == 0:
		why = "the kernel finished the campaign without reporting them, though it reported later ones (lost console output?)"
	case t.Done:
		why = fmt.Sprintf("the boot ended with status %d after the campaign finished (want 0)", end.Status)
	default:
		why = fmt.Sprintf("the boot ended with status %d before the campaign finished", end.Status)
		if end.Note != "" {
			why += " (" + end.Note + ")"
		}
		if t.Header == nil {
			why += `; there was no "inject: campaign" line: does the core support inject=on?`
		}
	}
	for i := range s.notRun {
		s.notRun[i].Detail = why
	}
	switch {
	case len(missing) > 0:
		s.problems = append(s.problems, fmt.Sprintf("%s %s: %s", idList(missing), verb, why))
	case end.Crashed && !end.Interrupted:
		s.problems = append(s.problems, "the core crashed after the last injection: "+detail)
	case !end.Interrupted && !(t.Done && end.Status == 0):
		s.problems = append(s.problems, "every injection ran, but "+why)
	}
	return s
}

// lastHasResult reports whether the chunk's last injection has a result.
func lastHasResult(chunk []Injection, done map[int]bool) bool {
	return len(chunk) > 0 && done[chunk[len(chunk)-1].ID]
}

func record(in Injection, outcome string, recoveryUS int64, detail string) Record {
	return Record{
		ID:         in.ID,
		Scenario:   in.Scenario,
		Class:      in.Class,
		Target:     in.Target,
		AfterMS:    in.After.Milliseconds(),
		Outcome:    outcome,
		RecoveryUS: recoveryUS,
		Detail:     detail,
	}
}

// idList names ids for a message: "id 7", "ids 7, 8, 9", "ids 7, 8, 9, ... (40 in all)".
func idList(ids []int) string {
	const show = 8
	if len(ids) == 1 {
		return "id " + strconv.Itoa(ids[0])
	}
	parts := make([]string, 0, show+1)
	for _, id := range ids[:min(len(ids), show)] {
		parts = append(parts, strconv.Itoa(id))
	}
	s := "ids " + strings.Join(parts, ", ")
	if len(ids) > show {
		s += fmt.Sprintf(", ... (%d in all)", len(ids))
	}
	return s
}

// crashLine returns the core's crash report line, if the output has one.
func crashLine(out []byte) string {
	for _, line := range bytes.Split(out, []byte("\n")) {
		line = bytes.TrimRight(bytes.TrimLeft(line, "\r"), "\r")
		if bytes.HasPrefix(line, []byte(boot.CrashMarker)) {
			return string(line)
		}
	}
	return ""
}
