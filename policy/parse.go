package policy

import (
	"strconv"
	"strings"
	"time"

	"github.com/simpleos/simpleos/core/supervisor"
)

// MaxSize is the largest manifest Parse reads, in bytes.
const MaxSize = 1 << 20

// Parse reads a manifest from src; file is only used in error messages. It then validates the
// manifest (Validate). The error, if any, is an Errors listing every problem found; when a line
// has a syntax error, only syntax-level errors are reported (the rest would be guesses).
// Parse does no I/O and never panics.
func Parse(file string, src []byte) (*Manifest, error) {
	p := &parser{errs: errorList{file: file}, m: &Manifest{File: file}}
	if len(src) > MaxSize {
		p.errs.add(0, "syntax", "manifest is %d bytes; at most %d are allowed", len(src), MaxSize)
		return nil, p.errs.result()
	}
	p.parse(src)
	if p.syntaxErrors {
		return nil, p.errs.result()
	}
	if es, ok := Validate(p.m).(Errors); ok {
		p.errs.errs = append(p.errs.errs, es...)
	}
	if err := p.errs.result(); err != nil {
		return nil, err
	}
	return p.m, nil
}

type parser struct {
	errs         errorList
	syntaxErrors bool
	m            *Manifest
	cur          *Module        // the open module, nil outside one
	single       map[string]int // keywords said once in cur -> their line
	restartSet   bool
}

// once lists the keywords a module may say only once; the others add to a list.
var once = map[string]bool{
	"binary": true, "ring": true, "quota": true, "reserve": true, "cpu": true, "restart": true,
	"crashes": true, "watchdog": true, "spin": true, "args": true, "device": true, "dma": true, "vendor": true,
	"root": true, "cwd": true,
}

// arity is how many values each keyword takes: min, max (-1 = any number).
var arity = map[string][2]int{
	"binary": {1, 1}, "ring": {1, 1}, "ports": {1, -1}, "irqs": {1, -1}, "memory": {1, -1},
	"quota": {1, 2}, "reserve": {1, 2}, "cpu": {1, 2}, "serves": {1, -1}, "calls": {1, -1}, "events": {1, -1}, "publishes": {1, -1},
	"restart": {1, 1}, "crashes": {1, 1}, "watchdog": {1, 1}, "spin": {1, 1}, "content": {1, 5}, "args": {0, -1},
	"filter": {2, 2}, "device": {1, 1}, "dma": {1, 2}, "vendor": {1, 1},
	"files": {2, 2}, "root": {1, 1}, "cwd": {1, 1},
}

// positiveDuration parses v, the value of keyword kw, into *d: a syntax error without a
// duration (example shows one), rule's error when it is not positive (what names it).
func (p *parser) positiveDuration(line int, m *Module, kw, v, example, rule, what string, d *time.Duration) {
	x, err := time.ParseDuration(v)
	switch {
	case err != nil:
		p.syntax(line, "%s %q: want a duration such as %s", kw, v, example)
	case x <= 0:
		p.errs.add(line, rule, "module %q: %s %s: %s must be positive", m.Name, kw, v, what)
	default:
		*d = x
	}
}

func (p *parser) syntax(line int, format string, args ...any) {
	p.syntaxErrors = true
	p.errs.add(line, "syntax", format, args...)
}

func (p *parser) parse(src []byte) {
	for i, line := range strings.Split(string(src), "\n") {
		n := i + 1
		words, err := split(strings.TrimSuffix(line, "\r"))
		if err != "" {
			p.syntax(n, "%s", err)
			continue
		}
		if len(words) > 0 {
			p.statement(n, words[0], words[1:])
		}
	}
	if p.cur != nil {
		p.syntax(p.cur.Line, "module %q has no end", p.cur.Name)
		p.finish()
	}
}

// split cuts a line into words: separated by spaces or tabs, a word starting with '#' starts a
// comment, and a word starting with '"' is a Go-syntax quoted string. It returns a message
// when the line cannot be split.
func split(line string) (words []string, err string) {
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case c == '#':
			return words, ""
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) {
				return nil, "unterminated quoted string"
			}
			s, uerr := strconv.Unquote(line[i : j+1])
			if uerr != nil {
				return nil, "bad quoted string " + line[i:j+1]
			}
			j++
			if j < len(line) && line[j] != ' ' && line[j] != '\t' {
				return nil, "quoted string " + line[i:j] + " is not followed by a space"
			}
			words = append(words, s)
			i = j
			continue
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			if b := line[j]; b < 0x20 || b == 0x7f {
				return nil, "control character " + strconv.QuoteRune(rune(b)) + " (quote the word to include one)"
			}
			j++
		}
		words = append(words, line[i:j])
		i = j
	}
	return words, ""
}

func (p *parser) statement(line int, kw string, vals []string) {
	switch kw {
	case "module":
		name := ""
		if len(vals) != 1 {
			p.syntax(line, "module takes one name, got %d values", len(vals))
		}
		if len(vals) > 0 {
			name = vals[0]
		}
		if p.cur != nil {
			p.syntax(line, "module %q starts before module %q (line %d) has ended: missing end", name, p.cur.Name, p.cur.Line)
			p.finish()
		}
		// Open it even when the line is wrong, so that its statements are not "outside a module".
		p.m.Modules = append(p.m.Modules, Module{Name: name, Line: line, lines: map[string]int{}})
		p.cur = &p.m.Modules[len(p.m.Modules)-1]
		p.single = map[string]int{}
		p.restartSet = false
		return
	case "end":
		if p.cur == nil {
			p.syntax(line, "end outside a module")
			return
		}
		if len(vals) != 0 {
			p.syntax(line, "end takes no values")
		}
		p.finish()
		return
	}
	ar, known := arity[kw]
	if !known {
		p.syntax(line, "unknown keyword %q", kw)
		return
	}
	if p.cur == nil {
		p.syntax(line, "%s outside a module (statements go between module NAME and end)", kw)
		return
	}
	if ar[0] == ar[1] && len(vals) != ar[0] {
		p.syntax(line, "%s takes %d value(s), got %d", kw, ar[0], len(vals))
		return
	}
	if len(vals) < ar[0] || (ar[1] >= 0 && len(vals) > ar[1]) {
		if ar[1] < 0 {
			p.syntax(line, "%s takes at least %d value(s), got %d", kw, ar[0], len(vals))
		} else {
			p.syntax(line, "%s takes %d to %d values, got %d", kw, ar[0], ar[1], len(vals))
		}
		return
	}
	if once[kw] {
		if prev, dup := p.single[kw]; dup {
			p.syntax(line, "%s already given on line %d (only one is allowed)", kw, prev)
			return
		}
		p.single[kw] = line
	}
	m := p.cur
	if _, ok := m.lines[kw]; !ok {
		m.lines[kw] = line
	}
	item := func(s string) {
		if _, ok := m.lines[kw+" "+s]; !ok {
			m.lines[kw+" "+s] = line
		}
	}
	switch kw {
	case "binary":
		m.Binary = vals[0]
	case "ring":
		n, ok := parseUint(vals[0], 8)
		if !ok {
			p.syntax(line, "ring %q: want 1, 2 or 3", vals[0])
			return
		}
		m.Ring = int(n)
	case "ports":
		for _, v := range vals {
			lo, hi, ok := parseRange(v, 16)
			if !ok {
				p.syntax(line, "port range %q: want PORT or LO-HI, with LO <= HI <= 0xffff", v)
				continue
			}
			r := PortRange{uint16(lo), uint16(hi)}
			m.Ports = append(m.Ports, r)
			item(r.String())
		}
	case "irqs":
		for _, v := range vals {
			n, ok := parseUint(v, 8)
			if !ok {
				p.syntax(line, "irq %q: want a number", v)
				continue
			}
			m.IRQs = append(m.IRQs, int(n))
			item(strconv.Itoa(int(n)))
		}
	case "memory":
		for _, v := range vals {
			lo, hi, ok := parseRange(v, 64)
			if !ok {
				p.syntax(line, "memory range %q: want LO-HI physical addresses, with LO <= HI", v)
				continue
			}
			r := Range{lo, hi}
			m.Memory = append(m.Memory, r)
			item(r.String())
		}
	case "quota", "reserve":
		s := vals[0]
		if len(vals) == 2 { // "16 MiB"
			s += vals[1]
			if vals[1] != "KiB" && vals[1] != "MiB" && vals[1] != "GiB" {
				s = "?"
			}
		}
		n, ok := parseSize(s)
		switch {
		case !ok:
			p.syntax(line, "%s %q: want a size such as 16MiB (units KiB, MiB, GiB; none = bytes)", kw, strings.Join(vals, " "))
		case n == 0:
			p.errs.add(line, "quota-range", "module %q: %s must be positive", m.Name, kw)
		case kw == "quota":
			m.Quota = n
		default:
			m.Reserve = n
		}
	case "cpu":
		p.cpu(line, m, vals)
	case "serves":
		m.Serves = append(m.Serves, vals...)
		for _, v := range vals {
			item(v)
		}
	case "calls":
		m.Calls = append(m.Calls, vals...)
		for _, v := range vals {
			item(v)
		}
	case "events":
		m.Events = append(m.Events, vals...)
		for _, v := range vals {
			item(v)
		}
	case "publishes":
		m.Publishes = append(m.Publishes, vals...)
		for _, v := range vals {
			item(v)
		}
	case "restart":
		r, err := supervisor.ParseRestart(vals[0])
		if err != nil || vals[0] != r.String() {
			p.syntax(line, "restart %q: want always, on-failure or never", vals[0])
			return
		}
		m.Restart, p.restartSet = r, true
	case "crashes":
		nStr, tStr, ok := strings.Cut(vals[0], "/")
		n, nok := parseUint(nStr, 31)
		t, terr := time.ParseDuration(tStr)
		switch {
		case !ok || !nok || terr != nil:
			p.syntax(line, "crashes %q: want N/DURATION, e.g. 5/10s", vals[0])
		case n == 0 || t <= 0:
			p.errs.add(line, "crash-budget", "module %q: crashes %s: need at least 1 crash within a positive time", m.Name, vals[0])
		default:
			m.CrashBudget, m.CrashWindow = int(n), t
		}
	case "device":
		d, ok := ParseDevice(vals[0])
		if !ok {
			p.syntax(line, "device %q: want VENDOR:DEVICE in hex (1af4:1042) or a slot BUS:DEV.FN (00:03.0)", vals[0])
			return
		}
		m.Device = &d
	case "dma":
		s := strings.Join(vals, "")
		n, ok := parseSize(s)
		if !ok || len(vals) == 2 && vals[1] != "KiB" && vals[1] != "MiB" && vals[1] != "GiB" {
			p.syntax(line, "dma %q: want a size such as 1MiB (units KiB, MiB, GiB; none = bytes)", strings.Join(vals, " "))
			return
		}
		m.DMA = n
	case "watchdog":
		p.positiveDuration(line, m, kw, vals[0], "500ms", "watchdog-range", "the heartbeat deadline", &m.Watchdog)
	case "spin":
		p.positiveDuration(line, m, kw, vals[0], "200ms", "spin-range", "the spinning limit", &m.Spin)
	case "content":
		c := ContentFile{Path: vals[0]}
		for rest := vals[1:]; len(rest) > 0; rest = rest[2:] {
			switch {
			case len(rest) >= 2 && rest[0] == "rollback" && c.Rollback == "":
				c.Rollback = rest[1]
			case len(rest) >= 2 && rest[0] == "dir" && c.Dir == "":
				c.Dir = rest[1]
			default:
				p.syntax(line, "content: want NAME [rollback NAME] [dir PATH]")
				return
			}
		}
		m.Content = append(m.Content, c)
		item(c.Path)
	case "files":
		if vals[1] != "ro" && vals[1] != "rw" {
			p.syntax(line, "files %s %s: want ro or rw", vals[0], vals[1])
			return
		}
		m.Files = append(m.Files, PathGrant{Path: vals[0], Write: vals[1] == "rw"})
		item(vals[0])
	case "root":
		m.Root = vals[0]
	case "cwd":
		m.Cwd = vals[0]
	case "args":
		m.Args = append([]string{}, vals...)
	case "vendor":
		switch vals[0] {
		case VendorSystem:
		case VendorThirdParty:
			m.ThirdParty = true
		default:
			p.syntax(line, "vendor %q: want %s or %s", vals[0], VendorSystem, VendorThirdParty)
		}
	case "filter":
		m.Filters = append(m.Filters, Filter{Endpoint: vals[0], Program: vals[1]})
		item(vals[0])
	}
}

// cpu reads "cpu TOTAL", "cpu USED/PERIOD" or both.
func (p *parser) cpu(line int, m *Module, vals []string) {
	var b CPUBudget
	for _, v := range vals {
		used, period, per := strings.Cut(v, "/")
		u, err := time.ParseDuration(used)
		var pd time.Duration
		if per && err == nil {
			pd, err = time.ParseDuration(period)
		}
		switch {
		case err != nil:
			p.syntax(line, "cpu %q: want a duration (total) or USED/PERIOD, e.g. 5s or 200ms/1s", v)
			return
		case per && b.Period != 0, !per && b.Total != 0:
			p.syntax(line, "cpu: give at most one total and one USED/PERIOD budget")
			return
		case u <= 0 || (per && pd <= 0):
			p.errs.add(line, "cpu-budget", "module %q: cpu %s: budgets and periods must be positive", m.Name, v)
			return
		case per:
			b.PerPeriod, b.Period = u, pd
		default:
			b.Total = u
		}
	}
	m.CPU = b
}

// finish closes the open module, filling the restart rule from the ring's default.
func (p *parser) finish() {
	if p.cur != nil && !p.restartSet {
		p.cur.Restart = supervisor.DefaultRules(p.cur.Ring).Restart
	}
	p.cur, p.single = nil, nil
}

// parseUint reads a decimal number or a 0x hexadecimal one that fits in bits bits. Leading
// zeros are decimal (no octal surprises); no signs or underscores.
func parseUint(s string, bits int) (uint64, bool) {
	base := 10
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s, base = s[2:], 16
	}
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')) {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, base, bits)
	return n, err == nil
}

// parseRange reads "N" or "LO-HI" with LO <= HI.
func parseRange(s string, bits int) (lo, hi uint64, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, ok = parseUint(a, bits); !ok {
		return 0, 0, false
	}
	hi = lo
	if isRange {
		if hi, ok = parseUint(b, bits); !ok {
			return 0, 0, false
		}
	}
	return lo, hi, lo <= hi
}

// parseSize reads a byte count with an optional KiB, MiB or GiB unit.
func parseSize(s string) (uint64, bool) {
	mult := uint64(1)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, ok := parseUint(s, 64)
	if !ok || n > ^uint64(0)/mult {
		return 0, false
	}
	return n * mult, true
}
