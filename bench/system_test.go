package bench

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/inject/campaign"
	"github.com/simpleos/simpleos/policy"
)

// A campaign transcript as the core prints it (cut). The protocol lines (inject ...) go
// straight to the serial port, each between newlines, the rest through the console driver:
// the console's end line (id 2) arrives after the next injection's start, and protocol lines
// cut it and the sensor's of id 4 in two.
const restartLog = `supervisor: 6 apps; frames in use outside the core runtime before the first start: 20
snapshot: pipesvc: taken: 664 pages, 4 threads
snapshot: console: taken: 664 pages, 3 threads

inject: campaign 6 injections, deployment tiered

inject start id=1 class=kill target=sensor
snapshot: sensor: taken: 687 pages, 3 threads
supervisor: all 3 services serving 382.6 ms after kernel entry
app sensor killed: killed by the supervisor [ring 2, pid 7, cpu 110ms, ran 221ms; restart now (1st consecutive failure; 1 crash within 30s, quarantine at 3)]

inject result id=1 class=kill target=sensor outcome=restarted recovery_us=2100 took_us=253730 detail="app sensor killed: killed by the supervisor"

inject start id=2 class=kill target=console
kernel: console output goes through console (pid 9)
ap
inject result id=2 class=kill target=console outcome=restarted recovery_us=4042 took_us=117105 detail="app console killed: killed by the supervisor"

inject start id=3 class=kill target=pipesvc
p console killed: killed by the supervisor [ring 1, pid 9, cpu 7ms, ran 112ms; restart now (1st consecutive failure; 1 crash within 10s, quarantine at 5)]
kernel: console output goes through console (pid 10)
app pipesvc killed: killed by the supervisor [ring 3, pid 11, cpu 3ms, ran 115ms; restart in 10ms (2nd consecutive failure; 2 crashes within 10s, quarantine at 5)]
supervisor: pipesvc: task pipesvc: restoring its snapshot: no memory: cold start
snapshot: pipesvc: taken: 664 pages, 4 threads

inject result id=3 class=kill target=pipesvc outcome=restarted recovery_us=53832 took_us=180367 detail="app pipesvc killed: killed by the supervisor"

inject start id=4 class=kill target=sensor
app sensor killed: killed by the supervisor [ring 2, pid 8, cpu 6ms, ran 413ms; restart in 2
inject result id=4 class=kill target=sensor outcome=restarted recovery_us=22500 took_us=131007 detail="app sensor killed: killed by the supervisor"

inject start id=5 class=kill target=sensor
0ms (2nd consecutive failure; 2 crashes within 30s, quarantine at 3)]
app sensor killed: killed by the supervisor [ring 2, pid 13, cpu 6ms, ran 381ms; quarantined: 3 crashes within 30s (last: killed)]

inject result id=5 class=kill target=sensor outcome=quarantined recovery_us=0 took_us=121188 detail="app sensor killed: killed by the supervisor"

inject start id=6 class=kill target=sensor
watchdog: killing pid 14: cpu 601ms in 1s (limit 600ms)
app sensor killed: killed by the supervisor [ring 2, pid 14, cpu 601ms, ran 1s; restart now (1st consecutive failure; 1 crash within 30s, quarantine at 3)]
snapshot: sensor: taken: 687 pages, 3 threads
app sensor killed: killed by the supervisor [ring 2, pid 15, cpu 6ms, ran 300ms; restart in 10ms (2nd consecutive failure; 2 crashes within 30s, quarantine at 3)]

inject result id=6 class=kill target=sensor outcome=restarted recovery_us=11800 took_us=361115 detail="app sensor killed: killed by the supervisor"

inject: campaign done
`

func TestParseRestarts(t *testing.T) {
	r := ParseRestarts([]byte(restartLog))
	assert.Equal(t, map[int]time.Duration{1: 0, 2: 0, 3: 10 * time.Millisecond, 4: 20 * time.Millisecond, 6: 10 * time.Millisecond}, r.Backoffs,
		"paired by module, not by the injection whose start precedes the line; a first failure is restarted now: no backoff; "+
			"the watchdog's kill is no injection's")
	assert.Equal(t, map[int]string{3: "cold start: task pipesvc: restoring its snapshot: no memory, its snapshot was taken again"}, r.Cold,
		"the snapshot taken after the watchdog's kill belongs to no injection, the boot's first ones neither")
	assert.Equal(t, map[string]int{"pipesvc": 2, "console": 1, "sensor": 2}, r.Taken)
	assert.Empty(t, r.Unmatched)
	assert.Equal(t, r.Backoffs, RestartBackoffs([]byte(restartLog)))

	// An end line missing (the boot ended before the console driver passed it on): the
	// console's lines cannot be paired, the others still are.
	cut := strings.Replace(restartLog, "p console killed: killed by the supervisor [ring 1, pid 9", "p console", 1)
	r = ParseRestarts([]byte(cut))
	assert.Equal(t, []string{"console"}, r.Unmatched)
	assert.NotContains(t, r.Backoffs, 2)
	assert.Contains(t, r.Backoffs, 3)
	// Transcripts with CR LF line ends read the same.
	assert.Equal(t, ParseRestarts([]byte(restartLog)), ParseRestarts([]byte(strings.ReplaceAll(restartLog, "\n", "\r\n"))))
	// Kinds that disagree (a restart paired with a quarantine) are no pairing either.
	swapped := strings.Replace(restartLog, "outcome=restarted recovery_us=22500", "outcome=quarantined recovery_us=0", 1)
	r = ParseRestarts([]byte(swapped))
	assert.Equal(t, []string{"sensor"}, r.Unmatched)
}

func TestRestartFigure(t *testing.T) {
	rt := ParseRestarts([]byte(restartLog))
	recs := []campaign.Record{
		{ID: 1, Target: "sensor", Outcome: campaign.Restarted, RecoveryUS: 2100},
		{ID: 2, Target: "console", Outcome: campaign.Restarted, RecoveryUS: 4042},
		{ID: 3, Target: "pipesvc", Outcome: campaign.Restarted, RecoveryUS: 53832},
		{ID: 4, Target: "sensor", Outcome: campaign.Restarted, RecoveryUS: 22500},
		{ID: 5, Target: "sensor", Outcome: campaign.Quarantined},
		{ID: 6, Target: "sensor", Outcome: campaign.Restarted, RecoveryUS: 11800},
	}
	f, notes, problems := restartFigure("sensor", false, recs, rt, EnvTCG)
	assert.Empty(t, problems)
	assert.Empty(t, notes)
	assert.Equal(t, "ModuleRestart/sensor-kill", f.Name)
	assert.Equal(t, int64(3), f.Iters)
	assert.Equal(t, []float64{2100e3, 22500e3, 11800e3}, f.Samples)
	assert.Equal(t, []float64{2100e3, 2500e3, 1800e3}, f.SamplesExclBackoff)
	assert.InDelta(t, (2100e3+22500e3+11800e3)/3, f.NsPerOp, 1)
	v, ok := f.Metric(MetricExclBackoff)
	require.True(t, ok)
	assert.InDelta(t, (2100e3+2500e3+1800e3)/3, v, 1)
	assert.True(t, f.Elapsed)
	assert.Contains(t, f.Source, "restored from its snapshot")
	assert.Contains(t, f.Source, "the ring-2 sensor")
	assert.Equal(t, "1 of 4 kills ended in quarantine (crash budget) and are not timed", f.Note)

	// A restart of the snapshot campaign that was cold is a sample, and the note says so.
	f, _, _ = restartFigure("pipesvc", false, recs, rt, EnvTCG)
	assert.Equal(t, "ModuleRestart/pipesvc-kill", f.Name)
	assert.Contains(t, f.Note, "1 of 1 timed restarts were cold starts, not restores (kill 3: cold start: task pipesvc: restoring its snapshot: no memory")
	// In the cold campaign every restart is cold: nothing to note.
	f, _, _ = restartFigure("pipesvc", true, recs, rt, EnvTCG)
	assert.Equal(t, "ModuleRestart/pipesvc-kill-cold", f.Name)
	assert.Contains(t, f.Source, "snapshot=off")
	assert.Contains(t, f.Source, "cold start (ELF loaded, Go runtime initialised again)")
	assert.NotContains(t, f.Note, "cold starts")
	f, _, _ = restartFigure("console", true, recs, rt, EnvTCG)
	assert.Equal(t, []float64{4042e3}, f.SamplesExclBackoff)
	assert.Equal(t, "1 kills, none quarantined", f.Note)
	assert.Contains(t, f.Source, "the ring-1 console driver")

	// The backoff unknown: no excl-backoff figure for those.
	f, _, _ = restartFigure("sensor", false, recs, Restarts{Backoffs: map[int]time.Duration{1: 0}}, EnvTCG)
	v, ok = f.Metric(MetricExclBackoff)
	require.True(t, ok)
	assert.InDelta(t, 2100e3, v, 1)
	assert.Contains(t, f.Note, "ns-excl-backoff/op is over the 1 restarts whose backoff the transcript gives")

	f, notes, problems = restartFigure("sensor", false, []campaign.Record{
		{ID: 1, Target: "sensor", Outcome: campaign.Restarted, RecoveryUS: 100},
		{ID: 2, Target: "sensor", Outcome: campaign.Hang, Detail: "stuck"},
	}, Restarts{}, EnvTCG)
	assert.Empty(t, problems, "a hang is no failure of the benchmark")
	assert.Equal(t, []string{"kill 2 of sensor: hang (stuck)"}, notes)
	assert.Contains(t, f.Note, "1 ended otherwise")
	_, ok = f.Metric(MetricExclBackoff)
	assert.False(t, ok)
	_, _, problems = restartFigure("console", false, []campaign.Record{{ID: 1, Target: "console", Outcome: campaign.CoreCrash, Detail: "boom"}}, Restarts{}, EnvTCG)
	assert.Equal(t, []string{"injection 1: core-crash (boom)", "console: no kill was followed by a restart"}, problems)
}

func TestRestartScenarioParses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "r.scn")
	require.NoError(t, os.WriteFile(file, []byte(RestartScenario(4, 100*time.Millisecond)), 0o644))
	scs, _, err := campaign.LoadScenarios(file)
	require.NoError(t, err)
	require.Len(t, scs, 3)
	for i, m := range []string{"sensor", "console", "pipesvc"} {
		assert.Equal(t, m, scs[i].Target)
		assert.Equal(t, "kill", scs[i].Class)
		assert.Equal(t, 4, scs[i].Count)
		assert.Equal(t, 100*time.Millisecond, scs[i].After)
	}
	// The quick fault-injection campaign kills the same modules.
	quick, _, err := campaign.LoadScenarios("../scenarios/quick.scn")
	require.NoError(t, err)
	var killed []string
	for _, sc := range quick {
		if sc.Class == "kill" {
			killed = append(killed, sc.Target)
		}
	}
	assert.ElementsMatch(t, RestartModules, killed)
}

func TestReadyTime(t *testing.T) {
	d, n, ok := ReadyTime([]byte(restartLog))
	require.True(t, ok)
	assert.Equal(t, 3, n)
	assert.Equal(t, 382600*time.Microsecond, d)
	_, _, ok = ReadyTime([]byte("supervisor: 1 apps\n"))
	assert.False(t, ok)

	found := 0
	w := &lineWatch{re: readyRE, found: func() { found++ }}
	for _, chunk := range []string{"supervisor: all 3 serv", "ices serving 12.5 ms after kernel entry\r", "\nmore\n", "supervisor: all 3 services serving 1.0 ms after kernel entry\n"} {
		n, err := w.Write([]byte(chunk))
		require.NoError(t, err)
		assert.Equal(t, len(chunk), n)
	}
	assert.Equal(t, 1, found, "once, when the whole line has arrived")
}

func TestParsePipeline(t *testing.T) {
	out := `[app] app: 2000/2000 pipes created
[app] app: done: 2000/2000 pipes created in 133ms (15046 pipes/s)
core: sensor: detection CobaltStrikeMSSEPipe (critical, block) on \\.\pipe\MSSE-1001-server by pid 4 [sequence 0]; 2 events screened
[sensor] sensor: detection PostexPipe (high, block) on \\.\pipe\postex_1029 by pid 4 [sequence 0]; 30 events screened
`
	r, ok := ParsePipeline([]byte(out))
	require.True(t, ok)
	assert.Equal(t, PipelineRun{Pipes: 2000, Wanted: 2000, Took: 133 * time.Millisecond, Screened: 30}, r)
	_, ok = ParsePipeline([]byte("[app] app: 10/2000 pipes created\n"))
	assert.False(t, ok)

	f := pipelineFigure("tiered", []PipelineRun{r, {Pipes: 2000, Wanted: 2000, Took: 67 * time.Millisecond}}, EnvTCG)
	assert.Equal(t, "SensorPipeline/tiered", f.Name)
	assert.Equal(t, int64(4000), f.Iters)
	assert.InDelta(t, 50000, f.NsPerOp, 0.01)
	rate, _ := f.Metric("events/s")
	assert.InDelta(t, 20000, rate, 0.01)
	screened, _ := f.Metric("screened")
	assert.Equal(t, 30.0, screened)
	assert.Len(t, f.Samples, 2)
}

func TestPipelinePolicyFromTheSystemPolicy(t *testing.T) {
	src, err := os.ReadFile("../policy/system.policy")
	require.NoError(t, err)
	out, err := PipelinePolicy(src, 2000)
	require.NoError(t, err)
	m, err := policy.Parse("pipeline.policy", out)
	require.NoError(t, err, "%s", out)
	var names []string
	for _, mod := range m.Modules {
		names = append(names, mod.Name)
		if mod.Name == "app" {
			assert.Equal(t, []string{"2000", "0"}, mod.Args)
		}
	}
	assert.ElementsMatch(t, []string{"console", "sensor", "pipesvc", "app"}, names, "no updater, no sysinfo, no disk")

	_, err = PipelinePolicy([]byte("module x\n binary ring3/x\n ring 3\nend\n"), 10)
	assert.Error(t, err)
	// An args line the app already has is replaced.
	out, err = PipelinePolicy([]byte("module app\n    binary ring3/app\n    ring 3\n    args 1 2\nend\n"), 7)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(out), "args"))
	assert.Contains(t, string(out), "args     7 0")
}

// The micro policy must grant every task of the chains exactly what bench/progs/micro does
// with the arguments the suite gives it.
func TestMicroPolicyMatchesTheChains(t *testing.T) {
	m, err := policy.Parse("micro.policy", MicroPolicy)
	require.NoError(t, err)
	mods := map[string]*policy.Module{}
	for i := range m.Modules {
		mods[m.Modules[i].Name] = &m.Modules[i]
	}
	s := &suite{cfg: Config{Sizes: Quick}, micro: filepath.Join(t.TempDir(), "micro")}
	require.NoError(t, os.WriteFile(s.micro, []byte("not really a program"), 0o755))
	for _, fast := range []bool{true, false} {
		chain := s.microChain(fast)
		specs, err := s.microSpecs(chain)
		require.NoError(t, err)
		require.Len(t, specs, len(chain)+len(microServers))
		for i, spec := range specs {
			name := filepath.Base(spec.Path)
			mod := mods[name]
			require.NotNil(t, mod, "no module %s in the micro policy", name)
			assert.Equal(t, mod.Ring, spec.Ring, name)
			for j, a := range spec.Args {
				switch a {
				case "-wait":
					assert.Contains(t, mod.Serves, spec.Args[j+1], name)
				case "-pass":
					assert.Contains(t, mod.Calls, spec.Args[j+1], name)
				case "-await":
					for _, ep := range strings.Split(spec.Args[j+1], ",") {
						assert.Contains(t, mod.Calls, ep, name)
					}
				case "serve":
					for _, ep := range spec.Args[j+1:] {
						assert.Contains(t, mod.Serves, ep, name)
					}
				case "call":
					for _, pair := range spec.Args[j+2:] {
						_, ep, _ := strings.Cut(pair, "=")
						ep, _, _ = strings.Cut(ep, ":") // a kind of call: 4w, 1k, x4
						assert.Contains(t, mod.Calls, ep, name)
					}
				}
			}
			if i == 0 {
				assert.Contains(t, spec.Args, "-await", "the first task waits for the others")
			}
		}
	}
	assert.True(t, slices.ContainsFunc(mods["ipc-server-r2"].Filters, func(f policy.Filter) bool {
		return f.Endpoint == "guarded" && f.Program == FilterFile
	}))
}

func TestMicroFigureNames(t *testing.T) {
	for _, c := range []struct{ in, path, want string }{
		{"syscall/getppid/r2", "fast", "Syscall/getppid/r2"},
		{"thread/switch", "fast", "ThreadSwitch/futex"},
		{"pagefault/first-touch", "fast", "PageFault/first-touch"},
		{"ipc/r3-r1", "slow", "IPCCallReply/r3-r1/slow"},
		{"ipc/r3-r2-filtered", "fast", "IPCCallReply/r3-r2-filtered/fast"},
	} {
		got, _, ok := microFigure(c.in, c.path)
		assert.True(t, ok, c.in)
		assert.Equal(t, c.want, got)
	}
	_, _, ok := microFigure("nonsense", "fast")
	assert.False(t, ok)
}

func TestGuestResults(t *testing.T) {
	out := "[guest] bench start quick=true pid=2\n" +
		"[guest] bench skip name=pipe/roundtrip/process reason=cannot start a process\n" +
		"[guest] bench result name=syscall/getppid iters=100 ns_per_op=282 cycles_per_op=281 samples=282,283\n" +
		"[guest] bench error name=sched/yield err=boom\n" +
		"[guest] bench done\n"
	rs, problems := guestResults([]byte(out))
	require.Len(t, rs, 1)
	assert.Equal(t, "syscall/getppid", rs[0].Name)
	assert.Equal(t, []string{"sched/yield failed: boom"}, problems)
	f := figureOf(rs[0], "Guest/syscall/getppid/simpleos", EnvTCGIcount, SimpleOS, "x")
	assert.Equal(t, "BenchmarkGuest/syscall/getppid/simpleos/tcg-icount", f.BenchName())
	assert.Equal(t, "Guest", f.Group())
}
