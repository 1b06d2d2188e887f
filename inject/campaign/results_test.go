package campaign

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var files1 = []ScenarioFile{{Path: "scenarios/quick.scn", SHA256: "aaaa1111bbbb2222cccc", Scenarios: 2, Faults: 8}}

// shardResults is shard i/n of an 8-injection campaign in which every kill crashes the
// monolithic core.
func shardResults(dep string, i, n int) *Results {
	r := &Results{Campaign: Campaign{
		ScenarioFiles: files1, Deployment: dep, Accel: "tcg", ShardCount: n, Shards: []int{i},
		Seed: 1, PerBoot: 150, PlanTotal: 8, Start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		WallSeconds: 4, Boots: 1,
	}}
	for id := 1; id <= 8; id++ {
		if !(Shard{Index: i, Count: n}).Keep(id) {
			continue
		}
		in := Record{ID: id, Scenario: "p", Class: "panic", Target: "sensor", Outcome: Restarted, RecoveryUS: int64(1000 * id), Expected: true, Boot: 1}
		if id%2 == 0 {
			in = Record{ID: id, Scenario: "k", Class: "kill", Target: "console", Outcome: Restarted, Expected: true, Boot: 1, RecoveryUS: 500}
			if dep == Monolithic {
				in.Outcome, in.Expected, in.RecoveryUS, in.Detail = CoreCrash, false, 0, "CORE CRASH: x"
			}
		}
		r.Injections = append(r.Injections, in)
		r.Campaign.Planned++
	}
	r.Boots = []BootRecord{{Boot: 1, FirstID: r.Injections[0].ID, Planned: len(r.Injections), Results: len(r.Injections), End: "done", Log: "logs/x.log"}}
	return r
}

func TestResultsJSONRoundTrip(t *testing.T) {
	r := shardResults(Tiered, 2, 2)
	r.Campaign.Errors = []string{"boot 1: something"}
	dir := t.TempDir()
	path := filepath.Join(dir, r.FileName())
	assert.Equal(t, "results-tiered-shard-2-of-2.json", r.FileName())
	require.NoError(t, r.WriteFile(path))
	back, err := ReadResults(path)
	require.NoError(t, err)
	assert.Equal(t, path, back.source)
	back.source = ""
	assert.Equal(t, r, back)

	// The documented field names.
	var raw map[string]any
	b, _ := os.ReadFile(path)
	require.NoError(t, json.Unmarshal(b, &raw))
	c := raw["campaign"].(map[string]any)
	for _, k := range []string{"scenario_files", "deployment", "accel", "shard_count", "shards", "seed", "start", "wall_seconds", "boots", "plan_total", "planned", "per_boot", "errors"} {
		assert.Contains(t, c, k)
	}
	in := raw["injections"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "scenario", "class", "target", "outcome", "recovery_us", "expected", "boot", "after_ms"} {
		assert.Contains(t, in, k)
	}
}

func TestReadResultsRejectsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	for _, c := range []struct{ body, want string }{
		{"not json", "not a results file"},
		{`{"campaign":{"deployment":"hybrid"}}`, `deployment "hybrid"`},
		{`{"campaign":{"deployment":"tiered"}}`, "no shard information"},
		{`{"campaign":{"deployment":"tiered","shard_count":2,"shards":[1]}}`, "no scenario files"},
		{`{"campaign":{"deployment":"tiered","shard_count":2,"shards":[3],"scenario_files":[{"path":"a"}]}}`, "shard 3 of 2"},
		{`{"campaign":{"deployment":"tiered","shard_count":2,"shards":[1],"scenario_files":[{"path":"a"}]},"injections":[{"id":2}]}`, "injection 2 does not belong to shard(s) 1/2"},
	} {
		_, err := ReadResults(write("x.json", c.body))
		assert.ErrorContains(t, err, c.want)
	}
	_, err := ReadResults(filepath.Join(dir, "missing.json"))
	assert.Error(t, err)
}

func TestMergeShards(t *testing.T) {
	t1, t2 := shardResults(Tiered, 1, 2), shardResults(Tiered, 2, 2)
	m1 := shardResults(Monolithic, 1, 2)
	t2.Campaign.Accel = "kvm"
	t2.Campaign.Errors = []string{"boot 1: oops"}
	t2.Campaign.Start = t1.Campaign.Start.Add(-time.Hour)
	merged, err := Merge(m1, t2, t1)
	require.NoError(t, err)
	require.Len(t, merged, 2)
	tm, mm := merged[0], merged[1]
	assert.Equal(t, Tiered, tm.Campaign.Deployment)
	assert.Equal(t, []int{1, 2}, tm.Campaign.Shards)
	assert.Equal(t, "results-tiered.json", tm.FileName(), "all shards: the whole campaign")
	assert.Equal(t, 8, tm.Campaign.Planned)
	assert.Equal(t, 8.0, tm.Campaign.WallSeconds)
	assert.Equal(t, 2, tm.Campaign.Boots)
	assert.Equal(t, "kvm+tcg", tm.Campaign.Accel)
	assert.Equal(t, t2.Campaign.Start, tm.Campaign.Start, "the earliest start")
	assert.Equal(t, []string{"shard 2/2: boot 1: oops"}, tm.Campaign.Errors)
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8}, recIDs(tm.Injections))
	// Boot numbers stay distinct: t2's boot 1 comes first (given first), t1's becomes boot 2.
	assert.Equal(t, 1, tm.Injections[1].Boot)
	assert.Equal(t, 2, tm.Injections[0].Boot)
	assert.Equal(t, []int{1, 2}, []int{tm.Boots[0].Boot, tm.Boots[1].Boot})

	assert.Equal(t, []int{1}, mm.Campaign.Shards)
	assert.Equal(t, "results-monolithic-shard-1-of-2.json", mm.FileName())

	three := []*Results{shardResults(Tiered, 1, 4), shardResults(Tiered, 3, 4)}
	m, err := Merge(three...)
	require.NoError(t, err)
	assert.Equal(t, "results-tiered-shards-1+3-of-4.json", m[0].FileName())
}

func TestMergeRefusals(t *testing.T) {
	a := shardResults(Tiered, 1, 2)
	a.source = "a.json"
	named := func(r *Results, name string) *Results { r.source = name; return r }

	other := named(shardResults(Tiered, 2, 2), "b.json")
	other.Campaign.ScenarioFiles = []ScenarioFile{{Path: "scenarios/full.scn", SHA256: "ffff0000"}}
	_, err := Merge(a, other)
	assert.EqualError(t, err, "merge: a.json and b.json ran different scenario files: scenarios/quick.scn (sha256 aaaa1111bbbb) vs scenarios/full.scn (sha256 ffff0000)")

	seed := named(shardResults(Tiered, 2, 2), "b.json")
	seed.Campaign.Seed = 2
	_, err = Merge(a, seed)
	assert.EqualError(t, err, "merge: a.json and b.json used different seeds (1 and 2)")

	count := named(shardResults(Tiered, 2, 3), "b.json")
	_, err = Merge(a, count)
	assert.EqualError(t, err, "merge: a.json and b.json were cut into different shard counts (2 and 3)")

	size := named(shardResults(Tiered, 2, 2), "b.json")
	size.Campaign.PlanTotal = 9
	_, err = Merge(a, size)
	assert.EqualError(t, err, "merge: a.json and b.json have plans of different sizes (8 and 9)")

	_, err = Merge(a, named(shardResults(Tiered, 1, 2), "b.json"))
	assert.EqualError(t, err, "merge: a.json and b.json both hold shard 1/2 of the tiered deployment")

	// The same ids under different shard numbers (a file edited by hand).
	forged := named(shardResults(Tiered, 1, 2), "b.json")
	forged.Campaign.Shards = []int{2}
	_, err = Merge(a, forged)
	assert.EqualError(t, err, "merge: a.json and b.json both hold injection 1 of the tiered deployment")

	_, err = Merge()
	assert.Error(t, err)

	// One shard of each deployment is fine: they do not overlap.
	_, err = Merge(a, named(shardResults(Monolithic, 1, 2), "m.json"))
	assert.NoError(t, err)
}

func TestSummarizeAndPercentiles(t *testing.T) {
	assert.Equal(t, 0.0, Median(nil))
	assert.Equal(t, 3.0, Median([]int64{5, 1, 3}))
	assert.Equal(t, 2.5, Median([]int64{4, 1, 3, 2}))
	assert.Equal(t, int64(0), Percentile(nil, 99))
	var hundred []int64
	for i := int64(100); i >= 1; i-- {
		hundred = append(hundred, i)
	}
	assert.Equal(t, int64(99), Percentile(hundred, 99))
	assert.Equal(t, int64(50), Percentile(hundred, 50))
	assert.Equal(t, int64(100), Percentile(hundred, 100))
	assert.Equal(t, int64(7), Percentile([]int64{7}, 99))
	assert.Equal(t, int64(10), Percentile([]int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99), "nearest rank rounds up")

	r := shardResults(Monolithic, 1, 1)
	r.Injections = append(r.Injections, Record{ID: 9, Class: "exotic", Outcome: NotRun})
	s := Summarize(r)
	assert.Equal(t, 9, s.Total)
	assert.Equal(t, 8, s.Run)
	assert.Equal(t, []string{"panic", "kill", "exotic"}, s.Classes, "known classes in order, then others")
	assert.Equal(t, map[string]int{Restarted: 4, CoreCrash: 4, NotRun: 1}, s.ByOutcome)
	assert.Equal(t, 4, s.ByClass["kill"][CoreCrash])
	assert.Equal(t, 5, s.Unexpected)
	assert.Equal(t, map[string]int{"kill": 4, "exotic": 1}, s.UnexpectedByClass)
	// Recovery over restarted ones only: panics 1, 3, 5, 7 -> 1000, 3000, 5000, 7000 us.
	assert.Equal(t, Recovery{N: 4, MedianUS: 4000, P99US: 7000}, s.Recovery)
	assert.Equal(t, 2.0, s.FaultsPerSecond)
}

func TestVerdict(t *testing.T) {
	pass, reasons := Verdict([]*Results{shardResults(Tiered, 1, 1), shardResults(Monolithic, 1, 1)})
	assert.True(t, pass, reasons)

	bad := shardResults(Tiered, 1, 1)
	bad.Injections[0].Outcome, bad.Injections[0].Expected = Breach, true // even when "expected"
	bad.Injections[1].Outcome, bad.Injections[1].Expected = CoreCrash, false
	bad.Injections[2].Outcome, bad.Injections[2].Expected = NotRun, false
	bad.Campaign.Errors = []string{"x"}
	pass, reasons = Verdict([]*Results{bad})
	assert.False(t, pass)
	assert.Equal(t, []string{"tiered: 1 core crashes", "tiered: 1 isolation breaches", "tiered: 1 injections did not run",
		"tiered: 2 unexpected outcomes", "tiered: 1 errors of the run"}, reasons)

	mono := shardResults(Monolithic, 1, 1)
	mono.Campaign.Errors = []string{"boot 3: the core crashed after the last injection"}
	pass, _ = Verdict([]*Results{mono})
	assert.True(t, pass, "the monolithic comparison never fails the run")
}

func TestMarkdown(t *testing.T) {
	tr, mr := shardResults(Tiered, 1, 1), shardResults(Monolithic, 1, 1)
	mr.Injections[1].Detail = "CORE CRASH: a | b\nsecond line"
	md := string(Markdown([]*Results{tr, mr}))
	for _, want := range []string{
		"# Fault-injection campaign\n",
		"Scenarios: `scenarios/quick.scn` (2 scenarios, 8 faults, sha256 aaaa1111bbbb). Seed 1. Started 2025-01-02 03:04 UTC.\n",
		"\n![Outcomes per fault class](outcomes.svg)\n",
		"\n![Recovery times](recovery.svg)\n",
		"## Tiered deployment\n",
		"8 injections (8 run) in 1 boots, 4.0 s wall: 2.0 faults/s on TCG. 0 core crashes, 0 breaches, 0 hangs, 0 unexpected outcomes.\n",
		"Recovery time of restarted modules (n=8): median 0.8 ms, p99 7.0 ms.\n",
		"| class | handled | restarted | quarantined | breach | hang | core-crash | total | unexpected |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
		"| panic | 0 | 4 | 0 | 0 | 0 | 0 | 4 | 0 |\n",
		"| kill | 0 | 4 | 0 | 0 | 0 | 0 | 4 | 0 |\n",
		"| **total** | **0** | **8** | **0** | **0** | **0** | **0** | **8** | **0** |\n",
		"## Monolithic deployment\n",
		"| kill | 0 | 0 | 0 | 0 | 0 | 4 | 4 | 4 |\n",
		"(The monolithic deployment is the comparison: its outcomes never fail the run.)\n",
		"Unexpected outcomes (4):\n",
		`| 2 | k | kill | console | core-crash | 1 | CORE CRASH: a \| b second line |` + "\n",
		"## Tiered vs monolithic\n\n| class | tiered | monolithic |\n|---|---|---|\n",
		"| panic | 4 restarted | 4 restarted |\n",
		"| kill | 4 restarted | 4 core-crash |\n",
		"| **total** | 8 restarted | 4 restarted, 4 core-crash |\n",
	} {
		assert.Contains(t, md, want)
	}
	assert.Equal(t, 1, strings.Count(md, "Unexpected outcomes"), "only the monolithic section has them")

	only := string(Markdown([]*Results{tr}))
	assert.NotContains(t, only, "Tiered vs monolithic")
	assert.NotContains(t, only, "not-run")

	tr.Injections[0].Outcome, tr.Injections[0].Expected = NotRun, false
	tr.Campaign.Errors = []string{"boot 1: id 1 did not run: the boot ended with status 3"}
	withErrors := string(Markdown([]*Results{tr}))
	assert.Contains(t, withErrors, "| not-run | total | unexpected |")
	assert.Contains(t, withErrors, "Errors of the run (1):\n\n- boot 1: id 1 did not run: the boot ended with status 3\n")
	assert.Contains(t, withErrors, "8 injections (7 run)")

	assert.Equal(t, "# Fault-injection campaign\n\nNo results.\n", string(Markdown(nil)))
}

func TestWriteReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	paths, err := WriteReport(dir, []*Results{shardResults(Tiered, 1, 1), shardResults(Monolithic, 1, 1)})
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dir, "results-tiered.json"), filepath.Join(dir, "results-monolithic.json"),
		filepath.Join(dir, OutcomesChart), filepath.Join(dir, RecoveryChart), filepath.Join(dir, "results.md")}, paths)
	for _, p := range paths {
		assert.FileExists(t, p)
	}
}

func TestWriteReportOfAShard(t *testing.T) {
	// The shards of a campaign share a folder on a cluster: each writes its own report.
	dir := t.TempDir()
	for i := 1; i <= 2; i++ {
		paths, err := WriteReport(dir, []*Results{shardResults(Tiered, i, 2), shardResults(Monolithic, i, 2)})
		require.NoError(t, err)
		assert.Equal(t, []string{
			filepath.Join(dir, fmt.Sprintf("results-tiered-shard-%d-of-2.json", i)),
			filepath.Join(dir, fmt.Sprintf("results-monolithic-shard-%d-of-2.json", i)),
			filepath.Join(dir, fmt.Sprintf("outcomes-shard-%d-of-2.svg", i)),
			filepath.Join(dir, fmt.Sprintf("recovery-shard-%d-of-2.svg", i)),
			filepath.Join(dir, fmt.Sprintf("results-shard-%d-of-2.md", i)),
		}, paths)
		md, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("results-shard-%d-of-2.md", i)))
		require.NoError(t, err)
		assert.Contains(t, string(md), fmt.Sprintf("![Outcomes per fault class](outcomes-shard-%d-of-2.svg)", i), "the report links its own charts")
	}
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	assert.Len(t, names, 10, "no temporary files left: %q", names)

	assert.Equal(t, "results.md", ReportName(nil))
	assert.Equal(t, "results.md", ReportName([]*Results{shardResults(Tiered, 1, 1)}))
	assert.Equal(t, "results.md", ReportName([]*Results{shardResults(Tiered, 1, 2), shardResults(Monolithic, 2, 2)}), "mixed shards")
	two := shardResults(Tiered, 1, 3)
	two.Campaign.Shards = []int{1, 3}
	assert.Equal(t, "results-shards-1+3-of-3.md", ReportName([]*Results{two}))
}

func TestResultsWriteFileReplaces(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.json")
	require.NoError(t, os.WriteFile(p, []byte("old and longer than the new contents, surely not JSON"), 0o600))
	r := shardResults(Tiered, 1, 1)
	require.NoError(t, r.WriteFile(p))
	back, err := ReadResults(p)
	require.NoError(t, err)
	assert.Len(t, back.Injections, 8)
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
	assert.Error(t, r.WriteFile(filepath.Join(t.TempDir(), "no", "such", "dir.json")))
}

func TestMissingShards(t *testing.T) {
	assert.Empty(t, shardResults(Tiered, 1, 1).MissingShards())
	r := shardResults(Tiered, 2, 4)
	assert.Equal(t, []int{1, 3, 4}, r.MissingShards())
	m, err := Merge(shardResults(Tiered, 1, 3), shardResults(Tiered, 3, 3))
	require.NoError(t, err)
	assert.Equal(t, []int{2}, m[0].MissingShards())
}

func TestCell(t *testing.T) {
	assert.Equal(t, `a \| b c`, cell("a | b\n c"))
	long := strings.Repeat("é", 200)
	c := cell(long)
	assert.True(t, strings.HasSuffix(c, "..."))
	assert.True(t, len(c) <= 160)
	assert.True(t, strings.ToValidUTF8(c, "?") == c, "cut on a rune boundary")
}

func TestFaultsPerCoreAndTimePerClass(t *testing.T) {
	r := shardResults(Tiered, 1, 1)
	r.Campaign.CoreSeconds = 8 // 4 s wall on 2 cores
	for i := range r.Injections {
		r.Injections[i].TookUS = int64(10_000 * (i + 1))
	}
	s := Summarize(r)
	assert.InDelta(t, 1.0, s.FaultsPerCore, 1e-9, "8 faults in 8 core seconds")
	assert.InDelta(t, 2.0, s.FaultsPerSecond, 1e-9)
	require.Len(t, s.TookMS, 2)
	md := string(Markdown([]*Results{r}))
	assert.Contains(t, md, "4.0 s wall: 2.0 faults/s (1.0 per core) on TCG.")
	assert.Contains(t, md, "Guest time per injection, start to result, mean by class (the campaign's cost): panic ")

	a, b := shardResults(Tiered, 1, 2), shardResults(Tiered, 2, 2)
	a.Campaign.CoreSeconds, b.Campaign.CoreSeconds = 3, 5
	m, err := Merge(a, b)
	require.NoError(t, err)
	assert.InDelta(t, 8.0, m[0].Campaign.CoreSeconds, 1e-9, "merged shards add their core seconds")
}
