package tests

// The fault-injection campaign end to end: the host side (package inject/campaign) boots the
// real kernel with chunks of scenarios/quick.scn and reads back what the core's campaign
// runner reports for every injection.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/inject/campaign"
)

// logWriter passes each complete line to t.Log (the campaign's progress lines).
type logWriter struct {
	t   *testing.T
	mu  sync.Mutex
	buf []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Log(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// runCampaign boots the system (bundled modules, the built-in policy) for each chunk of the
// scenarios and returns the results, also written as JSON and Markdown into a fresh folder.
func runCampaign(t *testing.T, deployment string, scs []campaign.Scenario, files []campaign.ScenarioFile, limit time.Duration) ([]*campaign.Results, string) {
	t.Helper()
	p := kernelPaths(t)
	names, shown, err := campaign.PolicyTargets("")
	require.NoError(t, err)
	require.NoError(t, campaign.CheckTargets(scs, names, shown))
	sys, err := boot.System(p, boot.SystemSpec{}, io.Discard)
	require.NoError(t, err)

	out := t.TempDir()
	t.Cleanup(func() { keepOnFailure(t, out) }) // runs before the temporary directory goes
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	start := time.Now()
	rs, err := campaign.Run(ctx, campaign.Config{
		Scenarios:   scs,
		Files:       files,
		Deployments: []string{deployment},
		Parallel:    2,
		Seed:        1,
		System:      sys,
		OutDir:      out,
		Progress:    &logWriter{t: t},
	})
	require.NoError(t, err)
	require.NoError(t, ctx.Err(), "the campaign did not finish within %v", limit)
	paths, err := campaign.WriteReport(out, rs)
	require.NoError(t, err)
	for _, chart := range []string{campaign.OutcomesChart, campaign.RecoveryChart} {
		assert.FileExists(t, filepath.Join(out, chart), "the charts beside results.md")
	}
	t.Logf("%s campaign: %v; wrote %s", deployment, time.Since(start).Round(time.Second), strings.Join(paths, ", "))
	md := string(campaign.Markdown(rs))
	t.Log("\n" + md)
	for _, r := range rs {
		for _, e := range r.Campaign.Errors {
			t.Log("error of the run:", e)
		}
	}
	return rs, out
}

// keepOnFailure copies a failed campaign's results and boot transcripts to
// build/test-failures/TEST/, so that a failure in CI leaves its evidence.
func keepOnFailure(t *testing.T, out string) {
	if !t.Failed() {
		return
	}
	dst := filepath.Join(appRepoRoot(t), "build", "test-failures", t.Name())
	if err := os.CopyFS(dst, os.DirFS(out)); err != nil {
		t.Logf("keeping the campaign's files: %v", err)
		return
	}
	t.Logf("the campaign's results and transcripts are kept in %s", dst)
}

func TestInjectQuickCampaignTiered(t *testing.T) {
	t.Parallel()
	root := appRepoRoot(t)
	scs, files, err := campaign.LoadScenarios(filepath.Join(root, "scenarios", "quick.scn"))
	require.NoError(t, err)
	rs, out := runCampaign(t, campaign.Tiered, scs, files, 8*time.Minute)
	require.Len(t, rs, 1)

	s := campaign.Summarize(rs[0])
	assert.GreaterOrEqual(t, s.Run, 500, "injections run")
	assert.Zero(t, s.ByOutcome[campaign.CoreCrash], "core crashes in the tiered deployment")
	assert.Zero(t, s.ByOutcome[campaign.Breach], "isolation breaches")
	assert.Zero(t, s.ByOutcome[campaign.NotRun], "injections that did not run")
	assert.Empty(t, rs[0].Campaign.Errors, "errors of the run")
	var unexpected []string
	for _, in := range rs[0].Injections {
		if !in.Expected {
			unexpected = append(unexpected, fmt.Sprintf("id %d (%s: %s in %s): %s: %s", in.ID, in.Scenario, in.Class, in.Target, in.Outcome, in.Detail))
		}
	}
	assert.Empty(t, unexpected, "unexpected outcomes:\n%s", strings.Join(unexpected, "\n"))
	pass, reasons := campaign.Verdict(rs)
	assert.True(t, pass, reasons)

	// Injection without restarts: the faults the modules commit themselves are armed in a
	// running instance restored from its snapshot (docs/fault-injection.md), none in a new
	// instance started with the fault as its argument.
	logs, err := filepath.Glob(filepath.Join(out, "logs", "*.log"))
	require.NoError(t, err)
	armed := 0
	for _, l := range logs {
		b, err := os.ReadFile(l)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile(`inject: (\d+) faults armed in a running instance`).FindAllSubmatch(b, -1) {
			n, _ := strconv.Atoi(string(m[1]))
			armed += n
		}
	}
	selfCommitted := 0
	for _, in := range rs[0].Injections {
		if in.Class != "kill" && !strings.HasPrefix(in.Class, "bitflip") {
			selfCommitted++
		}
		assert.Positive(t, in.TookUS, "id %d: took_us", in.ID)
	}
	assert.Equal(t, selfCommitted, armed, "every self-committed fault armed in a running instance")

	back, err := campaign.ReadResults(filepath.Join(out, "results-tiered.json"))
	require.NoError(t, err)
	assert.Len(t, back.Injections, len(rs[0].Injections))
	assert.Contains(t, []string{"tcg", "kvm"}, back.Campaign.Accel)
	assert.FileExists(t, filepath.Join(out, "results.md"))
}

// The comparison: every scenario of the quick campaign against the monolithic deployment,
// where the modules' faults run in the core itself. Unrecovered faults crash the core; wild
// writes, privileged instructions and port I/O complete (breaches); nothing is restarted.
// Three injections per scenario, one where the core hangs: nearly every injection ends its
// boot (a crash, or a hang the host waits out), so the whole quick campaign takes ~13 minutes
// here; make inject runs it.
func TestInjectQuickCampaignMonolithic(t *testing.T) {
	t.Parallel()
	root := appRepoRoot(t)
	scs, files, err := campaign.LoadScenarios(filepath.Join(root, "scenarios", "quick.scn"))
	require.NoError(t, err)
	planned := 0
	for i := range scs {
		n := 3
		if scs[i].Class == "endless-loop" || scs[i].Class == "syscall-storm" {
			n = 1
		}
		scs[i].Count = min(scs[i].Count, n)
		planned += scs[i].Count
	}
	rs, _ := runCampaign(t, campaign.Monolithic, scs, files, 12*time.Minute)
	require.Len(t, rs, 1)
	s := campaign.Summarize(rs[0])
	assert.Equal(t, planned, s.Run, "injections run")
	assert.Zero(t, s.ByOutcome[campaign.NotRun], "injections that did not run")
	assert.Zero(t, s.ByOutcome[campaign.Restarted], "nothing can be restarted inside the core")
	byClass := map[string]map[string]int{}
	for _, in := range rs[0].Injections {
		if byClass[in.Class] == nil {
			byClass[in.Class] = map[string]int{}
		}
		byClass[in.Class][in.Outcome]++
	}
	for _, c := range []string{"null-deref", "oob-read", "div-zero", "invalid-opcode", "panic", "kill"} {
		assert.Positive(t, byClass[c][campaign.CoreCrash], "%s in the core crashes it", c)
		assert.Zero(t, byClass[c][campaign.Handled], "%s in the core is never handled", c)
	}
	for _, c := range []string{"wild-write-core", "wild-write-task", "privileged", "port-io"} {
		assert.Positive(t, byClass[c][campaign.Breach], "%s completes in ring 0", c)
	}
	pass, _ := campaign.Verdict(rs)
	assert.True(t, pass, "monolithic results never fail the run")
}
