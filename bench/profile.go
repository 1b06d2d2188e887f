package bench

// The IPC profile (part "profile"): where the instructions of one call+reply round trip go.
// QEMU runs the micro-benchmark client and servers one instruction per translation block
// (-singlestep); when the client says "profile: ready", the launcher turns QEMU's execution
// log on through the human monitor, and off at "profile: done". Package itrace reads the log
// between the client's two marks and attributes every instruction to a function of the core
// (privilege level 0, the core's ELF; its trampoline in the entry area by address) or of a
// task (its ring; both tasks are the micro program).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simpleos/simpleos/bench/itrace"
	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

// PartProfile is the instruction profile of IPC round trips.
const PartProfile = "profile"

// profileTrips is how many round trips one profiled stretch holds.
const profileTrips = 200

// profilePairs are the stretches profiled: a name, the client's operation (an endpoint's
// call+reply round trip with four words, or a null system call) and the server's ring.
var profilePairs = []struct {
	name, op string
	ring     int
}{
	{"IPC r3-r2", "echo-r2", 2},
	{"IPC r3-r2-locked (ServeLocked)", "echo-r2-locked", 2},
	{"IPC r3-r2-raw (CallLocked to ServeLocked)", "locked:echo-r2-locked", 2},
	{"IPC r3-r2-1kbuf (1 KiB in IPC buffers)", "buffer:echo-r2", 2},
	{"IPC r3-r1", "echo-r1", 1},
	{"IPC r3-r2-filtered", "guarded", 2}, // also the last endpoint the ring-2 server waits on to quit
	{"getppid r3", "getppid", 0},
	{"sched_yield r3 (nothing else runnable)", "yield", 0},
}

// profileCommand turns QEMU's execution log on, one line per translation block: with
// -singlestep, per instruction.
const profileCommand = "log exec,nochain"

// Profile is one profiled round trip.
type Profile struct {
	Name    string // "IPC r3-r2"
	Env     string
	Profile *itrace.Profile
	// Clocked is the same stretch by the client's clock, in guest ns per round trip: under
	// -icount shift=0, instructions counted by QEMU rather than by the trace.
	Clocked float64
}

func (s *suite) runProfile(ctx context.Context, e Env) {
	if !e.Instructions() {
		return // once, in the -icount environment: TCG's log, and the same count every run
	}
	name := e.Name + "-profile"
	s.progress.boot(e.Name + ": an instruction profile of IPC round trips")
	if s.micro == "" {
		s.errorf("%s: bench/progs/micro was not built", name)
		return
	}
	work, err := os.MkdirTemp(s.cfg.Out, "profile-")
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	defer os.RemoveAll(work) // the logs are large: a few hundred MB
	policyFile, err := s.writeMicroPolicy()
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	var pairs []string
	for _, p := range profilePairs {
		pairs = append(pairs, strings.ReplaceAll(p.name, " ", "_")+"="+p.op)
	}
	client := microTask{"ipc-client", 3, append([]string{"profile", strconv.Itoa(profileTrips)}, pairs...)}
	specs, err := s.microSpecs([]microTask{client})
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	o, err := boot.System(s.cfg.Paths, boot.SystemSpec{Apps: specs, NoModules: true, Policy: policyFile}, s.cfg.Log)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	mon := &monitor{socket: filepath.Join(work, "monitor.sock"), dir: work}
	o.Accel, o.Icount = e.Accel, e.Icount
	o.Timeout = s.bootTimeout(15 * time.Minute)
	o.Stdout = mon
	o.ExtraArgs = append(o.ExtraArgs, "-singlestep", "-monitor", "unix:"+mon.socket+",server=on,wait=off")
	res, err := s.runBoot(ctx, name, o)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	var problems []string
	if why := bootEnded(res); why != "" {
		problems = append(problems, "the boot "+why)
	}
	problems = append(problems, mon.problems()...)
	_, rs := guestResults(res.Output)
	problems = append(problems, rs...)
	if len(mon.logs) < len(profilePairs) {
		problems = append(problems, fmt.Sprintf("%d of %d stretches traced", len(mon.logs), len(profilePairs)))
	}
	var core, task program
	for _, pr := range []struct {
		p    *program
		path string
	}{{&core, s.cfg.Paths.ELF}, {&task, s.micro}} {
		var err1, err2 error
		pr.p.syms, err1 = itrace.ELFSymbols(pr.path)
		pr.p.lines, err2 = itrace.ELFLines(pr.path)
		if err := errors.Join(err1, err2); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if core.syms != nil && task.syms != nil && core.lines != nil && task.lines != nil {
		aliasTrampoline(core)
		for i, log := range mon.logs {
			if i >= len(profilePairs) {
				break
			}
			pair := profilePairs[i]
			p, err := readProfile(log, core, task, pair.ring)
			if err != nil {
				problems = append(problems, pair.name+": "+err.Error())
				continue
			}
			pr := Profile{Name: pair.name, Env: e.Name, Profile: p}
			if i < len(mon.clocked) {
				pr.Clocked = mon.clocked[i]
			}
			s.report.Profiles = append(s.report.Profiles, pr)
		}
	}
	if len(problems) > 0 {
		s.errorf("%s: %s (transcript: %s)", name, strings.Join(problems, "; "), s.logPath(name))
	}
}

// aliasTrampoline gives the trampoline's copies in the entry area the lines of the routines
// they were copied from in the core image.
func aliasTrampoline(core program) {
	code, slot := uint64(arch.EntryCode), uint64(arch.EntryCodeSlot)
	for i, name := range []string{"trampCommon", "trampSyscall", "trampExit", "trampSysret"} {
		if to, ok := core.syms.Addr("github.com/simpleos/simpleos/core/kernel/arch." + name + ".abi0"); ok {
			lo := code + uint64(i)*slot
			core.lines.Alias(lo, lo+slot, to)
		}
	}
}

// program is a Go program's symbols and line table.
type program struct {
	syms  *itrace.Symbols
	lines *itrace.Lines
}

// readProfile profiles one stretch's log: the client in ring 3, the server (if any: 0 for
// none) in ring server; every side by function and by source line.
func readProfile(log string, core, task program, server int) (*itrace.Profile, error) {
	start, ok1 := task.syms.Addr("main.profileStart")
	stop, ok2 := task.syms.Addr("main.profileStop")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("the micro program has no main.profileStart/main.profileStop")
	}
	// The core's trampoline is copied to the entry area: no symbol covers it there.
	code, slot := uint64(arch.EntryCode), uint64(arch.EntryCodeSlot)
	tramp := itrace.NewSymbols(map[string][2]uint64{
		"arch.trampCommon (entry area)":  {code, code + slot},
		"arch.trampSyscall (entry area)": {code + slot, code + 2*slot},
		"arch.trampExit (entry area)":    {code + 2*slot, code + 3*slot},
		"arch.trampSysret (entry area)":  {code + 3*slot, code + 4*slot},
		"arch stubs (entry area)":        {arch.EntryStubs, code},
	})
	var c itrace.Config
	c.Sides[0] = itrace.Side{Name: "core", Symbols: []*itrace.Symbols{core.syms, tramp}, Lines: core.lines}
	c.Sides[3] = itrace.Side{Name: "client (ring 3)", Symbols: []*itrace.Symbols{task.syms}, Lines: task.lines}
	if server != 0 {
		c.Sides[server] = itrace.Side{Name: fmt.Sprintf("server (ring %d)", server), Symbols: []*itrace.Symbols{task.syms}, Lines: task.lines}
	}
	c.Start, c.Stop = itrace.Mark{Level: 3, PC: start}, itrace.Mark{Level: 3, PC: stop}
	c.Trips = profileTrips
	f, err := os.Open(log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return itrace.Read(f, c)
}

// monitor turns QEMU's execution log on and off through its human monitor as the serial
// console shows the client's cues; each stretch gets a log file of its own.
type monitor struct {
	socket, dir string
	mu          sync.Mutex
	partial     []byte
	logs        []string
	clocked     []float64 // each stretch's ns per round trip by the guest's clock
	errs        []string
}

func (m *monitor) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.partial = append(m.partial, p...)
	for {
		i := bytes.IndexByte(m.partial, '\n')
		if i < 0 {
			break
		}
		line := string(m.partial[:i])
		m.partial = m.partial[i+1:]
		switch {
		case strings.Contains(line, "profile: ready"):
			log := filepath.Join(m.dir, fmt.Sprintf("exec-%d.log", len(m.logs)))
			m.logs = append(m.logs, log)
			m.command("logfile "+log, profileCommand)
		case strings.Contains(line, "profile: done"):
			m.command("log none")
			if _, v, ok := strings.Cut(line, "ns-per-trip="); ok {
				f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				m.clocked = append(m.clocked, f)
			}
		}
	}
	if len(m.partial) > 64<<10 {
		m.partial = m.partial[len(m.partial)-4096:]
	}
	return len(p), nil
}

// command sends HMP commands in order, at once: the guest goes on running meanwhile.
func (m *monitor) command(cmds ...string) {
	if err := hmp(m.socket, cmds...); err != nil {
		m.errs = append(m.errs, err.Error())
	}
}

func (m *monitor) problems() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.errs...)
}

// hmp runs commands on QEMU's human monitor at socket, each after the prompt.
func hmp(socket string, cmds ...string) error {
	c, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := readPrompt(c); err != nil {
		return err
	}
	for _, cmd := range cmds {
		if _, err := io.WriteString(c, cmd+"\n"); err != nil {
			return fmt.Errorf("monitor: %s: %w", cmd, err)
		}
		if err := readPrompt(c); err != nil {
			return fmt.Errorf("monitor: %s: %w", cmd, err)
		}
	}
	return nil
}

// readPrompt reads up to the monitor's "(qemu) " prompt.
func readPrompt(r io.Reader) error {
	var got []byte
	buf := make([]byte, 512)
	for !bytes.Contains(got, []byte("(qemu) ")) {
		n, err := r.Read(buf)
		if err != nil {
			return fmt.Errorf("monitor: %w (read %q)", err, got)
		}
		got = append(got, buf[:n]...)
	}
	return nil
}

// profileTable writes a profile as a markdown table: per side, then the functions that ran
// at least minShare of the instructions.
func profileTable(w io.Writer, p Profile, minShare float64) {
	pr := p.Profile
	fmt.Fprintf(w, "| %s (%s): per operation, %d traced | instructions | share |\n|---|---:|---:|\n", p.Name, p.Env, pr.Trips)
	fmt.Fprintf(w, "| **total** | **%s** | 100%% |\n", fmtCount(pr.PerTrip(pr.Total)))
	if p.Clocked > 0 {
		fmt.Fprintf(w, "| the same stretch by the client's clock (guest ns) | %s | |\n", fmtCount(p.Clocked))
	}
	type side struct {
		name string
		n    uint64
	}
	sides := map[string]uint64{}
	for _, r := range pr.Rows {
		sides[r.Side] += r.Instr
	}
	var list []side
	for n, v := range sides {
		list = append(list, side{n, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].n > list[j].n })
	for _, sd := range list {
		fmt.Fprintf(w, "| %s, all | %s | %.1f%% |\n", sd.name, fmtCount(pr.PerTrip(sd.n)), 100*float64(sd.n)/float64(pr.Total))
	}
	var rest uint64
	for _, r := range pr.Rows {
		share := float64(r.Instr) / float64(pr.Total)
		if share < minShare {
			rest += r.Instr
			continue
		}
		fn := strings.TrimPrefix(r.Func, "github.com/simpleos/simpleos/")
		fmt.Fprintf(w, "| %s: `%s` | %s | %.1f%% |\n", r.Side, fn, fmtCount(pr.PerTrip(r.Instr)), 100*share)
	}
	if rest > 0 {
		fmt.Fprintf(w, "| every other function | %s | %.1f%% |\n", fmtCount(pr.PerTrip(rest)), 100*float64(rest)/float64(pr.Total))
	}
}

// fmtCount prints a per-trip count to one decimal below 10, whole above.
func fmtCount(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// LinesFile is where WriteAll puts the profiles by source line.
const LinesFile = "profile-lines.md"

// profileLines writes a profile's instructions by source line, a table per side: each
// function's total, then its lines of at least minPerTrip instructions a round trip, with
// the line's text where the source file is at hand.
func profileLines(w io.Writer, p Profile, minPerTrip float64, src *sourceFiles) {
	pr := p.Profile
	fmt.Fprintf(w, "## %s (%s), per operation (%d traced)\n\n", p.Name, p.Env, pr.Trips)
	fmt.Fprintf(w, "| function / line | instructions | source |\n|---|---:|---|\n")
	fnTotal := map[string]uint64{}
	for _, r := range pr.Rows {
		fnTotal[fmt.Sprint(r.Level, r.Func)] = r.Instr
	}
	var last string
	var rest uint64
	flush := func() {
		if rest > 0 {
			fmt.Fprintf(w, "| … its other lines | %s | |\n", fmtCount(pr.PerTrip(rest)))
		}
		rest = 0
	}
	for _, l := range pr.Lines {
		key := fmt.Sprint(l.Level, l.Func)
		if key != last {
			flush()
			last = key
			side := "core"
			if l.Level != 0 {
				side = fmt.Sprintf("ring %d", l.Level)
			}
			fmt.Fprintf(w, "| **%s: `%s`** | **%s** | |\n", side, strings.TrimPrefix(l.Func, "github.com/simpleos/simpleos/"), fmtCount(pr.PerTrip(fnTotal[key])))
		}
		if pr.PerTrip(l.Instr) < minPerTrip {
			rest += l.Instr
			continue
		}
		where, text := "(no line)", ""
		if l.File != "" {
			where = fmt.Sprintf("%s:%d", src.short(l.File), l.Line)
			text = src.line(l.File, l.Line)
		}
		if text != "" {
			text = " " + text
		}
		fmt.Fprintf(w, "| `%s` | %s |%s |\n", where, fmtCount(pr.PerTrip(l.Instr)), text)
	}
	flush()
	fmt.Fprintln(w)
}

// sourceFiles reads source lines for profileLines, each file once, and names files from the
// root of their module (the directory holding go.mod above them; Go's own source has one).
type sourceFiles struct {
	files map[string][]string
	roots map[string]string // directory → its module's root ("" for none)
}

func (s *sourceFiles) line(file string, n int) string {
	if s.files == nil {
		s.files = map[string][]string{}
	}
	lines, ok := s.files[file]
	if !ok {
		if b, err := os.ReadFile(file); err == nil {
			lines = strings.Split(string(b), "\n")
		}
		s.files[file] = lines
	}
	if n < 1 || n > len(lines) {
		return ""
	}
	t := strings.TrimSpace(lines[n-1])
	if r := []rune(t); len(r) > 100 {
		t = string(r[:100]) + "…"
	}
	if t == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(t, "|", `\|`) + "`"
}

// short is a file's path from the root of its module; for a file not at hand, from Go's src
// (the runtime's), or its base name.
func (s *sourceFiles) short(file string) string {
	if root := s.rootOf(filepath.Dir(file)); root != "" {
		if rel, err := filepath.Rel(root, file); err == nil {
			return filepath.ToSlash(rel)
		}
	}
	if i := strings.LastIndex(file, "/src/"); i >= 0 {
		return file[i+5:]
	}
	return filepath.Base(file)
}

// rootOf is the directory holding the go.mod at or above dir ("" if none), remembered.
func (s *sourceFiles) rootOf(dir string) string {
	if s.roots == nil {
		s.roots = map[string]string{}
	}
	if root, ok := s.roots[dir]; ok {
		return root
	}
	root := ""
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		root = dir
	} else if parent := filepath.Dir(dir); parent != dir {
		root = s.rootOf(parent)
	}
	s.roots[dir] = root
	return root
}
