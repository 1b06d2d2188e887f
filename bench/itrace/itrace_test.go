package itrace

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// line is one QEMU exec-log line at pc and privilege level.
func line(pc uint64, level int) string {
	return fmt.Sprintf("Trace 0: 0x7fdd3900f680 [0000000000000000/%016x/0040c2%02x/ff020201] \n", pc, 0x90|level)
}

func testConfig() Config {
	core := NewSymbols(map[string][2]uint64{"kernel.handleTrap": {0x1000, 0x1100}, "ipc.SysCall": {0x2000, 0x2100}})
	task := NewSymbols(map[string][2]uint64{"main.start": {0x400000, 0x400010}, "main.stop": {0x400010, 0x400020}, "main.loop": {0x400100, 0x400200}})
	var c Config
	c.Sides[0] = Side{Name: "core", Symbols: []*Symbols{core}}
	c.Sides[3] = Side{Name: "client", Symbols: []*Symbols{task}}
	c.Start, c.Stop = Mark{3, 0x400000}, Mark{3, 0x400010}
	c.Trips = 2
	return c
}

func TestReadCountsTheStretchBetweenTheMarks(t *testing.T) {
	var b strings.Builder
	b.WriteString("some other log line\n")
	b.WriteString(line(0x400100, 3)) // before the start: not counted
	b.WriteString(line(0x400000, 3)) // start
	for range 2 {
		b.WriteString(line(0x400100, 3))
		b.WriteString(line(0x400104, 3))
		b.WriteString(line(0x1000, 0))
		b.WriteString(line(0x2000, 0))
		b.WriteString(line(0x2004, 0))
		b.WriteString(line(0x400000, 2)) // the start address at another level is no mark
		b.WriteString(line(0x9000, 0))   // no symbol
	}
	b.WriteString(line(0x400010, 3)) // stop
	b.WriteString(line(0x400100, 3)) // after: not counted
	p, err := Read(strings.NewReader(b.String()), testConfig())
	require.NoError(t, err)
	assert.Equal(t, uint64(15), p.Total, "the start mark's own instruction and 14 more")
	assert.Equal(t, [4]uint64{8, 0, 2, 5}, p.Levels)
	assert.Equal(t, 7.5, p.PerTrip(p.Total))
	want := []Row{
		{Level: 3, Side: "client", Func: "main.loop", Instr: 4},
		{Level: 0, Side: "core", Func: "ipc.SysCall", Instr: 4},
		{Level: 2, Side: "ring 2", Func: "?", Instr: 2},
		{Level: 0, Side: "core", Func: "?", Instr: 2},
		{Level: 0, Side: "core", Func: "kernel.handleTrap", Instr: 2},
		{Level: 3, Side: "client", Func: "main.start", Instr: 1},
	}
	assert.ElementsMatch(t, want, p.Rows)
	assert.Equal(t, uint64(4), p.Rows[0].Instr, "most first")
}

func TestReadWithoutBothMarks(t *testing.T) {
	_, err := Read(strings.NewReader(line(0x400100, 3)), testConfig())
	assert.ErrorIs(t, err, ErrNoStart)
	_, err = Read(strings.NewReader(line(0x400000, 3)+line(0x400100, 3)), testConfig())
	assert.ErrorIs(t, err, ErrNoStop)
}

func TestSymbols(t *testing.T) {
	s := NewSymbols(map[string][2]uint64{"a": {0x10, 0x20}, "b": {0x30, 0x31}})
	assert.Equal(t, "a", s.Lookup(0x10))
	assert.Equal(t, "a", s.Lookup(0x1f))
	assert.Equal(t, "", s.Lookup(0x20), "past a's end, before b")
	assert.Equal(t, "b", s.Lookup(0x30))
	assert.Equal(t, "", s.Lookup(0x5))
	a, ok := s.Addr("b")
	assert.True(t, ok)
	assert.Equal(t, uint64(0x30), a)
}

func TestELFSymbolsOfNoELF(t *testing.T) {
	_, err := ELFSymbols("itrace.go")
	assert.ErrorContains(t, err, "itrace: ")
}

// lineMark is a function whose first instruction the line test finds by address.
//
//go:noinline
func lineMark() int { return 42 }

func TestLinesAttributeInstructionsToSourceLines(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	lines, err := ELFLines(exe)
	require.NoError(t, err)
	pc := uint64(reflect.ValueOf(lineMark).Pointer())
	file, ln := lines.Line(pc)
	wantFile, wantLine := runtime.FuncForPC(uintptr(pc)).FileLine(uintptr(pc))
	assert.Equal(t, wantFile, file)
	assert.Equal(t, wantLine, ln, "the runtime's own line for lineMark's first instruction")
	assert.True(t, strings.HasSuffix(file, "bench/itrace/itrace_test.go"), file)
	n, _ := lines.Line(1)
	assert.Empty(t, n, "an address outside the program has no line")
	const copyAt = 0xffff_ff80_0000_1000 // a copy of lineMark's code, as the entry area holds the trampoline's
	lines.Alias(copyAt, copyAt+0x100, pc)
	cf, cl := lines.Line(copyAt)
	assert.Equal(t, []any{file, ln}, []any{cf, cl}, "a copy has its original's lines")

	c := testConfig()
	syms := NewSymbols(map[string][2]uint64{"itrace.lineMark": {pc, pc + 1}}) // go test strips the symbol table
	c.Sides[0] = Side{Name: "core", Symbols: []*Symbols{syms}, Lines: lines}
	var b strings.Builder
	b.WriteString(line(0x400000, 3))
	for range 2 {
		b.WriteString(line(pc, 0))
	}
	b.WriteString(line(0x400010, 3))
	p, err := Read(strings.NewReader(b.String()), c)
	require.NoError(t, err)
	require.Len(t, p.Lines, 1, "only the side with a line table is counted by line")
	assert.Equal(t, LineRow{Level: 0, Func: "itrace.lineMark", File: file, Line: ln, Instr: 2}, p.Lines[0])
}
