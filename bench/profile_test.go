package bench

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/bench/itrace"
)

// fakeMonitor serves QEMU's human monitor at socket: a prompt, then one per command, which it
// records.
func fakeMonitor(t *testing.T, socket string) <-chan string {
	l, err := net.Listen("unix", socket)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	cmds := make(chan string, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("QEMU 7.2 monitor - type 'help' for more information\r\n(qemu) "))
			r := bufio.NewReader(c)
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					break
				}
				cmds <- strings.TrimSpace(l)
				c.Write([]byte(l + "\r\n(qemu) "))
			}
			c.Close()
		}
	}()
	return cmds
}

func TestMonitorTurnsTheLogOnAndOffAtTheCues(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "m.sock")
	cmds := fakeMonitor(t, sock)
	m := &monitor{socket: sock, dir: dir}
	m.Write([]byte("ipc-client: profile: rea"))
	assert.Empty(t, cmds, "half a line is no cue")
	m.Write([]byte("dy n=200\nsomething else\n"))
	assert.Equal(t, "logfile "+filepath.Join(dir, "exec-0.log"), <-cmds)
	assert.Equal(t, "log exec,nochain", <-cmds)
	m.Write([]byte("ipc-client: profile: done ns-per-trip=4610\n"))
	assert.Equal(t, "log none", <-cmds)
	m.Write([]byte("profile: ready n=200\n"))
	assert.Equal(t, "logfile "+filepath.Join(dir, "exec-1.log"), <-cmds)
	<-cmds
	assert.Equal(t, []string{filepath.Join(dir, "exec-0.log"), filepath.Join(dir, "exec-1.log")}, m.logs)
	assert.Equal(t, []float64{4610}, m.clocked)
	assert.Empty(t, m.problems())

	gone := &monitor{socket: filepath.Join(dir, "none.sock"), dir: dir}
	gone.Write([]byte("profile: ready n=1\n"))
	assert.Len(t, gone.problems(), 1, "no monitor: a problem, not a hang")
}

func TestProfileTable(t *testing.T) {
	p := &itrace.Profile{Trips: 2, Total: 200, Rows: []itrace.Row{
		{Level: 0, Side: "core", Func: "github.com/simpleos/simpleos/core/kernel/mm.PageTable.Walk", Instr: 120},
		{Level: 3, Side: "client (ring 3)", Func: "main.loop", Instr: 79},
		{Level: 0, Side: "core", Func: "tiny", Instr: 1},
	}}
	var b strings.Builder
	profileTable(&b, Profile{Name: "r3-r2", Env: "tcg-icount", Profile: p, Clocked: 101}, 0.01)
	out := b.String()
	assert.Contains(t, out, "| **total** | **100** | 100% |")
	assert.Contains(t, out, "| the same stretch by the client's clock (guest ns) | 101 | |")
	assert.Contains(t, out, "| core, all | 60 | 60.5% |")
	assert.Contains(t, out, "| core: `core/kernel/mm.PageTable.Walk` | 60 | 60.0% |", "the module's path left out")
	assert.Contains(t, out, "| every other function | 0.5 | 0.5% |")
	assert.NotContains(t, out, "tiny")
}

func TestTheMicroProgramHasTheProfileMarks(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "micro")
	out, err := exec.Command("go", "build", "-o", bin, "./progs/micro").CombinedOutput()
	require.NoError(t, err, "%s", out)
	syms, err := itrace.ELFSymbols(bin)
	require.NoError(t, err)
	start, ok1 := syms.Addr("main.profileStart")
	stop, ok2 := syms.Addr("main.profileStop")
	require.True(t, ok1 && ok2)
	assert.NotEqual(t, start, stop, "two functions, never folded into one")

	lines, err := itrace.ELFLines(bin)
	require.NoError(t, err, "a Go program has a line table")
	prog := program{syms, lines}
	_, err = readProfile(filepath.Join(t.TempDir(), "none.log"), prog, prog, 2)
	assert.ErrorIs(t, err, os.ErrNotExist)
	none := program{itrace.NewSymbols(nil), lines}
	_, err = readProfile(filepath.Join(t.TempDir(), "none.log"), none, none, 2)
	assert.ErrorContains(t, err, "main.profileStart")
}

func TestProfileLinesTable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "core", "kernel", "x.go")
	require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644))
	require.NoError(t, os.WriteFile(file, []byte("package x\n\tn := a | b // the pipe is escaped\n"), 0o644))
	p := Profile{Name: "IPC r3-r2", Env: "tcg-icount", Profile: &itrace.Profile{
		Trips: 2, Total: 13,
		Rows: []itrace.Row{{Level: 0, Side: "core", Func: "github.com/simpleos/simpleos/core/kernel.x", Instr: 12}, {Level: 3, Side: "client", Func: "main.f", Instr: 1}},
		Lines: []itrace.LineRow{
			{Level: 0, Func: "github.com/simpleos/simpleos/core/kernel.x", File: file, Line: 2, Instr: 10},
			{Level: 0, Func: "github.com/simpleos/simpleos/core/kernel.x", File: "", Line: 0, Instr: 2},
			{Level: 3, Func: "main.f", File: "/usr/lib/go/src/runtime/proc.go", Line: 9, Instr: 1},
		},
	}}
	var b strings.Builder
	profileLines(&b, p, 0.5, &sourceFiles{})
	out := b.String()
	assert.Contains(t, out, "## IPC r3-r2 (tcg-icount), per operation (2 traced)")
	assert.Contains(t, out, "| **core: `core/kernel.x`** | **6.0** | |")
	assert.Contains(t, out, "| `core/kernel/x.go:2` | 5.0 | `n := a \\| b // the pipe is escaped` |")
	assert.Contains(t, out, "| `(no line)` | 1.0 | |")
	assert.Contains(t, out, "| **ring 3: `main.f`** | **0.5** | |")
	assert.Contains(t, out, "| `runtime/proc.go:9` | 0.5 | |", "a file not at hand: no text")
}
