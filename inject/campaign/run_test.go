package campaign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
)

// fakeKernel stands in for QEMU and the core's campaign runner: it reads the plan module and
// prints the protocol, doing to each class what its behaviour map says (an outcome, or
// "crash", "stall" or "silent-crash").
type fakeKernel struct {
	behave map[string]string // class -> behaviour; default restarted

	mu     sync.Mutex
	boots  []boot.Options
	plans  [][]int
	header bool // print the campaign header (a kernel that knows inject=on)
}

func newFakeKernel(behave map[string]string) *fakeKernel {
	return &fakeKernel{behave: behave, header: true}
}

func (k *fakeKernel) Boot(ctx context.Context, o boot.Options) (res boot.Result, _ error) {
	mod := o.Modules[len(o.Modules)-1]
	path, marker, _ := strings.Cut(mod, " ")
	if marker != PlanMarker {
		return boot.Result{}, fmt.Errorf("last module %q is not a plan", mod)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return boot.Result{}, err
	}
	dep := "?"
	for _, w := range strings.Fields(o.Append) {
		if v, ok := strings.CutPrefix(w, "sensor="); ok {
			dep = v
		}
	}
	var ids []int
	var out, proto bytes.Buffer
	print := func(format string, args ...any) {
		line := fmt.Sprintf(format+"\n", args...)
		out.WriteString(line)
		o.Stdout.Write([]byte(line))
	}
	// The runner's lines go to the protocol channel (and the console, for people).
	protocol := func(format string, args ...any) {
		print(format, args...)
		line := fmt.Sprintf(format+"\n", args...)
		proto.WriteString(line)
		o.Protocol.Write([]byte(line))
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	res = boot.Result{Accel: "tcg"}
	print("core: booting")
	if k.header {
		protocol("inject: campaign %d injections, deployment %s", len(lines), dep)
	}
	defer func() {
		res.Protocol = proto.Bytes()
		k.mu.Lock()
		k.boots = append(k.boots, o)
		k.plans = append(k.plans, ids)
		k.mu.Unlock()
	}()
	if !k.header {
		for { // a kernel without the runner: the system just runs
			select {
			case <-ctx.Done():
				res.Output, res.Status, res.TimedOut = out.Bytes(), boot.StatusTimeout, true
				return res, nil
			case <-time.After(5 * time.Millisecond):
				print("[sensor] still here")
			}
		}
	}
	for _, l := range lines {
		f := strings.Fields(l)
		id, _ := strconv.Atoi(f[0])
		ids = append(ids, id)
		class, target := f[1], f[2]
		protocol("inject start id=%d class=%s target=%s", id, class, target)
		print("[%s] doing %s", target, class)
		b := k.behave[class]
		if b == "" {
			b = Restarted
		}
		if dep == Monolithic && b == "crash-monolithic" || b == "crash" {
			print("CORE CRASH: page fault in %s", class)
			res.Output, res.Status, res.Crashed = out.Bytes(), boot.StatusCrashed, true
			return res, nil
		}
		switch b {
		case "crash-monolithic":
			b = Restarted
		case "silent-crash": // a triple fault: no crash line
			res.Output, res.Status, res.Crashed = out.Bytes(), boot.StatusCrashed, true
			res.Note = "QEMU exited without a status from the kernel (triple fault?)"
			return res, nil
		case "stall":
			<-ctx.Done()
			res.Output, res.Status, res.TimedOut = out.Bytes(), boot.StatusTimeout, true
			return res, nil
		}
		protocol("inject result id=%d class=%s target=%s outcome=%s recovery_us=%d detail=%q", id, class, target, b, 1000*id, "fake "+b)
	}
	protocol("inject: campaign done")
	res.Output = out.Bytes()
	return res, nil
}

func (k *fakeKernel) plansRun() [][]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.plans
}

func testConfig(t *testing.T, k *fakeKernel, scs ...Scenario) Config {
	return Config{
		Scenarios:   scs,
		Files:       []ScenarioFile{{Path: "t.scn", SHA256: "abc", Scenarios: len(scs)}},
		Deployments: []string{Tiered},
		PerBoot:     4,
		Parallel:    1,
		Stall:       150 * time.Millisecond,
		Seed:        9,
		System:      boot.Options{Image: "img", Modules: []string{"core.elf", "sensor simpleos-app"}, Append: "quiet", Accel: "tcg"},
		OutDir:      t.TempDir(),
		Boot:        k.Boot,
	}
}

func scn(name, class string, count int, expect ...string) Scenario {
	return Scenario{Name: name, Class: class, Target: "sensor", Count: count, After: 10 * time.Millisecond, Expect: expect}
}

func TestRunAllExpected(t *testing.T) {
	k := newFakeKernel(map[string]string{"bad-ipc": Handled})
	c := testConfig(t, k, scn("p", "panic", 6, Restarted, Quarantined), scn("b", "bad-ipc", 4, Handled))
	c.Parallel = 2
	var progress bytes.Buffer
	c.Progress = &progress
	rs, err := Run(context.Background(), c)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	r := rs[0]
	require.Len(t, r.Injections, 10)
	for i, in := range r.Injections {
		assert.Equal(t, i+1, in.ID)
		assert.True(t, in.Expected, "%+v", in)
		assert.Equal(t, int64(1000*in.ID), in.RecoveryUS)
		assert.Equal(t, int64(10), in.AfterMS)
		assert.Positive(t, in.Boot)
	}
	assert.Equal(t, 3, r.Campaign.Boots, "10 injections, 4 per boot")
	assert.Empty(t, r.Campaign.Errors)
	assert.Equal(t, "tcg", r.Campaign.Accel)
	assert.Equal(t, 10, r.Campaign.Planned)
	assert.Equal(t, 10, r.Campaign.PlanTotal)
	assert.Equal(t, []int{1}, r.Campaign.Shards)
	assert.Equal(t, uint64(9), r.Campaign.Seed)
	assert.Positive(t, r.Campaign.WallSeconds)
	pass, reasons := Verdict(rs)
	assert.True(t, pass, reasons)

	for _, o := range k.boots {
		assert.Equal(t, "img", o.Image)
		assert.Equal(t, []string{"core.elf", "sensor simpleos-app"}, o.Modules[:2])
		assert.Regexp(t, `/plans/tiered-boot-00[1-3]\.plan simpleos-inject$`, o.Modules[2])
		assert.Equal(t, "quiet inject=on sensor=tiered crashdump=short inject.seed=9", o.Append)
		assert.Equal(t, "tcg", o.Accel)
		assert.Positive(t, o.Timeout)
	}
	assert.ElementsMatch(t, [][]int{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10}}, k.plansRun())
	for _, b := range r.Boots {
		assert.Equal(t, "done", b.End)
		assert.FileExists(t, filepath.Join(c.OutDir, b.Log))
	}
	plan, err := os.ReadFile(filepath.Join(c.OutDir, "plans", "tiered-boot-001.plan"))
	require.NoError(t, err)
	assert.Regexp(t, `^(\d+ (panic|bad-ipc) sensor 10\n){2,4}$`, string(plan))

	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	assert.Len(t, lines, 3, "one progress line per boot off a terminal")
	assert.Regexp(t, `^inject: 10/10 faults \(100%\), [\d.]+ faults/s, tiered: 0 core crashes, 0 breaches$`, lines[2])
}

func TestRunRebootsAfterCoreCrashAndStall(t *testing.T) {
	k := newFakeKernel(map[string]string{"kill": "crash-monolithic", "endless-loop": "stall", "bad-ipc": Handled})
	c := testConfig(t, k,
		scn("p", "panic", 3, Restarted),
		scn("k", "kill", 2, Restarted),
		scn("e", "endless-loop", 1, Restarted),
		scn("b", "bad-ipc", 2, Handled))
	c.PerBoot = 8
	c.Deployments = []string{Tiered, Monolithic}
	var plan []string
	for _, in := range Expand(c.Scenarios) {
		plan = append(plan, fmt.Sprintf("%d:%s", in.ID, in.Class))
	}
	require.Equal(t, "1:panic 2:kill 3:bad-ipc 4:panic 5:endless-loop 6:kill 7:bad-ipc 8:panic", strings.Join(plan, " "))

	rs, err := Run(context.Background(), c)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	tiered, mono := rs[0], rs[1]
	assert.Equal(t, Tiered, tiered.Campaign.Deployment)
	assert.Equal(t, map[int]string{1: Restarted, 2: Restarted, 3: Handled, 4: Restarted, 5: Hang, 6: Restarted, 7: Handled, 8: Restarted},
		outcomesOf(tiered.Injections))
	assert.Equal(t, "no console output for 150ms; the host stopped the machine", tiered.Injections[4].Detail)
	assert.False(t, tiered.Injections[4].Expected)
	assert.Equal(t, 2, tiered.Campaign.Boots, "the stall cost one reboot")
	assert.Equal(t, []string{"stall", "done"}, []string{tiered.Boots[0].End, tiered.Boots[1].End})
	assert.Equal(t, 6, tiered.Boots[1].FirstID)

	assert.Equal(t, map[int]string{1: Restarted, 2: CoreCrash, 3: Handled, 4: Restarted, 5: Hang, 6: CoreCrash, 7: Handled, 8: Restarted},
		outcomesOf(mono.Injections))
	assert.Equal(t, "CORE CRASH: page fault in kill", mono.Injections[1].Detail)
	assert.Equal(t, 4, mono.Campaign.Boots)
	assert.Equal(t, []string{"core-crash", "stall", "core-crash", "done"},
		[]string{mono.Boots[0].End, mono.Boots[1].End, mono.Boots[2].End, mono.Boots[3].End})
	assert.Empty(t, mono.Campaign.Errors)

	pass, reasons := Verdict(rs)
	assert.False(t, pass)
	assert.Equal(t, []string{"tiered: 1 unexpected outcomes"}, reasons, "monolithic core crashes do not fail the run")
}

func TestRunTripleFaultIsACoreCrash(t *testing.T) {
	k := newFakeKernel(map[string]string{"kill": "silent-crash"})
	c := testConfig(t, k, scn("k", "kill", 1, Restarted), scn("p", "panic", 1, Restarted))
	rs, err := Run(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, map[int]string{1: CoreCrash, 2: Restarted}, outcomesOf(rs[0].Injections))
	assert.Contains(t, rs[0].Injections[0].Detail, "triple fault")
	pass, reasons := Verdict(rs)
	assert.False(t, pass)
	assert.Equal(t, []string{"tiered: 1 core crashes", "tiered: 1 unexpected outcomes"}, reasons)
}

func TestRunKernelWithoutCampaignRunner(t *testing.T) {
	k := newFakeKernel(nil)
	k.header = false
	c := testConfig(t, k, scn("p", "panic", 5, Restarted))
	c.Stall = 50 * time.Millisecond
	start := time.Now()
	rs, err := Run(context.Background(), c)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 5*time.Second, "stopped after twice the stall time, not the boot timeout")
	r := rs[0]
	require.Len(t, r.Injections, 5)
	for _, in := range r.Injections {
		assert.Equal(t, NotRun, in.Outcome)
		assert.False(t, in.Expected)
	}
	assert.Equal(t, 2, r.Campaign.Boots, "one per chunk, no retries")
	require.Len(t, r.Campaign.Errors, 2)
	assert.Equal(t, `boot 1: ids 1, 2, 3, 4 did not run: no "inject: campaign" line within 100ms: does the core support inject=on?`, r.Campaign.Errors[0])
	pass, reasons := Verdict(rs)
	assert.False(t, pass)
	assert.Contains(t, reasons, "tiered: 5 injections did not run")
}

func TestRunInterrupted(t *testing.T) {
	k := newFakeKernel(map[string]string{"endless-loop": "stall"})
	c := testConfig(t, k, scn("e", "endless-loop", 3, Restarted))
	c.Stall = time.Hour
	c.PerBoot = 1
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	rs, err := Run(ctx, c)
	require.NoError(t, err)
	r := rs[0]
	assert.Equal(t, map[int]string{1: NotRun, 2: NotRun, 3: NotRun}, outcomesOf(r.Injections))
	assert.Equal(t, 1, r.Campaign.Boots)
	assert.Equal(t, "interrupted", r.Boots[0].End)
	assert.Contains(t, r.Campaign.Errors, "boot 1: id 1 did not run: the campaign was interrupted")
	assert.Contains(t, r.Campaign.Errors, "id 2 did not run: the campaign was interrupted")
}

func TestRunStopsOnBootErrors(t *testing.T) {
	c := testConfig(t, nil, scn("p", "panic", 9, Restarted))
	calls := 0
	c.Boot = func(ctx context.Context, o boot.Options) (boot.Result, error) {
		calls++
		return boot.Result{}, errors.New("qemu-system-x86_64 not found")
	}
	rs, err := Run(context.Background(), c)
	assert.EqualError(t, err, "boot 1 (tiered): qemu-system-x86_64 not found")
	require.Len(t, rs, 1)
	assert.Len(t, rs[0].Injections, 9, "every injection is accounted for")
	assert.Equal(t, 1, calls, "no further boots")
	for _, in := range rs[0].Injections {
		assert.Equal(t, NotRun, in.Outcome)
	}
}

func TestRunShard(t *testing.T) {
	k := newFakeKernel(nil)
	c := testConfig(t, k, scn("p", "panic", 10, Restarted))
	c.Shard = Shard{Index: 2, Count: 3}
	rs, err := Run(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 5, 8}, recIDs(rs[0].Injections))
	assert.Equal(t, 3, rs[0].Campaign.ShardCount)
	assert.Equal(t, []int{2}, rs[0].Campaign.Shards)
	assert.Equal(t, 3, rs[0].Campaign.Planned)
	assert.Equal(t, 10, rs[0].Campaign.PlanTotal)
	assert.Equal(t, "results-tiered-shard-2-of-3.json", rs[0].FileName())
	assert.Contains(t, k.boots[0].Modules[2], "/plans/tiered-shard-2-of-3-boot-001.plan simpleos-inject")
}

func TestRunRejectsBadConfigs(t *testing.T) {
	good := testConfig(t, newFakeKernel(nil), scn("p", "panic", 1, Restarted))
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Scenarios = nil }, "no scenarios"},
		{func(c *Config) { c.Deployments = nil }, "no deployment"},
		{func(c *Config) { c.Deployments = []string{"hybrid"} }, `unknown deployment "hybrid"`},
		{func(c *Config) { c.Deployments = []string{Tiered, Tiered} }, "given twice"},
		{func(c *Config) { c.OutDir = "" }, "no output folder"},
		{func(c *Config) { c.Boot = nil; c.System.Image = "" }, "no system to boot"},
		{func(c *Config) { c.Parallel = -1 }, "negative"},
		{func(c *Config) { c.Shard = Shard{Index: 3, Count: 2} }, "bad shard 3/2"},
	} {
		cfg := good
		c.mod(&cfg)
		_, err := Run(context.Background(), cfg)
		assert.ErrorContains(t, err, c.want)
	}
}

func TestRunRemovesOldFiles(t *testing.T) {
	k := newFakeKernel(nil)
	c := testConfig(t, k, scn("p", "panic", 2, Restarted))
	stale := filepath.Join(c.OutDir, "logs", "tiered-boot-007.log")
	require.NoError(t, os.MkdirAll(filepath.Dir(stale), 0o755))
	require.NoError(t, os.WriteFile(stale, nil, 0o644))
	other := filepath.Join(c.OutDir, "logs", "monolithic-boot-007.log")
	require.NoError(t, os.WriteFile(other, nil, 0o644))
	_, err := Run(context.Background(), c)
	require.NoError(t, err)
	assert.NoFileExists(t, stale)
	assert.FileExists(t, other, "another deployment's logs stay")
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, true, 520, []string{Tiered, Monolithic})
	p.start = time.Now().Add(-10 * time.Second)
	w := &watch{}
	p.bootStarted(w, Monolithic)
	w.Write([]byte("inject: campaign 2 injections, deployment monolithic\ninject start id=1 class=kill target=sensor\n" +
		"inject result id=1 class=kill target=sensor outcome=breach\ninject start id=2"))
	p.bootDone(nil, Tiered, []Record{{Outcome: Restarted}, {Outcome: CoreCrash}, {Outcome: Breach}}, 1)
	p.redraw()
	p.finish()
	out := b.String()
	assert.True(t, strings.HasPrefix(out, "\r"))
	assert.True(t, strings.HasSuffix(out, "\n"))
	last := out[strings.LastIndex(out, "\r")+1:]
	assert.Regexp(t, `^inject: 5/520 faults \(0%\), 0\.5 faults/s, tiered: 1 core crashes, 1 breaches; monolithic: 0 core crashes, 1 breaches *\n$`, last)
	r, br := w.counts()
	assert.Equal(t, 1, r)
	assert.Equal(t, 1, br)

	q := newProgress(nil, false, 1, []string{Tiered})
	q.bootDone(nil, Tiered, nil, 1) // no writer: nothing to print, no panic
	q.finish()
	_ = io.Discard
}
