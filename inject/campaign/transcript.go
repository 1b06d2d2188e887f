package campaign

// Reading the in-guest runner's serial output (the protocol is in doc.go).

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// EventKind says which runner line an Event came from.
type EventKind int

const (
	EventHeader EventKind = iota + 1 // inject: campaign N injections, deployment D
	EventStart                       // inject start id=...
	EventResult                      // inject result id=... outcome=...
	EventDone                        // inject: campaign done
)

// Event is one line of the in-guest runner.
type Event struct {
	Kind       EventKind
	Count      int    // header: injections the kernel read from the plan
	Deployment string // header
	ID         int    // start, result
	Class      string // start, result (may be empty)
	Target     string // start, result (may be empty)
	Outcome    string // result: one the kernel may report (handled, restarted, quarantined, breach, hang)
	RecoveryUS int64  // result: 0 when not applicable
	TookUS     int64  // result: the injection's whole time in the guest, start to result (0: not given)
	Detail     string // result, unquoted
}

var headerLine = regexp.MustCompile(`^inject: campaign (\d+) injections?, deployment (\S+)$`)

// ParseLine reads one console line. ok is false for lines that are not the runner's (every
// line not starting with "inject: ", "inject start " or "inject result "); err is set for a
// runner line that is malformed.
func ParseLine(line string) (ev Event, ok bool, err error) {
	line = strings.TrimRight(strings.TrimLeft(line, "\r"), "\r \t")
	switch {
	case strings.HasPrefix(line, "inject: "):
		if line == "inject: campaign done" {
			return Event{Kind: EventDone}, true, nil
		}
		m := headerLine.FindStringSubmatch(line)
		if m == nil {
			return Event{}, false, nil // another message of the runner's
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return Event{}, true, fmt.Errorf("%q: bad injection count", line)
		}
		return Event{Kind: EventHeader, Count: n, Deployment: m[2]}, true, nil
	case strings.HasPrefix(line, "inject start "):
		ev.Kind = EventStart
		line = line[len("inject start "):]
	case strings.HasPrefix(line, "inject result "):
		ev.Kind = EventResult
		line = line[len("inject result "):]
	default:
		return Event{}, false, nil
	}
	fields, err := keyValues(line)
	bad := func(format string, args ...any) (Event, bool, error) {
		what := "start"
		if ev.Kind == EventResult {
			what = "result"
		}
		return Event{}, true, fmt.Errorf("malformed %q line: %s", "inject "+what, fmt.Sprintf(format, args...))
	}
	if err != nil {
		return bad("%v", err)
	}
	id, err := strconv.Atoi(fields["id"])
	if err != nil || id < 1 {
		return bad("id %q", fields["id"])
	}
	ev.ID, ev.Class, ev.Target = id, fields["class"], fields["target"]
	if ev.Kind == EventStart {
		return ev, true, nil
	}
	ev.Outcome = fields["outcome"]
	if !kernelOutcome(ev.Outcome) {
		return bad("id=%d: outcome %q (want handled, restarted, quarantined, breach or hang)", id, ev.Outcome)
	}
	if v, ok := fields["recovery_us"]; ok {
		us, err := strconv.ParseInt(v, 10, 64)
		if err != nil || us < 0 {
			return bad("id=%d: recovery_us %q", id, v)
		}
		ev.RecoveryUS = us
	}
	if v, ok := fields["took_us"]; ok {
		us, err := strconv.ParseInt(v, 10, 64)
		if err != nil || us < 0 {
			return bad("id=%d: took_us %q", id, v)
		}
		ev.TookUS = us
	}
	ev.Detail = fields["detail"]
	return ev, true, nil
}

// keyValues splits "k=v k2=\"quoted value\" ..." into a map; the first value of a key wins.
func keyValues(s string) (map[string]string, error) {
	m := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return m, nil
		}
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexAny(s, " \t")
		if eq <= 0 || (sp >= 0 && sp < eq) {
			word, _, _ := strings.Cut(s, " ")
			return nil, fmt.Errorf("%q is not key=value", word)
		}
		key := s[:eq]
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%s: bad quoted string", key)
			}
			val, _ = strconv.Unquote(q)
			s = s[len(q):]
			if s != "" && s[0] != ' ' && s[0] != '\t' {
				return nil, fmt.Errorf("%s: text after the closing quote", key)
			}
		} else {
			val, s, _ = strings.Cut(s, " ")
		}
		if _, dup := m[key]; !dup {
			m[key] = val
		}
	}
}

// Transcript is what one boot's runner reported.
type Transcript struct {
	Header   *Event        // the "inject: campaign" line, if any
	Starts   []int         // ids in the order their start lines came
	Results  map[int]Event // by id: the first result for each
	Order    []int         // ids in the order their results came
	Done     bool          // "inject: campaign done" was seen
	Problems []string      // malformed runner lines and protocol violations
}

// ParseTranscript reads a boot's whole console output. A last line without its newline (the
// machine stopped mid-line) counts only when it parses.
func ParseTranscript(out []byte) Transcript {
	t := Transcript{Results: map[int]Event{}}
	lines := bytes.Split(out, []byte("\n"))
	for i, raw := range lines {
		last := i == len(lines)-1
		ev, ok, err := ParseLine(string(raw))
		if err != nil {
			if !last {
				t.Problems = append(t.Problems, err.Error())
			}
			continue
		}
		if !ok {
			continue
		}
		switch ev.Kind {
		case EventHeader:
			if t.Header != nil {
				t.Problems = append(t.Problems, "a second \"inject: campaign\" line")
				continue
			}
			t.Header = &ev
		case EventStart:
			t.Starts = append(t.Starts, ev.ID)
		case EventResult:
			if first, dup := t.Results[ev.ID]; dup {
				if first != ev { // an identical repeat (a console replay) is harmless
					t.Problems = append(t.Problems, fmt.Sprintf("a second, different result for id %d (ignored)", ev.ID))
				}
				continue
			}
			t.Results[ev.ID] = ev
			t.Order = append(t.Order, ev.ID)
		case EventDone:
			t.Done = true
		}
	}
	return t
}

// Open returns the injection that started last, if it has no result: the one a crash or a
// hang interrupted.
func (t Transcript) Open() (id int, ok bool) {
	if len(t.Starts) == 0 {
		return 0, false
	}
	id = t.Starts[len(t.Starts)-1]
	if _, done := t.Results[id]; done {
		return 0, false
	}
	return id, true
}
