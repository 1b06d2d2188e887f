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

// A campaign transcript as the core prints it (cut).
const restartLog = `supervisor: 6 apps; frames in use outside the core runtime before the first start: 20
inject: campaign 3 injections, deployment tiered
inject start id=1 class=kill target=sensor
supervisor: all 3 services serving 382.6 ms after kernel entry
app sensor killed: killed by the supervisor [ring 2, pid 5, cpu 38ms; restart now (1st consecutive failure; 1 crash within 30s, quarantine at 3)]
inject result id=1 class=kill target=sensor outcome=restarted recovery_us=126277 detail="app sensor killed: killed by the supervisor"
inject start id=2 class=kill target=sensor
app sensor killed: killed by the supervisor [ring 2, pid 7, cpu 68ms; restart in 20ms (2nd consecutive failure; 2 crashes within 30s, quarantine at 3)]
inject result id=2 class=kill target=sensor outcome=restarted recovery_us=69175 detail="app sensor killed: killed by the supervisor"
inject start id=3 class=kill target=sensor
app sensor killed: killed by the supervisor [ring 2, pid 9, cpu 50ms; quarantined: 3 crashes within 30s (last: killed)]
inject result id=3 class=kill target=sensor outcome=quarantined recovery_us=0 detail="app sensor killed: killed by the supervisor"
inject: campaign done
`

func TestRestartBackoffsAndFigure(t *testing.T) {
	b := RestartBackoffs([]byte(restartLog))
	assert.Equal(t, map[int]time.Duration{1: 0, 2: 20 * time.Millisecond}, b, "a first failure is restarted now: no backoff")
	recs := []campaign.Record{
		{ID: 1, Outcome: campaign.Restarted, RecoveryUS: 126277},
		{ID: 2, Outcome: campaign.Restarted, RecoveryUS: 69175},
		{ID: 3, Outcome: campaign.Quarantined},
	}
	f, notes, problems := restartFigure(recs, b, EnvTCG)
	assert.Empty(t, problems)
	assert.Empty(t, notes)
	assert.Equal(t, int64(2), f.Iters)
	assert.Equal(t, []float64{126277e3, 69175e3}, f.Samples)
	assert.InDelta(t, (126277e3+69175e3)/2, f.NsPerOp, 1)
	v, ok := f.Metric("ns-excl-backoff/op")
	require.True(t, ok)
	assert.InDelta(t, (126277e3+69175e3-20e6)/2, v, 1)
	assert.True(t, f.Elapsed)
	assert.Contains(t, f.Note, "1 of 3 kills ended in quarantine")

	f, notes, problems = restartFigure([]campaign.Record{
		{ID: 1, Outcome: campaign.Restarted, RecoveryUS: 100},
		{ID: 2, Outcome: campaign.Hang, Detail: "stuck"},
	}, nil, EnvTCG)
	assert.Empty(t, problems, "a hang is no failure of the benchmark")
	assert.Equal(t, []string{"kill 2: hang (stuck)"}, notes)
	assert.Contains(t, f.Note, "1 ended otherwise")
	_, _, problems = restartFigure([]campaign.Record{{ID: 1, Outcome: campaign.CoreCrash, Detail: "boom"}}, nil, EnvTCG)
	assert.Equal(t, []string{"injection 1: core-crash (boom)", "no kill was followed by a restart"}, problems)
}

func TestRestartScenarioParses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "r.scn")
	require.NoError(t, os.WriteFile(file, []byte(RestartScenario(6, 100*time.Millisecond)), 0o644))
	scs, _, err := campaign.LoadScenarios(file)
	require.NoError(t, err)
	require.Len(t, scs, 1)
	assert.Equal(t, "sensor", scs[0].Target)
	assert.Equal(t, "kill", scs[0].Class)
	assert.Equal(t, 6, scs[0].Count)
	assert.Equal(t, 100*time.Millisecond, scs[0].After)
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
