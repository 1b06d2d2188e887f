package campaign

// Scenario files: the line format is documented in doc.go.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/simpleos/simpleos/core/appspec"
	"github.com/simpleos/simpleos/policy"
)

// Limits of a scenario.
const (
	MaxAfter        = 10 * time.Second
	MaxCount        = 100000
	MaxScenarioName = 64
)

// Scenario is one block of a scenario file.
type Scenario struct {
	Name   string
	Target string        // module name
	Class  string        // fault class
	After  time.Duration // delay after the module instance started
	Count  int
	Expect []string // acceptable outcomes in the tiered deployment, in file order
	File   string   // where it was defined, for messages
	Line   int      // line of its "scenario" statement
	// TargetLine is the line of its "target" statement (for CheckTargets).
	TargetLine int
}

// Expects reports whether outcome is one of s.Expect.
func (s Scenario) Expects(outcome string) bool {
	for _, e := range s.Expect {
		if e == outcome {
			return true
		}
	}
	return false
}

// ScenarioFile identifies a scenario file of a campaign: two runs are the same campaign when
// their files have the same contents.
type ScenarioFile struct {
	Path      string `json:"path"`
	SHA256    string `json:"sha256"`
	Scenarios int    `json:"scenarios"`
	Faults    int    `json:"faults"`
}

// Error is one problem in a scenario file.
type Error struct {
	File string
	Line int // 0 when the problem is the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Errors is every problem found in the scenario files, in file and line order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// maxErrors stops a parse that has clearly been given the wrong file.
const maxErrors = 20

// statements are the keywords inside a block, in documented order.
var statements = []string{"target", "class", "after", "count", "expect"}

// ParseScenarios parses one scenario file; file names it in errors. The error, if any, is
// Errors.
func ParseScenarios(file string, src []byte) ([]Scenario, error) {
	p := scenarioParser{file: file}
	p.parse(src)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return p.scenarios, nil
}

type scenarioParser struct {
	file      string
	scenarios []Scenario
	errs      Errors

	cur   *Scenario      // the open block, if any
	lines map[string]int // statement -> its line, in the open block
	bad   bool           // the open block had an error: do not also report it incomplete
}

func (p *scenarioParser) errorf(line int, format string, args ...any) {
	if len(p.errs) < maxErrors {
		p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
}

func (p *scenarioParser) parse(src []byte) {
	for i, text := range strings.Split(string(src), "\n") {
		line := i + 1
		if !utf8.ValidString(text) {
			p.errorf(line, "not valid UTF-8")
			continue
		}
		if c := strings.IndexByte(text, '#'); c >= 0 {
			text = text[:c]
		}
		words := strings.Fields(text)
		if len(words) == 0 {
			continue
		}
		p.statement(line, words[0], words[1:])
	}
	if p.cur != nil {
		p.errorf(p.cur.Line, "scenario %q has no \"end\"", p.cur.Name)
	}
	if len(p.scenarios) == 0 && len(p.errs) == 0 {
		p.errorf(0, "no scenarios (a block starts with \"scenario NAME\")")
	}
}

func (p *scenarioParser) statement(line int, kw string, vals []string) {
	switch kw {
	case "scenario":
		p.begin(line, vals)
		return
	case "end":
		p.end(line, vals)
		return
	}
	if !isStatement(kw) {
		p.errorf(line, "unknown keyword %q (known: scenario, %s, end)", kw, knownList(statements))
		p.bad = true
		return
	}
	if p.cur == nil {
		p.errorf(line, "%q outside a scenario block (start one with \"scenario NAME\")", kw)
		return
	}
	if first, dup := p.lines[kw]; dup {
		p.errorf(line, "duplicate %q in scenario %q (first on line %d)", kw, p.cur.Name, first)
		p.bad = true
		return
	}
	p.lines[kw] = line
	if err := p.value(line, kw, vals); err != "" {
		p.errorf(line, "%s", err)
		p.bad = true
	}
}

func isStatement(kw string) bool {
	for _, s := range statements {
		if s == kw {
			return true
		}
	}
	return false
}

func (p *scenarioParser) begin(line int, vals []string) {
	if p.cur != nil {
		p.errorf(line, "scenario inside scenario %q (begun on line %d): missing \"end\"", p.cur.Name, p.cur.Line)
		p.cur = nil
	}
	name := ""
	switch {
	case len(vals) == 0:
		p.errorf(line, "scenario needs a name")
	case len(vals) > 1:
		p.errorf(line, "scenario takes one name, got %d words", len(vals))
	case !validScenarioName(vals[0]):
		p.errorf(line, "scenario name %q: want 1 to %d characters of A-Z a-z 0-9 . _ -", vals[0], MaxScenarioName)
	default:
		name = vals[0]
		for _, s := range p.scenarios {
			if s.Name == name {
				p.errorf(line, "scenario %q already defined on line %d", name, s.Line)
			}
		}
	}
	p.cur = &Scenario{Name: name, File: p.file, Line: line}
	p.lines = map[string]int{}
	p.bad = false
}

func (p *scenarioParser) end(line int, vals []string) {
	if len(vals) > 0 {
		p.errorf(line, "\"end\" takes no value, got %q", strings.Join(vals, " "))
	}
	if p.cur == nil {
		p.errorf(line, "\"end\" without a scenario")
		return
	}
	if !p.bad {
		var missing []string
		for _, kw := range statements {
			if _, ok := p.lines[kw]; !ok {
				missing = append(missing, strconv.Quote(kw))
			}
		}
		if len(missing) > 0 {
			p.errorf(p.cur.Line, "scenario %q: missing %s", p.cur.Name, strings.Join(missing, ", "))
		}
	}
	if p.cur.Name != "" {
		p.scenarios = append(p.scenarios, *p.cur)
	}
	p.cur = nil
}

// value checks and stores one statement's value; it returns the problem, if any.
func (p *scenarioParser) value(line int, kw string, vals []string) string {
	s := p.cur
	if kw != "expect" {
		switch {
		case len(vals) == 0:
			return fmt.Sprintf("%q needs a value", kw)
		case len(vals) > 1:
			return fmt.Sprintf("%q takes one value, got %d: %q", kw, len(vals), strings.Join(vals, " "))
		}
	}
	switch kw {
	case "target":
		if !appspec.ValidName(vals[0]) {
			return fmt.Sprintf("target %q is not a module name (1 to %d characters of A-Z a-z 0-9 . _ -)", vals[0], appspec.MaxNameLen)
		}
		s.Target, s.TargetLine = vals[0], line
	case "class":
		if !KnownClass(vals[0]) {
			return fmt.Sprintf("unknown fault class %q (known: %s)", vals[0], knownList(classes))
		}
		s.Class = vals[0]
	case "after":
		d, err := time.ParseDuration(vals[0])
		switch {
		case err != nil:
			return fmt.Sprintf("after %q: not a duration (e.g. 0, 50ms, 2s)", vals[0])
		case d < 0 || d > MaxAfter:
			return fmt.Sprintf("after %v: must be between 0 and %v", d, MaxAfter)
		case d%time.Millisecond != 0:
			return fmt.Sprintf("after %v: not a whole number of milliseconds", d)
		}
		s.After = d
	case "count":
		n, err := strconv.Atoi(vals[0])
		switch {
		case err != nil || strings.TrimLeft(vals[0], "0123456789") != "":
			return fmt.Sprintf("count %q: not a decimal number", vals[0])
		case n < 1 || n > MaxCount:
			return fmt.Sprintf("count %d: must be between 1 and %d", n, MaxCount)
		}
		s.Count = n
	case "expect":
		if len(vals) == 0 {
			return fmt.Sprintf("\"expect\" needs at least one outcome (known: %s)", knownList(outcomes))
		}
		for i, o := range vals {
			if !KnownOutcome(o) {
				return fmt.Sprintf("unknown outcome %q (known: %s)", o, knownList(outcomes))
			}
			for _, prev := range vals[:i] {
				if prev == o {
					return fmt.Sprintf("outcome %q listed twice", o)
				}
			}
		}
		s.Expect = vals
	}
	return ""
}

func validScenarioName(name string) bool {
	if name == "" || len(name) > MaxScenarioName {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !appspec.NameByte(name[i]) {
			return false
		}
	}
	return true
}

// LoadScenarios reads and parses the files, in order, and checks that scenario names are
// unique across them. Errors name FILE:LINE; they are Errors when a file is malformed.
func LoadScenarios(files ...string) ([]Scenario, []ScenarioFile, error) {
	if len(files) == 0 {
		return nil, nil, errors.New("no scenario files")
	}
	var all []Scenario
	var ids []ScenarioFile
	var errs Errors
	where := map[string]Scenario{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		scs, err := ParseScenarios(f, src)
		var es Errors
		if errors.As(err, &es) {
			errs = append(errs, es...)
			continue
		}
		faults := 0
		for _, s := range scs {
			if prev, dup := where[s.Name]; dup {
				errs = append(errs, &Error{File: s.File, Line: s.Line,
					Msg: fmt.Sprintf("scenario %q already defined at %s:%d", s.Name, prev.File, prev.Line)})
				continue
			}
			where[s.Name] = s
			faults += s.Count
		}
		sum := sha256.Sum256(src)
		all = append(all, scs...)
		ids = append(ids, ScenarioFile{Path: f, SHA256: hex.EncodeToString(sum[:]), Scenarios: len(scs), Faults: faults})
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return all, ids, nil
}

// CheckTargets checks that every scenario's target is one of modules (the policy's module
// names), naming the target's line otherwise.
func CheckTargets(scs []Scenario, modules []string, policyFile string) error {
	known := map[string]bool{}
	for _, m := range modules {
		known[m] = true
	}
	var errs Errors
	for _, s := range scs {
		if !known[s.Target] {
			errs = append(errs, &Error{File: s.File, Line: s.TargetLine,
				Msg: fmt.Sprintf("target %q is not a module of %s (modules: %s)", s.Target, policyFile, knownList(modules))})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// PolicyTargets returns the module names of the policy a boot enforces: the manifest file,
// or the core's built-in policy/system.policy when file is empty. shown names the manifest
// for messages.
func PolicyTargets(file string) (names []string, shown string, err error) {
	src, shown := policy.System, policy.SystemFile
	if file != "" {
		if src, err = os.ReadFile(file); err != nil {
			return nil, "", err
		}
		shown = file
	}
	m, err := policy.Parse(shown, src)
	if err != nil {
		return nil, "", err
	}
	for _, mod := range m.Modules {
		names = append(names, mod.Name)
	}
	return names, shown, nil
}
