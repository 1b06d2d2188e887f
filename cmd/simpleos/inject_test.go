package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/inject/campaign"
)

func TestParseInjectArgsDefaults(t *testing.T) {
	a, err := parseInjectArgs([]string{"scenarios/quick.scn"})
	require.NoError(t, err)
	assert.Equal(t, injectArgs{
		Files:       []string{"scenarios/quick.scn"},
		Deployments: []string{"tiered"},
		Parallel:    1,
		PerBoot:     150,
		Out:         filepath.Join("build", "inject"),
		Stall:       30 * time.Second,
		Accel:       "auto",
		Seed:        1,
	}, a)
}

func TestParseInjectArgsAllFlags(t *testing.T) {
	a, err := parseInjectArgs([]string{
		"--deployment", "both", "a.scn", "--parallel=4", "--shard", "2/3", "b.scn", "--per-boot", "50",
		"--out", "/tmp/x", "--timeout", "5m", "--stall", "10s", "--accel", "tcg", "--seed", "42", "--policy", "p.policy",
	})
	require.NoError(t, err)
	assert.Equal(t, injectArgs{
		Files:       []string{"a.scn", "b.scn"},
		Deployments: []string{"tiered", "monolithic"},
		Parallel:    4,
		Shard:       campaign.Shard{Index: 2, Count: 3},
		PerBoot:     50,
		Out:         "/tmp/x",
		Timeout:     5 * time.Minute,
		Stall:       10 * time.Second,
		Accel:       "tcg",
		Seed:        42,
		Policy:      "p.policy",
	}, a)

	a, err = parseInjectArgs([]string{"--deployment=monolithic", "x.scn"})
	require.NoError(t, err)
	assert.Equal(t, []string{"monolithic"}, a.Deployments)
}

func TestParseInjectArgsRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no scenario file given"},
		{[]string{"--parallel", "2"}, "no scenario file given"},
		{[]string{"x.scn", "--deployment", "hybrid"}, `--deployment must be tiered, monolithic or both, got "hybrid"`},
		{[]string{"x.scn", "--parallel", "0"}, "--parallel must be at least 1, got 0"},
		{[]string{"x.scn", "--parallel", "two"}, "-parallel"},
		{[]string{"x.scn", "--shard", "3/2"}, `--shard "3/2": want 1 <= i <= n`},
		{[]string{"x.scn", "--shard", "1"}, `--shard "1": want i/n, e.g. 2/4`},
		{[]string{"x.scn", "--per-boot", "0"}, "--per-boot must be between 1 and 100000, got 0"},
		{[]string{"x.scn", "--out", ""}, "--out needs a folder"},
		{[]string{"x.scn", "--out", "my dir"}, "spaces"},
		{[]string{"x.scn", "--timeout", "-1s"}, "--timeout must not be negative"},
		{[]string{"x.scn", "--stall", "0"}, "--stall must be positive"},
		{[]string{"x.scn", "--accel", "hvf"}, `--accel must be auto, kvm or tcg, got "hvf"`},
		{[]string{"x.scn", "--seed", "-1"}, "-seed"},
		{[]string{"x.scn", "--bogus"}, "bogus"},
		{[]string{"x.scn", "--stall"}, "stall"},
	} {
		_, err := parseInjectArgs(c.args)
		if assert.Error(t, err, "%q", c.args) {
			assert.ErrorAs(t, err, new(usageError), "%q exits 2", c.args)
			assert.Contains(t, err.Error(), c.want, "%q", c.args)
		}
	}
}

func TestParseInjectArgsShardAuto(t *testing.T) {
	slurm := map[string]string{
		"SLURM_ARRAY_JOB_ID": "7", "SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0",
		"SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_STEP": "1", "SLURM_ARRAY_TASK_COUNT": "4",
	}
	getenv := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	a, err := parseInjectArgsEnv([]string{"--shard", "auto", "q.scn"}, getenv(slurm))
	require.NoError(t, err)
	assert.Equal(t, campaign.Shard{Index: 1, Count: 4}, a.Shard, "Slurm's index 0 of 0-3 is shard 1/4")
	assert.Equal(t, "Slurm array job 7, task 0 of indices 0-3: shard 1/4", a.ShardNote)

	a, err = parseInjectArgsEnv([]string{"q.scn", "--shard=auto", "--shard-count", "4"}, getenv(map[string]string{"JOB_COMPLETION_INDEX": "3"}))
	require.NoError(t, err)
	assert.Equal(t, campaign.Shard{Index: 4, Count: 4}, a.Shard, "Kubernetes' index 3 of 4 is shard 4/4")

	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--shard", "auto", "q.scn"}, nil, "--shard auto: this is neither a task of a Slurm array job"},
		{[]string{"--shard", "auto", "q.scn"}, map[string]string{"JOB_COMPLETION_INDEX": "0"}, "--shard-count N, N being the Job's completions"},
		{[]string{"--shard", "auto", "--shard-count", "8", "q.scn"}, slurm, "--shard-count 8, but the Slurm array has 4 tasks"},
		{[]string{"--shard", "2/4", "--shard-count", "4", "q.scn"}, slurm, "--shard-count is for --shard auto"},
		{[]string{"--shard-count", "4", "q.scn"}, nil, "--shard-count is for --shard auto"},
	} {
		_, err := parseInjectArgsEnv(c.args, getenv(c.env))
		if assert.Error(t, err, "%q", c.args) {
			assert.ErrorAs(t, err, new(usageError), "%q exits 2", c.args)
			assert.Contains(t, err.Error(), c.want, "%q", c.args)
		}
	}

	// An explicit --shard ignores the environment.
	a, err = parseInjectArgsEnv([]string{"--shard", "2/3", "q.scn"}, getenv(slurm))
	require.NoError(t, err)
	assert.Equal(t, campaign.Shard{Index: 2, Count: 3}, a.Shard)
	assert.Empty(t, a.ShardNote)
}

func TestInjectHelpAndUsageErrors(t *testing.T) {
	var b bytes.Buffer
	_, err := parseInjectArgs([]string{"-h"})
	assert.Equal(t, exitUsage, injectUsageError(err, &b))
	for _, want := range []string{"usage: simpleos inject [flags] SCENARIO...", "inject merge -o DIR", "-deployment", "-shard", "-shard-count", "--shard auto", "-per-boot", "-stall", "-seed"} {
		assert.Contains(t, b.String(), want)
	}
	b.Reset()
	_, err = parseInjectArgs([]string{"--parallel", "0", "x.scn"})
	assert.Equal(t, exitUsage, injectUsageError(err, &b))
	assert.Contains(t, b.String(), "simpleos: inject: --parallel must be at least 1")
}

func TestRunInjectRejectsBadScenarios(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.scn")
	require.NoError(t, os.WriteFile(bad, []byte("scenario a\n target sensor\n class nul-deref\nend\n"), 0o644))
	assert.Equal(t, 1, runInject([]string{bad}))
	stranger := filepath.Join(dir, "stranger.scn")
	require.NoError(t, os.WriteFile(stranger, []byte("scenario a\n target nobody\n class panic\n after 0\n count 1\n expect restarted\nend\n"), 0o644))
	assert.Equal(t, 1, runInject([]string{stranger}))
	err := checkTargets([]campaign.Scenario{{Name: "a", Target: "nobody", File: "s.scn", TargetLine: 2}}, "")
	assert.EqualError(t, err, `s.scn:2: target "nobody" is not a module of policy/system.policy (modules: `+
		joinNames(t)+`)`)
	assert.Equal(t, exitUsage, runInject([]string{"--parallel", "0", bad}))
}

func joinNames(t *testing.T) string {
	names, _, err := campaign.PolicyTargets("")
	require.NoError(t, err)
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
	}
	return b.String()
}

// shardFile writes shard i/n of a tiny tiered campaign and returns its path.
func shardFile(t *testing.T, dir string, i, n int, outcome string) string {
	r := &campaign.Results{Campaign: campaign.Campaign{
		ScenarioFiles: []campaign.ScenarioFile{{Path: "q.scn", SHA256: "abcdef", Scenarios: 1, Faults: 4}},
		Deployment:    "tiered", Accel: "tcg", ShardCount: n, Shards: []int{i}, Seed: 1, PerBoot: 150, PlanTotal: 4,
		WallSeconds: 1, Boots: 1,
	}}
	for id := 1; id <= 4; id++ {
		if (campaign.Shard{Index: i, Count: n}).Keep(id) {
			r.Injections = append(r.Injections, campaign.Record{ID: id, Scenario: "p", Class: "panic", Target: "sensor",
				Outcome: outcome, Expected: outcome == "restarted", Boot: 1})
		}
	}
	p := filepath.Join(dir, r.FileName())
	require.NoError(t, r.WriteFile(p))
	return p
}

func TestInjectMerge(t *testing.T) {
	in := t.TempDir()
	a := shardFile(t, in, 1, 2, "restarted")
	b := shardFile(t, in, 2, 2, "restarted")
	out := filepath.Join(t.TempDir(), "merged")
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, injectMerge([]string{"-o", out, a, b}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "tiered: 4 injections, 4 run, 0 unexpected, 0 core crashes, 0 breaches, 0 hangs")
	assert.Contains(t, stdout.String(), "PASS")
	merged, err := campaign.ReadResults(filepath.Join(out, "results-tiered.json"))
	require.NoError(t, err)
	assert.Len(t, merged.Injections, 4)
	assert.FileExists(t, filepath.Join(out, "results.md"))

	// Flags after the files; a failing campaign exits 1.
	c := shardFile(t, t.TempDir(), 2, 2, "breach")
	stdout.Reset()
	assert.Equal(t, 1, injectMerge([]string{a, c, "-o", out}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "FAIL: tiered: 2 isolation breaches; tiered: 2 unexpected outcomes")

	// A missing shard fails the merge, which still writes what it has.
	stdout.Reset()
	partial := filepath.Join(t.TempDir(), "partial")
	assert.Equal(t, 1, injectMerge([]string{"-o", partial, a}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "FAIL: tiered: shard 2 of 2 missing (2 of 4 injections merged)")
	assert.FileExists(t, filepath.Join(partial, "results-tiered-shard-1-of-2.json"))
	assert.FileExists(t, filepath.Join(partial, "results-shard-1-of-2.md"))
	assert.Equal(t, "shards 2, 4", shardNumbers([]int{2, 4}))

	// Refusals exit 1 and say why.
	stderr.Reset()
	assert.Equal(t, 1, injectMerge([]string{"-o", out, a, a}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "both hold shard 1/2")
	stderr.Reset()
	assert.Equal(t, 1, injectMerge([]string{"-o", out, filepath.Join(in, "missing.json")}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "missing.json")

	for _, args := range [][]string{{a, b}, {"-o", out}, {"-o"}, {"--bogus", "-o", out, a}} {
		stderr.Reset()
		assert.Equal(t, exitUsage, injectMerge(args, &stdout, &stderr), "%q", args)
		assert.Contains(t, stderr.String(), "inject merge", "%q", args)
	}
}

func TestInjectIsACommand(t *testing.T) {
	found := false
	for _, c := range commands {
		found = found || c.name == "inject"
	}
	assert.True(t, found)
}
