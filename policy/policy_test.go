package policy

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/core/appspec"
	"github.com/simpleos/simpleos/core/supervisor"
)

func parseFile(t *testing.T, path string) (*Manifest, error) {
	t.Helper()
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	return Parse(path, src)
}

func TestSystemPolicy(t *testing.T) {
	m, err := parseFile(t, "system.policy")
	require.NoError(t, err)
	assert.Equal(t, "system.policy", m.File)
	require.Len(t, m.Modules, 9)

	console, ok := m.Module("console")
	require.True(t, ok)
	assert.Equal(t, "tier1/console", console.Binary)
	assert.Equal(t, 1, console.Ring)
	assert.Equal(t, []PortRange{{0x3f8, 0x3ff}}, console.Ports)
	assert.Equal(t, []int{4}, console.IRQs)
	assert.Equal(t, []string{"console"}, console.Serves)
	assert.Equal(t, supervisor.Always, console.Restart)

	sensor, ok := m.Module("sensor")
	require.True(t, ok)
	assert.Equal(t, 2, sensor.Ring)
	assert.Equal(t, []string{"content-update"}, sensor.Serves)
	assert.Equal(t, []string{"console"}, sensor.Calls)
	assert.Equal(t, []string{"pipe.created"}, sensor.Events)
	assert.Equal(t, []ContentFile{{"sensor.chan", "sensor.chan.lkg", "/CrowdStrike"}}, sensor.Content)
	assert.Equal(t, 3, sensor.CrashBudget)
	assert.Equal(t, 30*time.Second, sensor.CrashWindow)
	assert.Equal(t, 2*time.Second, sensor.Watchdog)
	assert.Equal(t, supervisor.Always, sensor.Restart)

	pipesvc, _ := m.Module("pipesvc")
	assert.Equal(t, supervisor.Always, pipesvc.Restart)
	assert.Equal(t, []string{"pipes"}, pipesvc.Serves)
	app, _ := m.Module("app")
	assert.Equal(t, []string{"pipes", "console"}, app.Calls)
	assert.Equal(t, supervisor.OnFailure, app.Restart)
	blk, _ := m.Module("blk")
	assert.Equal(t, &DeviceRef{Vendor: 0x1af4, DeviceID: 0x1042}, blk.Device)
	assert.Equal(t, uint64(1<<20), blk.DMA)
	assert.Equal(t, []string{"blk"}, blk.Serves)
	fs, ok := m.Module("fs")
	require.True(t, ok)
	assert.Equal(t, "ring3/fs", fs.Binary)
	assert.Equal(t, 3, fs.Ring, "a file system needs no privilege beyond IPC")
	assert.Equal(t, []string{"fs"}, fs.Serves)
	assert.Equal(t, []string{"blk"}, fs.Calls)
	assert.Empty(t, fs.Ports)
	assert.Nil(t, fs.Device)
	assert.Equal(t, supervisor.Always, fs.Restart)
	assert.Equal(t, uint64(96<<20), fs.Quota)

	assert.Equal(t, []string{"tier1/console", "tier2/sensor", "ring3/pipesvc", "ring3/app", "ring3/updater", "ring3/sysinfo", "tier1/blk", "ring3/blktest", "ring3/fs"}, m.Binaries())
	for _, mod := range m.Modules {
		assert.NoError(t, mod.Rules().Validate(), mod.Name)
	}
	_, ok = m.Module("shell")
	assert.False(t, ok)
}

var wantRe = regexp.MustCompile(`^# want: ([a-z0-9-]+) line (\d+)$`)

type want struct {
	rule string
	line int
}

func TestBadManifests(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.policy")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 12)
	rules := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			var wants []want
			for _, line := range strings.Split(string(src), "\n") {
				mm := wantRe.FindStringSubmatch(line)
				if mm == nil {
					break
				}
				n, _ := strconv.Atoi(mm[2])
				wants = append(wants, want{mm[1], n})
				rules[mm[1]] = true
			}
			require.NotEmpty(t, wants, "%s has no '# want: RULE line N' header", f)

			m, err := Parse(f, src)
			assert.Nil(t, m)
			require.Error(t, err)
			var es Errors
			require.True(t, errors.As(err, &es), "%T", err)
			var got []want
			for _, e := range es {
				got = append(got, want{e.Rule, e.Line})
				assert.Equal(t, f, e.File)
				assert.True(t, strings.HasPrefix(e.Error(), f+":"+strconv.Itoa(e.Line)+": rule "+e.Rule+": "), e.Error())
			}
			assert.Equal(t, wants, got, "errors:\n%v", err)
			var first *Error
			require.True(t, errors.As(err, &first))
			assert.Equal(t, wants[0].rule, first.Rule)
		})
	}
	assert.GreaterOrEqual(t, len(rules), 20, "rules covered: %v", rules)
}

func TestErrorFormat(t *testing.T) {
	src := "module shell\n binary ring3/shell\n ring 3\n\n\n\n\n\n\n\n\n ports 0x2f8\nend\n"
	_, err := Parse("policy/system.policy", []byte(src))
	assert.EqualError(t, err, `policy/system.policy:12: rule ring3-ports: module "shell" runs in ring 3 and may not be granted I/O ports`)

	err = Validate(&Manifest{File: "x", Modules: []Module{{Name: "a", Ring: 1}}})
	assert.EqualError(t, err, `x: rule binary-missing: module "a" names no binary`)
	assert.EqualError(t, Validate(nil), "<nil>: rule syntax: no manifest")
}

func TestGoodEdgeCases(t *testing.T) {
	src := "\r\n" +
		"# comment only\n" +
		"\t\n" +
		"module  drv_1-x   # trailing comment\r\n" +
		"\tbinary\ttier1/drv\n" +
		"  ring 1\n" +
		"  ports 0x2f8-0x2ff 0X3E8 2000-2001\n" +
		"  ports 0x3f0\n" +
		"  irqs 3 0x5\n" +
		"  irqs 010\n" + // decimal, not octal
		"  memory 0xfed00000-0xfed00fff 0xE0000000-0xE0001FFF\n" +
		"  quota 16 MiB\n" +
		"  cpu 200ms/1s 1m30s\n" +
		"  crashes 0x10/1m\n" +
		"  watchdog 1.5s\n" +
		"  serves dev-a dev_b\n" +
		"  serves dev3\n" +
		"  calls names core dev-a\n" +
		"  args --color=#fff \"two words\" \"# not a comment\" \"\" \"tab\\there\"\n" +
		"end # done\n" +
		"module sec\n binary tier2/sec\n ring 2\n events pipe.created task.exited x\n quota 1536KiB\n" +
		" content a.chan rollback a.lkg\n content b rollback c\nend\n" +
		"module q\n binary ring3/q\n ring 3\n quota 1GiB\n cpu 5s\nend" // no final newline
	m, err := Parse("edge.policy", []byte(src))
	require.NoError(t, err)
	require.Len(t, m.Modules, 3)
	d := m.Modules[0]
	assert.Equal(t, "drv_1-x", d.Name)
	assert.Equal(t, 4, d.Line)
	assert.Equal(t, []PortRange{{0x2f8, 0x2ff}, {0x3e8, 0x3e8}, {2000, 2001}, {0x3f0, 0x3f0}}, d.Ports)
	assert.Equal(t, []int{3, 5, 10}, d.IRQs)
	assert.Equal(t, []Range{{0xfed00000, 0xfed00fff}, {0xe0000000, 0xe0001fff}}, d.Memory)
	assert.Equal(t, uint64(16<<20), d.Quota)
	assert.Equal(t, CPUBudget{Total: 90 * time.Second, PerPeriod: 200 * time.Millisecond, Period: time.Second}, d.CPU)
	assert.Equal(t, 16, d.CrashBudget)
	assert.Equal(t, time.Minute, d.CrashWindow)
	assert.Equal(t, 1500*time.Millisecond, d.Watchdog)
	assert.Equal(t, []string{"dev-a", "dev_b", "dev3"}, d.Serves)
	assert.Equal(t, []string{"--color=#fff", "two words", "# not a comment", "", "tab\there"}, d.Args)
	assert.Equal(t, supervisor.Always, d.Restart, "ring 1 default")
	assert.Equal(t, 8, d.LineOf("ports", "0x3f0"))
	assert.Equal(t, 7, d.LineOf("ports", ""))
	assert.Equal(t, 4, d.LineOf("restart", ""), "unsaid: the module's line")

	s := m.Modules[1]
	assert.Equal(t, uint64(1536<<10), s.Quota)
	assert.Equal(t, []string{"pipe.created", "task.exited", "x"}, s.Events)
	assert.Equal(t, []ContentFile{{"a.chan", "a.lkg", ""}, {"b", "c", ""}}, s.Content)
	q := m.Modules[2]
	assert.Equal(t, uint64(1<<30), q.Quota)
	assert.Equal(t, CPUBudget{Total: 5 * time.Second}, q.CPU)
	assert.Equal(t, supervisor.OnFailure, q.Restart, "ring 3 default")

	m, err = Parse("empty.policy", []byte("# nothing\n"))
	require.NoError(t, err)
	assert.Empty(t, m.Modules)
	m, err = Parse("empty.policy", nil)
	require.NoError(t, err)
	assert.Empty(t, m.Binaries())
}

func TestSyntaxErrorsSuppressValidation(t *testing.T) {
	// Line 3 is a syntax error; the ring-3 port grant on line 4 is not reported with it.
	_, err := Parse("f", []byte("module a\n binary ring3/a\n ring 3 3\n ports 0x2f8\nend\nbogus\n"))
	var es Errors
	require.True(t, errors.As(err, &es))
	require.Len(t, es, 2)
	assert.Equal(t, want{"syntax", 3}, want{es[0].Rule, es[0].Line})
	assert.Equal(t, want{"syntax", 6}, want{es[1].Rule, es[1].Line})
	assert.Contains(t, es[1].Message, `unknown keyword "bogus"`)
}

func TestManyErrorsAreCapped(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 300; i++ {
		b.WriteString("nope\n")
	}
	_, err := Parse("f", []byte(b.String()))
	var es Errors
	require.True(t, errors.As(err, &es))
	assert.Len(t, es, maxErrors+1)
	assert.Contains(t, es[maxErrors].Message, "200 more not shown")

	_, err = Parse("f", make([]byte, MaxSize+1))
	assert.ErrorContains(t, err, "at most 1048576")
}

func TestRulesMapping(t *testing.T) {
	m, err := Parse("f", []byte(`
module d
  binary tier1/d
  ring 1
end
module s
  binary tier2/s
  ring 2
  restart never
  crashes 3/30s
  cpu 5s 100ms/1s
  watchdog 2s
  spin 150ms
end
`))
	require.NoError(t, err)
	d, _ := m.Module("d")
	assert.Equal(t, supervisor.DefaultRules(1), d.Rules(), "nothing set: the ring's defaults")

	s, _ := m.Module("s")
	want := supervisor.DefaultRules(2)
	want.Restart = supervisor.Never
	want.CrashBudget, want.CrashWindow = 3, 30*time.Second
	want.TotalCPU = 5 * time.Second
	want.CPUPerPeriod, want.Period = 100*time.Millisecond, time.Second
	want.Heartbeat = 2 * time.Second
	want.Spin = 150 * time.Millisecond
	assert.Equal(t, want, s.Rules())
	assert.NoError(t, s.Rules().Validate())

	// A module built in Go: the zero Restart is Never, as in the supervisor.
	assert.Equal(t, supervisor.Never, Module{Ring: 1}.Rules().Restart)
	assert.Equal(t, supervisor.DefaultRules(3).Backoff, Module{Ring: 3}.Rules().Backoff)
}

func TestHelpers(t *testing.T) {
	m, err := parseFile(t, "system.policy")
	require.NoError(t, err)
	console, _ := m.Module("console")
	sensor, _ := m.Module("sensor")
	app, _ := m.Module("app")

	assert.True(t, console.AllowsPort(0x3f8))
	assert.True(t, console.AllowsPort(0x3ff))
	assert.False(t, console.AllowsPort(0x3f7))
	assert.False(t, console.AllowsPort(0x400))
	assert.False(t, app.AllowsPort(0x3f8))
	assert.Len(t, console.PortList(), 8)
	assert.Equal(t, uint16(0x3f8), console.PortList()[0])
	assert.Nil(t, app.PortList())
	// Ports on a module outside ring 1 are never honoured, even if Validate was skipped.
	assert.False(t, Module{Ring: 3, Ports: []PortRange{{0, 0xffff}}}.AllowsPort(1))
	assert.Len(t, Module{Ring: 1, Ports: []PortRange{{0xfff0, 0xffff}}}.PortList(), 16)

	srv, ok := m.Server("pipes")
	require.True(t, ok)
	assert.Equal(t, "pipesvc", srv.Name)
	srv, ok = m.Server("content-update")
	require.True(t, ok)
	assert.Equal(t, "sensor", srv.Name)
	_, ok = m.Server("names")
	assert.False(t, ok, "core endpoints have no module")
	assert.True(t, IsCoreEndpoint("names"))
	assert.False(t, IsCoreEndpoint("pipes"))
	_, ok = m.Server("nothing")
	assert.False(t, ok)

	assert.True(t, app.MayCall("pipes"))
	assert.True(t, app.MayCall("console"))
	assert.False(t, app.MayCall("content-update"))
	assert.False(t, app.MayCall("names"), "core endpoints too must be listed")
	assert.True(t, sensor.MayCall("console"))
	assert.True(t, console.ServesEndpoint("console"))

	assert.True(t, sensor.MaySubscribe("pipe.created"))
	assert.False(t, sensor.MaySubscribe("pipe.closed"))
	assert.False(t, app.MaySubscribe("pipe.created"))
	assert.False(t, Module{Ring: 3, Events: []string{"pipe.created"}}.MaySubscribe("pipe.created"))

	var nilM *Manifest
	_, ok = nilM.Module("x")
	assert.False(t, ok)
	_, ok = nilM.Server("x")
	assert.False(t, ok)
	assert.Nil(t, nilM.Binaries())
}

func TestValidateBuiltInGo(t *testing.T) {
	m := &Manifest{File: "go", Modules: []Module{
		{Name: "d", Binary: "tier1/d", Ring: 1, Ports: []PortRange{{0x300, 0x200}}, Memory: []Range{{0x2000, 0x1000}}},
		{Name: "e", Binary: "tier1/e", Ring: 1, IRQs: []int{-1}, Restart: supervisor.Restart(9)},
		{Name: "f", Binary: "ring3/f", Ring: 3, CPU: CPUBudget{PerPeriod: time.Second}, CrashBudget: 2, Watchdog: -1, Spin: -1},
		{Name: "g", Binary: "ring3/g", Ring: 3, CPU: CPUBudget{Total: -1}, CrashBudget: -1, Quota: 100},
		{Name: "h", Binary: "/abs", Ring: 4, Content: []ContentFile{{Path: ""}}},
	}}
	err := Validate(m)
	var es Errors
	require.True(t, errors.As(err, &es))
	got := map[string]bool{}
	for _, e := range es {
		got[e.Rule] = true
		assert.Equal(t, 0, e.Line, e.Error())
	}
	for _, r := range []string{"syntax", "irq-range", "cpu-budget", "crash-budget", "watchdog-range", "spin-range", "quota-range", "binary-path", "ring-range"} {
		assert.True(t, got[r], "missing %s in\n%v", r, err)
	}
}

func TestValidateIsDeterministicAndIdempotent(t *testing.T) {
	src, err := os.ReadFile("testdata/bad/multiple-errors.policy")
	require.NoError(t, err)
	_, err1 := Parse("f", src)
	_, err2 := Parse("f", src)
	assert.Equal(t, err1, err2)

	m, err := parseFile(t, "system.policy")
	require.NoError(t, err)
	assert.NoError(t, Validate(m))
}

func TestFormatRoundTrip(t *testing.T) {
	m, err := parseFile(t, "system.policy")
	require.NoError(t, err)
	m2, err := Parse("system.policy", Format(m))
	require.NoError(t, err, "%s", Format(m))
	assert.Equal(t, stripLines(m), stripLines(m2))
	assert.Equal(t, Format(m), Format(m2))
}

func stripLines(m *Manifest) *Manifest {
	out := &Manifest{File: m.File}
	for _, mod := range m.Modules {
		mod.Line, mod.lines = 0, nil
		out.Modules = append(out.Modules, mod)
	}
	return out
}

func TestReservedListsAreWellFormed(t *testing.T) {
	for _, r := range ReservedPorts {
		assert.LessOrEqual(t, r.Lo, r.Hi)
		assert.NotEmpty(t, r.Why)
	}
	for _, r := range ReservedMemoryRanges {
		assert.LessOrEqual(t, r.Lo, r.Hi)
		assert.Zero(t, r.Lo%PageSize)
		assert.Equal(t, uint64(PageSize-1), r.Hi%PageSize)
	}
	for _, r := range ReservedIRQs {
		assert.LessOrEqual(t, r.IRQ, MaxIRQ)
	}
	for _, e := range CoreEndpoints {
		assert.True(t, validName(e, maxEndpointLen, false))
	}
}

func TestNameLimitMatchesAppspec(t *testing.T) {
	assert.Equal(t, appspec.MaxNameLen, MaxNameLen)
	_, err := Parse("f", []byte("module "+strings.Repeat("a", MaxNameLen+1)+"\n binary ring3/a\n ring 3\nend\n"))
	assert.ErrorContains(t, err, "rule module-name")
}

func TestCheckMemoryRefusesRAM(t *testing.T) {
	m, err := Parse("f", []byte("module d\n binary tier1/d\n ring 1\n memory 0x200000-0x200fff 0xfed00000-0xfed00fff\nend\n"))
	require.NoError(t, err)
	ram := func(lo, hi uint64) bool { return lo < 256<<20 } // RAM below 256 MiB
	err = m.CheckMemory(ram)
	require.Error(t, err)
	assert.Equal(t, `f:4: rule memory-ram: module "d": memory 0x200000-0x200fff is RAM, not device memory: the core never grants its own or its tasks' frames`, err.Error())
	assert.NoError(t, m.CheckMemory(func(lo, hi uint64) bool { return false }))
}

func TestCheckDevicesResolvesOnTheMachine(t *testing.T) {
	src := "module a\n binary tier1/a\n ring 1\n device 1af4:1042\n dma 1MiB\nend\n" +
		"module b\n binary tier1/b\n ring 1\n device 00:03.0\nend\n" +
		"module c\n binary tier1/c\n ring 1\n device 8086:10d3\nend\n"
	m, err := Parse("f", []byte(src))
	require.NoError(t, err)
	resolve := func(r DeviceRef) (uint16, bool) {
		switch {
		case !r.BySlot && r.Vendor == 0x1af4 && r.DeviceID == 0x1042:
			return 3 << 3, true
		case r.BySlot && r.Bus == 0 && r.Dev == 3 && r.Fn == 0:
			return 3 << 3, true
		}
		return 0, false
	}
	slots, err := m.CheckDevices(resolve)
	assert.Equal(t, map[string]uint16{"a": 3 << 3}, slots)
	assert.EqualError(t, err, "f:10: rule device-shared: module \"b\" device 00:03.0 is the device module \"a\" drives (line 4): one driver per device\n"+
		"f:15: rule device-missing: module \"c\": device 8086:10d3: no such PCI device on this machine")
}

func TestParseDevice(t *testing.T) {
	for s, want := range map[string]DeviceRef{
		"1af4:1042": {Vendor: 0x1af4, DeviceID: 0x1042},
		"00:03.0":   {BySlot: true, Dev: 3},
		"ff:1f.7":   {BySlot: true, Bus: 0xff, Dev: 0x1f, Fn: 7},
	} {
		got, ok := ParseDevice(s)
		assert.True(t, ok, s)
		assert.Equal(t, want, got, s)
		assert.Equal(t, s, got.String())
	}
	for _, s := range []string{"", "1af4", "1af4:", ":1042", "ffff:1042", "1af4:10420", "00:20.0", "00:03.8", "0:3.0", "xx:03.0"} {
		_, ok := ParseDevice(s)
		assert.False(t, ok, s)
	}
}

func TestVendorThirdParty(t *testing.T) {
	m, err := parseFile(t, "system.policy")
	require.NoError(t, err)
	assert.Equal(t, []string{"sensor", "updater"}, m.ThirdParty(), "safe mode leaves out the security vendor's code")
	console, _ := m.Module("console")
	assert.False(t, console.ThirdParty)

	// Third-party modules may call each other; a system module may say so explicitly.
	src := "module s\n binary tier2/s\n ring 2\n serves upd\n vendor third-party\nend\n" +
		"module u\n binary ring3/u\n ring 3\n calls upd\n vendor third-party\nend\n" +
		"module a\n binary ring3/a\n ring 3\n vendor system\nend\n"
	m, err = Parse("f", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, []string{"s", "u"}, m.ThirdParty())
	assert.Contains(t, string(Format(m)), "vendor   third-party")

	_, err = Parse("f", []byte("module a\n binary ring3/a\n ring 3\n vendor third-party\n vendor system\nend\n"))
	assert.ErrorContains(t, err, "f:5: rule syntax: vendor already given on line 4")
	_, err = Parse("f", []byte("module a\n binary ring3/a\n ring 3\n calls x\nend\nmodule b\n binary ring3/b\n ring 3\n serves x\n vendor third-party\nend\n"))
	assert.EqualError(t, err, `f:4: rule vendor-calls: module "a" calls "x", served by third-party module "b" (line 6): a safe-mode boot starts the caller without it (mark the caller vendor third-party, or serve "x" from a system module)`)
}
