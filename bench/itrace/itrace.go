// Package itrace turns QEMU's instruction trace into a profile: how many instructions each
// function of the core and of each task ran over a marked stretch of a boot.
//
// QEMU run with -singlestep (one instruction per translation block) and `-d exec,nochain`
// logs one line per instruction executed:
//
//	Trace 0: 0x7f35c8000100 [00000000/0000000000401a2e/000000b3/00000000] main.profileStart
//
// the second field is the guest's PC and the third its hflags, whose low two bits are the
// privilege level the instruction ran at. The level says whose code it is (the core at 0, a
// task at its ring), and that side's symbol table names the function. Counting starts at the
// first instruction of a start mark and stops at the first of a stop mark, both given as a
// level and an address; the stretch holds a known number of repetitions of what is measured
// (Trips), so each row is also given per repetition. A side whose program is a Go binary can
// also have its instructions counted by source line (Lines, from the binary's pclntab): which
// statement of which function the instructions of a round trip belong to.
package itrace

import (
	"bufio"
	"debug/elf"
	"debug/gosym"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Symbols is a program's function symbols, sorted by address.
type Symbols struct {
	addr []uint64
	size []uint64
	name []string
}

// ELFSymbols reads the function symbols of the ELF file at path.
func ELFSymbols(path string) (*Symbols, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("itrace: %w", err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("itrace: %s: %w", path, err)
	}
	type sym struct {
		addr, size uint64
		name       string
	}
	var list []sym
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Value == 0 {
			continue
		}
		list = append(list, sym{s.Value, s.Size, s.Name})
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("itrace: %s: no function symbols", path)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].addr < list[j].addr })
	s := &Symbols{}
	for _, e := range list {
		s.addr, s.size, s.name = append(s.addr, e.addr), append(s.size, e.size), append(s.name, e.name)
	}
	return s, nil
}

// NewSymbols builds a table from names and their address ranges (for tests and for code
// that has no symbols, such as the core's trampoline copied to its entry area).
func NewSymbols(ranges map[string][2]uint64) *Symbols {
	s := &Symbols{}
	names := make([]string, 0, len(ranges))
	for n := range ranges {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return ranges[names[i]][0] < ranges[names[j]][0] })
	for _, n := range names {
		r := ranges[n]
		s.addr, s.size, s.name = append(s.addr, r[0]), append(s.size, r[1]-r[0]), append(s.name, n)
	}
	return s
}

// Lookup names the function holding pc ("" if none does).
func (s *Symbols) Lookup(pc uint64) string {
	if n, _, _ := lookup([]*Symbols{s}, pc); n != "?" {
		return n
	}
	return ""
}

// Addr returns the address of the function called name.
func (s *Symbols) Addr(name string) (uint64, bool) {
	for i, n := range s.name {
		if n == name {
			return s.addr[i], true
		}
	}
	return 0, false
}

// Side is whose code runs at one privilege level: a name for the profile's rows and the
// symbol tables to look its addresses up in, tried in order; with Lines, its instructions are
// also counted by source line (an address the table does not cover counts on line 0 of
// its function).
type Side struct {
	Name    string
	Symbols []*Symbols
	Lines   *Lines
}

// Lines maps a Go program's addresses to source lines, by its pclntab (a stripped binary
// keeps it: the runtime needs it for tracebacks).
type Lines struct {
	table   *gosym.Table
	aliases []alias
}

// alias is a copy of the program's code at another address (Alias).
type alias struct{ lo, hi, to uint64 }

// Alias says that [lo, hi) holds a copy of the program's code at to: its lines are the
// original's (the core's trampoline, copied to the entry area at boot).
func (l *Lines) Alias(lo, hi, to uint64) { l.aliases = append(l.aliases, alias{lo, hi, to}) }

// ELFLines reads the line table of the Go program in the ELF file at path.
func ELFLines(path string) (*Lines, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("itrace: %w", err)
	}
	defer f.Close()
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil, fmt.Errorf("itrace: %s: no .gopclntab or .text (not a Go program?)", path)
	}
	data, err := pcln.Data()
	if err != nil {
		return nil, fmt.Errorf("itrace: %s: %w", path, err)
	}
	t, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil, fmt.Errorf("itrace: %s: %w", path, err)
	}
	return &Lines{table: t}, nil
}

// Line returns the source file and line of the instruction at pc (line 0 if the table has
// none).
func (l *Lines) Line(pc uint64) (string, int) {
	for _, a := range l.aliases {
		if a.lo <= pc && pc < a.hi {
			pc = a.to + pc - a.lo
			break
		}
	}
	file, line, fn := l.table.PCToLine(pc)
	if fn == nil {
		return "", 0
	}
	return file, line
}

// Mark is an instruction that starts or stops the count: the first instruction of a
// function, at a privilege level.
type Mark struct {
	Level int
	PC    uint64
}

// Config says how to read a trace.
type Config struct {
	Sides       [4]Side // by privilege level; a level with no name is "ring N"
	Start, Stop Mark
	Trips       int // repetitions of the measured operation between the marks (1 if 0)
}

// Row is one function's instructions over the stretch.
type Row struct {
	Level int
	Side  string
	Func  string // "?" for an address no symbol covers
	Instr uint64
}

// LineRow is one source line's instructions over the stretch, in one function at one level.
type LineRow struct {
	Level int
	Func  string
	File  string // "" where the side's line table has no line
	Line  int
	Instr uint64
}

// Profile is what a trace shows between the marks.
type Profile struct {
	Trips  int
	Total  uint64
	Rows   []Row // by instructions, most first
	Levels [4]uint64
	// Lines are the instructions of the sides with a line table, by source line: functions
	// in the order of Rows, each function's lines in source order.
	Lines []LineRow
}

// PerTrip is n divided by the profile's trips.
func (p *Profile) PerTrip(n uint64) float64 { return float64(n) / float64(max(p.Trips, 1)) }

// Errors a trace without a complete stretch gives.
var (
	ErrNoStart = errors.New("itrace: the trace never reached the start mark (was it turned on too late?)")
	ErrNoStop  = errors.New("itrace: the trace ended before the stop mark")
)

// Read reads a trace and profiles the stretch between the marks.
func Read(r io.Reader, c Config) (*Profile, error) {
	counts := map[fnKey]uint64{}
	lines := map[lineKey]uint64{}
	// The last function looked up: consecutive instructions are mostly in one function.
	var lastLevel = -1
	var lastLo, lastHi uint64
	var lastFn string
	p := &Profile{Trips: max(c.Trips, 1)}
	started := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		pc, level, ok := parseLine(sc.Bytes())
		if !ok {
			continue
		}
		if !started {
			if level == c.Start.Level && pc == c.Start.PC {
				started = true
			} else {
				continue
			}
		} else if level == c.Stop.Level && pc == c.Stop.PC {
			p.finish(rowsOf(counts, c))
			p.Lines = lineRowsOf(lines, p.Rows)
			return p, nil
		}
		p.Total++
		p.Levels[level]++
		if level != lastLevel || pc < lastLo || pc >= lastHi {
			lastLevel = level
			lastFn, lastLo, lastHi = lookup(c.Sides[level].Symbols, pc)
		}
		counts[fnKey{level, lastFn}]++
		if l := c.Sides[level].Lines; l != nil {
			file, line := l.Line(pc)
			lines[lineKey{fnKey{level, lastFn}, file, line}]++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("itrace: %w", err)
	}
	if !started {
		return nil, ErrNoStart
	}
	return nil, ErrNoStop
}

// lookup names the function at pc and the address range the name holds for (a single
// address for "?").
func lookup(tables []*Symbols, pc uint64) (string, uint64, uint64) {
	for _, s := range tables {
		i := sort.Search(len(s.addr), func(i int) bool { return s.addr[i] > pc }) - 1
		if i >= 0 && pc-s.addr[i] < max(s.size[i], 1) {
			return s.name[i], s.addr[i], s.addr[i] + max(s.size[i], 1)
		}
	}
	return "?", pc, pc + 1
}

// fnKey is one function at one privilege level.
type fnKey struct {
	level int
	fn    string
}

// lineKey is one source line of one function at one level.
type lineKey struct {
	fnKey
	file string
	line int
}

// lineRowsOf orders the line counts as Profile.Lines says.
func lineRowsOf(lines map[lineKey]uint64, rows []Row) []LineRow {
	order := map[fnKey]int{}
	for i, r := range rows {
		order[fnKey{r.Level, r.Func}] = i
	}
	out := make([]LineRow, 0, len(lines))
	for k, n := range lines {
		out = append(out, LineRow{Level: k.level, Func: k.fn, File: k.file, Line: k.line, Instr: n})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		oa, ob := order[fnKey{a.Level, a.Func}], order[fnKey{b.Level, b.Func}]
		if oa != ob {
			return oa < ob
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return out
}

func rowsOf(counts map[fnKey]uint64, c Config) []Row {
	rows := make([]Row, 0, len(counts))
	for k, n := range counts {
		rows = append(rows, Row{Level: k.level, Side: sideName(c, k.level), Func: k.fn, Instr: n})
	}
	return rows
}

func (p *Profile) finish(rows []Row) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Instr != rows[j].Instr {
			return rows[i].Instr > rows[j].Instr
		}
		return rows[i].Side+rows[i].Func < rows[j].Side+rows[j].Func
	})
	p.Rows = rows
}

// sideName is the name of level's side.
func sideName(c Config, level int) string {
	if n := c.Sides[level].Name; n != "" {
		return n
	}
	return "ring " + strconv.Itoa(level)
}

// parseLine reads the PC and privilege level of one "Trace" line.
func parseLine(b []byte) (pc uint64, level int, ok bool) {
	s := string(b)
	if !strings.HasPrefix(s, "Trace ") {
		return 0, 0, false
	}
	i := strings.IndexByte(s, '[')
	j := strings.IndexByte(s, ']')
	if i < 0 || j < i {
		return 0, 0, false
	}
	f := strings.Split(s[i+1:j], "/")
	if len(f) < 3 {
		return 0, 0, false
	}
	pc, err1 := strconv.ParseUint(f[1], 16, 64)
	flags, err2 := strconv.ParseUint(f[2], 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return pc, int(flags & 3), true
}
