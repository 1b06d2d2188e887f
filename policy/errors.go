package policy

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one thing wrong with a manifest.
type Error struct {
	File    string
	Line    int    // 1-based; 0 when the error concerns no particular line
	Rule    string // short stable rule name, e.g. "syntax", "ring3-ports"; see the package doc
	Message string
}

// Error formats e as "FILE:LINE: rule RULE: MESSAGE".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: rule %s: %s", e.File, e.Line, e.Rule, e.Message)
	}
	return fmt.Sprintf("%s: rule %s: %s", e.File, e.Rule, e.Message)
}

// Errors is every error found, sorted by line. Parse and Validate return a non-empty Errors
// or nil; errors.As(err, new(*Error)) finds the first.
type Errors []*Error

// Error formats every error, one per line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is and errors.As see each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// maxErrors caps the errors reported for one manifest: past it, one more says so.
const maxErrors = 100

// errorList collects errors for one file.
type errorList struct {
	file string
	errs Errors
}

func (l *errorList) add(line int, rule, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// result sorts the errors by line (stably) and caps them; nil when there are none.
func (l *errorList) result() error {
	if len(l.errs) == 0 {
		return nil
	}
	es := append(Errors(nil), l.errs...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	if len(es) > maxErrors {
		es = append(es[:maxErrors:maxErrors], &Error{File: l.file, Line: 0, Rule: "syntax",
			Message: fmt.Sprintf("too many errors (%d more not shown)", len(es)-maxErrors)})
	}
	return es
}
