package campaign

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/inject/fault"
)

const twoScenarios = `# a comment
scenario null-sensor      # trailing comment
    target   sensor
    class    null-deref
    after    20ms
    count    40
    expect   restarted quarantined
end

scenario storm
	target pipesvc
	class syscall-storm
	after 0
	count 1
	expect handled
end
`

func TestParseScenarios(t *testing.T) {
	scs, err := ParseScenarios("x.scn", []byte(twoScenarios))
	require.NoError(t, err)
	assert.Equal(t, []Scenario{
		{Name: "null-sensor", Target: "sensor", Class: "null-deref", After: 20 * time.Millisecond, Count: 40,
			Expect: []string{"restarted", "quarantined"}, File: "x.scn", Line: 2, TargetLine: 3},
		{Name: "storm", Target: "pipesvc", Class: "syscall-storm", After: 0, Count: 1,
			Expect: []string{"handled"}, File: "x.scn", Line: 10, TargetLine: 11},
	}, scs)
	assert.True(t, scs[0].Expects(Quarantined))
	assert.False(t, scs[0].Expects(Handled))
}

// block is a valid scenario with one statement replaced (or dropped, with an empty value).
func block(replace map[string]string) string {
	lines := []string{"scenario s"}
	for _, kw := range []string{"target", "class", "after", "count", "expect"} {
		v := map[string]string{"target": "sensor", "class": "panic", "after": "1s", "count": "3", "expect": "restarted"}[kw]
		if r, ok := replace[kw]; ok {
			v = r
		}
		if v != "-" {
			lines = append(lines, "  "+kw+" "+v)
		}
	}
	return strings.Join(append(lines, "end"), "\n") + "\n"
}

func TestParseScenariosRejectsEveryMalformedForm(t *testing.T) {
	for _, c := range []struct {
		src  string
		want string // the whole first error
	}{
		{"", `x.scn: no scenarios (a block starts with "scenario NAME")`},
		{"# only comments\n\n", `x.scn: no scenarios (a block starts with "scenario NAME")`},
		{block(map[string]string{"class": "nul-deref"}), `x.scn:3: unknown fault class "nul-deref" (known: null-deref, null-deref-recovered, oob-read, wild-write-core, wild-write-task, div-zero, invalid-opcode, privileged, port-io, stack-overflow, endless-loop, mem-exhaust, thread-bomb, bad-ipc, syscall-storm, panic, bitflip-code, bitflip-data, kill, dma-wild, dma-stale, device-hang, crash-mid-write, fs-crash-mid-write, fs-corrupt-read, fs-hang)`},
		{block(map[string]string{"class": "-"}), `x.scn:1: scenario "s": missing "class"`},
		{block(map[string]string{"target": "-", "count": "-"}), `x.scn:1: scenario "s": missing "target", "count"`},
		{block(map[string]string{"class": "panic kill"}), `x.scn:3: "class" takes one value, got 2: "panic kill"`},
		{block(map[string]string{"class": ""}), `x.scn:3: "class" needs a value`},
		{block(map[string]string{"target": "a/b"}), `x.scn:2: target "a/b" is not a module name (1 to 32 characters of A-Z a-z 0-9 . _ -)`},
		{block(map[string]string{"after": "20"}), `x.scn:4: after "20": not a duration (e.g. 0, 50ms, 2s)`},
		{block(map[string]string{"after": "-1ms"}), `x.scn:4: after -1ms: must be between 0 and 10s`},
		{block(map[string]string{"after": "11s"}), `x.scn:4: after 11s: must be between 0 and 10s`},
		{block(map[string]string{"after": "1500us"}), `x.scn:4: after 1.5ms: not a whole number of milliseconds`},
		{block(map[string]string{"count": "0"}), `x.scn:5: count 0: must be between 1 and 100000`},
		{block(map[string]string{"count": "100001"}), `x.scn:5: count 100001: must be between 1 and 100000`},
		{block(map[string]string{"count": "+5"}), `x.scn:5: count "+5": not a decimal number`},
		{block(map[string]string{"count": "0x10"}), `x.scn:5: count "0x10": not a decimal number`},
		{block(map[string]string{"count": "ten"}), `x.scn:5: count "ten": not a decimal number`},
		{block(map[string]string{"expect": ""}), `x.scn:6: "expect" needs at least one outcome (known: handled, restarted, quarantined, breach, hang, core-crash)`},
		{block(map[string]string{"expect": "restarted crashed"}), `x.scn:6: unknown outcome "crashed" (known: handled, restarted, quarantined, breach, hang, core-crash)`},
		{block(map[string]string{"expect": "not-run"}), `x.scn:6: unknown outcome "not-run" (known: handled, restarted, quarantined, breach, hang, core-crash)`},
		{block(map[string]string{"expect": "hang hang"}), `x.scn:6: outcome "hang" listed twice`},
		{"scenario s\n  target sensor\n  target console\nend\n", `x.scn:3: duplicate "target" in scenario "s" (first on line 2)`},
		{"scenario s\n  targte sensor\nend\n", `x.scn:2: unknown keyword "targte" (known: scenario, target, class, after, count, expect, end)`},
		{"  class panic\n", `x.scn:1: "class" outside a scenario block (start one with "scenario NAME")`},
		{"end\n", `x.scn:1: "end" without a scenario`},
		{block(nil) + block(nil), `x.scn:8: scenario "s" already defined on line 1`},
		{"scenario\n", `x.scn:1: scenario needs a name`},
		{"scenario a b\n", `x.scn:1: scenario takes one name, got 2 words`},
		{"scenario a/b\n", `x.scn:1: scenario name "a/b": want 1 to 64 characters of A-Z a-z 0-9 . _ -`},
		{"scenario " + strings.Repeat("x", 65) + "\n", `x.scn:1: scenario name "` + strings.Repeat("x", 65) + `": want 1 to 64 characters of A-Z a-z 0-9 . _ -`},
		{strings.TrimSuffix(block(nil), "end\n"), `x.scn:1: scenario "s" has no "end"`},
		{"scenario a\n" + block(nil), `x.scn:2: scenario inside scenario "a" (begun on line 1): missing "end"`},
		{strings.Replace(block(nil), "end", "end now", 1), `x.scn:7: "end" takes no value, got "now"`},
		{"scenario s\xff\n", `x.scn:1: not valid UTF-8`},
	} {
		_, err := ParseScenarios("x.scn", []byte(c.src))
		var es Errors
		if assert.ErrorAs(t, err, &es, "%q", c.src) {
			assert.Equal(t, c.want, es[0].Error(), "%q", c.src)
		}
	}
}

func TestParseScenariosReportsEveryError(t *testing.T) {
	src := block(map[string]string{"class": "x", "count": "0"}) + "bogus\n"
	_, err := ParseScenarios("f.scn", []byte(src))
	require.Error(t, err)
	assert.Equal(t, `f.scn:3: unknown fault class "x" (known: `+strings.Join(Classes(), ", ")+`)
f.scn:5: count 0: must be between 1 and 100000
f.scn:8: unknown keyword "bogus" (known: scenario, target, class, after, count, expect, end)`, err.Error())

	var many strings.Builder
	for range 100 {
		many.WriteString("bogus\n")
	}
	_, err = ParseScenarios("f.scn", []byte(many.String()))
	assert.Len(t, err.(Errors), maxErrors)
}

func TestLoadScenariosAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.scn")
	b := filepath.Join(dir, "b.scn")
	require.NoError(t, os.WriteFile(a, []byte(twoScenarios), 0o644))
	require.NoError(t, os.WriteFile(b, []byte(block(nil)), 0o644))

	scs, files, err := LoadScenarios(a, b)
	require.NoError(t, err)
	assert.Len(t, scs, 3)
	require.Len(t, files, 2)
	assert.Equal(t, ScenarioFile{Path: a, SHA256: files[0].SHA256, Scenarios: 2, Faults: 41}, files[0])
	assert.Len(t, files[0].SHA256, 64)
	assert.Equal(t, 3, files[1].Faults)

	_, _, err = LoadScenarios(a, a)
	assert.EqualError(t, err, a+`:2: scenario "null-sensor" already defined at `+a+`:2`+"\n"+a+`:10: scenario "storm" already defined at `+a+`:10`)
	_, _, err = LoadScenarios(filepath.Join(dir, "missing.scn"))
	assert.ErrorContains(t, err, "missing.scn")
	_, _, err = LoadScenarios()
	assert.Error(t, err)
}

func TestCheckTargets(t *testing.T) {
	scs, err := ParseScenarios("x.scn", []byte(twoScenarios))
	require.NoError(t, err)
	assert.NoError(t, CheckTargets(scs, []string{"console", "sensor", "pipesvc"}, "p.policy"))
	assert.EqualError(t, CheckTargets(scs, []string{"console", "sensor"}, "p.policy"),
		`x.scn:11: target "pipesvc" is not a module of p.policy (modules: console, sensor)`)

	names, shown, err := PolicyTargets("")
	require.NoError(t, err)
	assert.Equal(t, "policy/system.policy", shown)
	assert.Contains(t, names, "sensor")

	file := filepath.Join(t.TempDir(), "t.policy")
	require.NoError(t, os.WriteFile(file, []byte("module solo\n binary ring3/solo\n ring 3\nend\n"), 0o644))
	names, shown, err = PolicyTargets(file)
	require.NoError(t, err)
	assert.Equal(t, []string{"solo"}, names)
	assert.Equal(t, file, shown)
	_, _, err = PolicyTargets(filepath.Join(t.TempDir(), "none.policy"))
	assert.Error(t, err)
}

// The shipped scenario files parse, name only modules of the system policy, cover every
// class and are as large as documented.
func TestShippedScenarios(t *testing.T) {
	names, shown, err := PolicyTargets("")
	require.NoError(t, err)
	for _, c := range []struct {
		file string
		min  int
	}{{"quick.scn", 520}, {"full.scn", 10000}} {
		scs, files, err := LoadScenarios(filepath.Join("..", "..", "scenarios", c.file))
		require.NoError(t, err, c.file)
		require.NoError(t, CheckTargets(scs, names, shown), c.file)
		assert.GreaterOrEqual(t, files[0].Faults, c.min, c.file)
		classes := map[string]bool{}
		targets := map[string]int{}
		for _, s := range scs {
			classes[s.Class] = true
			targets[s.Target] += s.Count
		}
		assert.Len(t, classes, len(ModuleClasses()), "%s covers every module class", c.file)
		for _, m := range []string{"sensor", "console", "pipesvc"} {
			assert.Positive(t, targets[m], "%s targets %s", c.file, m)
		}
		// Every boot of the default size sees every class.
		for i, chunk := range Chunks(Expand(scs), DefaultPerBoot) {
			if len(chunk) < DefaultPerBoot {
				continue
			}
			seen := map[string]bool{}
			for _, in := range chunk {
				seen[in.Class] = true
			}
			assert.Len(t, seen, len(ModuleClasses()), "%s chunk %d", c.file, i)
		}
	}
}

// scenarios/disk.scn covers every driver class, against the block driver.
func TestDiskScenarios(t *testing.T) {
	names, shown, err := PolicyTargets("")
	require.NoError(t, err)
	scs, _, err := LoadScenarios(filepath.Join("..", "..", "scenarios", "disk.scn"))
	require.NoError(t, err)
	require.NoError(t, CheckTargets(scs, names, shown))
	classes := map[string]bool{}
	for _, s := range scs {
		assert.Equal(t, "blk", s.Target, s.Name)
		classes[s.Class] = true
	}
	for _, c := range fault.DriverClasses() {
		assert.True(t, classes[c], "disk.scn covers %s", c)
	}
	assert.Len(t, classes, len(fault.DriverClasses()))
}

func TestFilesScenarios(t *testing.T) {
	names, shown, err := PolicyTargets("")
	require.NoError(t, err)
	scs, _, err := LoadScenarios(filepath.Join("..", "..", "scenarios", "files.scn"))
	require.NoError(t, err)
	require.NoError(t, CheckTargets(scs, names, shown))
	classes := map[string]bool{}
	for _, s := range scs {
		assert.Equal(t, "fs", s.Target, s.Name)
		classes[s.Class] = true
	}
	for _, c := range fault.FSClasses() {
		assert.True(t, classes[c], "files.scn covers %s", c)
	}
	assert.Len(t, classes, len(fault.FSClasses()))
}
