package campaign

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		line string
		want Event
	}{
		{"inject: campaign 150 injections, deployment tiered", Event{Kind: EventHeader, Count: 150, Deployment: "tiered"}},
		{"inject: campaign 1 injection, deployment monolithic\r", Event{Kind: EventHeader, Count: 1, Deployment: "monolithic"}},
		{"inject: campaign done", Event{Kind: EventDone}},
		{"\rinject start id=17 class=null-deref target=sensor", Event{Kind: EventStart, ID: 17, Class: "null-deref", Target: "sensor"}},
		{`inject result id=17 class=null-deref target=sensor outcome=restarted recovery_us=71234 detail="app sensor faulted: page fault (#PF) at main.x+0x12 addr=0x0"`,
			Event{Kind: EventResult, ID: 17, Class: "null-deref", Target: "sensor", Outcome: Restarted, RecoveryUS: 71234,
				Detail: "app sensor faulted: page fault (#PF) at main.x+0x12 addr=0x0"}},
		{`inject result id=3 outcome=handled detail="a \"quoted\" word\tand a tab" extra=1`,
			Event{Kind: EventResult, ID: 3, Outcome: Handled, Detail: "a \"quoted\" word\tand a tab"}},
		{`inject result id=4 outcome=breach recovery_us=0 detail="" future=field`, Event{Kind: EventResult, ID: 4, Outcome: Breach}},
		{`inject result id=5 outcome=hang outcome=handled`, Event{Kind: EventResult, ID: 5, Outcome: Hang}},
	} {
		ev, ok, err := ParseLine(c.line)
		require.NoError(t, err, c.line)
		assert.True(t, ok, c.line)
		assert.Equal(t, c.want, ev, c.line)
	}
}

func TestParseLineIgnoresOtherLines(t *testing.T) {
	for _, line := range []string{
		"",
		"core: policy policy/system.policy: 6 modules",
		"[sensor] inject result id=1 outcome=breach",
		"[sensor] inject start id=1",
		" inject start id=1 class=x target=y",
		"injected 5 faults",
		"inject: plan has an unknown class",
		"inject:campaign done",
		"CORE CRASH: page fault",
	} {
		_, ok, err := ParseLine(line)
		assert.NoError(t, err, "%q", line)
		assert.False(t, ok, "%q", line)
	}
}

func TestParseLineRejectsMalformedRunnerLines(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"inject start class=panic", `id ""`},
		{"inject start id=0", `id "0"`},
		{"inject start id=x", `id "x"`},
		{"inject start id=3 oops", `"oops" is not key=value`},
		{"inject result id=3", `outcome ""`},
		{"inject result id=3 outcome=core-crash", `outcome "core-crash"`},
		{"inject result id=3 outcome=exploded", `outcome "exploded"`},
		{"inject result id=3 outcome=handled recovery_us=-5", `recovery_us "-5"`},
		{"inject result id=3 outcome=handled recovery_us=1.5", `recovery_us "1.5"`},
		{`inject result id=3 outcome=handled detail="unterminated`, `detail: bad quoted string`},
		{`inject result id=3 outcome=handled detail="x"y`, `detail: text after the closing quote`},
		{`inject result id=3 outcome=handled =x`, `"=x" is not key=value`},
	} {
		_, ok, err := ParseLine(c.line)
		assert.True(t, ok, c.line)
		if assert.Error(t, err, c.line) {
			assert.Contains(t, err.Error(), c.want, c.line)
		}
	}
}

// A tiered boot whose chunk is ids 4, 5, 6, 7, interleaved with task output.
const transcriptDone = `SimpleOS booting
core: policy policy/system.policy: 6 modules
inject: campaign 4 injections, deployment tiered
[console] console driver up
inject start id=4 class=panic target=sensor
[sensor] panic: injected
inject result id=4 class=panic target=sensor outcome=restarted recovery_us=1500 detail="app sensor exited 2"
inject start id=5 class=kill target=console
inject result id=5 class=kill target=console outcome=quarantined recovery_us=0 detail="crash budget"
[pipesvc] inject result id=6 outcome=breach
inject start id=6 class=bad-ipc target=pipesvc
inject result id=6 class=bad-ipc target=pipesvc outcome=handled recovery_us=0 detail=""
inject start id=7 class=null-deref target=sensor
inject result id=7 class=null-deref target=sensor outcome=restarted recovery_us=2500 detail="page fault"
inject: campaign done
`

func chunk4() []Injection {
	return []Injection{
		{ID: 4, Scenario: "p", Class: "panic", Target: "sensor"},
		{ID: 5, Scenario: "k", Class: "kill", Target: "console", After: 100 * time.Millisecond},
		{ID: 6, Scenario: "b", Class: "bad-ipc", Target: "pipesvc"},
		{ID: 7, Scenario: "n", Class: "null-deref", Target: "sensor"},
	}
}

func outcomesOf(recs []Record) map[int]string {
	m := map[int]string{}
	for _, r := range recs {
		m[r.ID] = r.Outcome
	}
	return m
}

func TestParseTranscript(t *testing.T) {
	tr := ParseTranscript([]byte(transcriptDone))
	require.NotNil(t, tr.Header)
	assert.Equal(t, 4, tr.Header.Count)
	assert.Equal(t, []int{4, 5, 6, 7}, tr.Starts)
	assert.Equal(t, []int{4, 5, 6, 7}, tr.Order)
	assert.True(t, tr.Done)
	assert.Empty(t, tr.Problems)
	assert.Equal(t, Handled, tr.Results[6].Outcome, "the task's fake line is not the runner's")
	_, open := tr.Open()
	assert.False(t, open)

	s := settle(chunk4(), tr, bootEnd{Status: 0})
	assert.Equal(t, map[int]string{4: Restarted, 5: Quarantined, 6: Handled, 7: Restarted}, outcomesOf(s.records))
	assert.Empty(t, s.next)
	assert.Empty(t, s.notRun)
	assert.Empty(t, s.problems)
	assert.Equal(t, Record{ID: 5, Scenario: "k", Class: "kill", Target: "console", AfterMS: 100, Outcome: Quarantined, Detail: "crash budget"}, s.records[1])
	assert.Equal(t, "done", bootEnd{}.name(tr))
}

// cut returns the transcript up to and including the line that contains marker.
func cut(t *testing.T, transcript, marker string) string {
	t.Helper()
	i := strings.Index(transcript, marker)
	require.GreaterOrEqual(t, i, 0)
	j := strings.IndexByte(transcript[i:], '\n')
	return transcript[:i+j+1]
}

func TestSettleCoreCrashMidChunk(t *testing.T) {
	out := cut(t, transcriptDone, "inject start id=5") +
		"CORE CRASH: page fault (#PF) in tier2/sensor.x+0x10: unexpected fault address 0xdead0000\n" +
		"goroutine 1 [running]:\n"
	tr := ParseTranscript([]byte(out))
	id, open := tr.Open()
	require.True(t, open)
	assert.Equal(t, 5, id)

	end := bootEnd{Status: 100, Crashed: true, CrashLine: crashLine([]byte(out))}
	s := settle(chunk4(), tr, end)
	assert.Equal(t, map[int]string{4: Restarted, 5: CoreCrash}, outcomesOf(s.records))
	assert.Equal(t, "CORE CRASH: page fault (#PF) in tier2/sensor.x+0x10: unexpected fault address 0xdead0000", s.records[1].Detail)
	assert.Equal(t, []int{6, 7}, ids(s.next), "the rest of the chunk goes to a new boot")
	assert.Empty(t, s.notRun)
	assert.Empty(t, s.problems)
	assert.Equal(t, "core-crash", end.name(tr))

	// The next boot gets ids 6 and 7 and finishes them.
	out2 := "inject: campaign 2 injections, deployment tiered\n" + cut(t, transcriptDone, "inject start id=6")[strings.Index(transcriptDone, "inject start id=6"):] +
		"inject result id=6 class=bad-ipc target=pipesvc outcome=handled recovery_us=0 detail=\"\"\n" +
		"inject start id=7 class=null-deref target=sensor\n" +
		"inject result id=7 class=null-deref target=sensor outcome=restarted recovery_us=2500 detail=\"page fault\"\n" +
		"inject: campaign done\n"
	s2 := settle(s.next, ParseTranscript([]byte(out2)), bootEnd{})
	assert.Equal(t, map[int]string{6: Handled, 7: Restarted}, outcomesOf(s2.records))
	assert.Empty(t, s2.problems)
}

func TestSettleTripleFaultWithoutCrashLine(t *testing.T) {
	out := cut(t, transcriptDone, "inject start id=7")
	s := settle(chunk4(), ParseTranscript([]byte(out)), bootEnd{Status: 100, Crashed: true, Note: "QEMU exited without a status from the kernel (triple fault?)"})
	assert.Equal(t, CoreCrash, outcomesOf(s.records)[7])
	assert.Contains(t, s.records[len(s.records)-1].Detail, "triple fault")
	assert.Empty(t, s.next)
}

func TestSettleStallAndTimeoutAreHangs(t *testing.T) {
	out := cut(t, transcriptDone, "inject start id=6") + "[pipesvc] partial outp" // cut mid-line
	tr := ParseTranscript([]byte(out))
	s := settle(chunk4(), tr, bootEnd{Status: 124, TimedOut: false, Stalled: true, Stall: 30 * time.Second})
	assert.Equal(t, map[int]string{4: Restarted, 5: Quarantined, 6: Hang}, outcomesOf(s.records))
	assert.Equal(t, "no console output for 30s; the host stopped the machine", s.records[2].Detail)
	assert.Equal(t, []int{7}, ids(s.next))
	assert.Equal(t, "stall", bootEnd{Stalled: true}.name(tr))

	s = settle(chunk4(), tr, bootEnd{Status: 124, TimedOut: true, Timeout: time.Minute})
	assert.Equal(t, Hang, outcomesOf(s.records)[6])
	assert.Equal(t, "the boot timed out after 1m0s", s.records[2].Detail)
	assert.Equal(t, []int{7}, ids(s.next))
}

func TestSettleHangOnTheLastInjection(t *testing.T) {
	out := cut(t, transcriptDone, "inject start id=7")
	s := settle(chunk4(), ParseTranscript([]byte(out)), bootEnd{Status: 124, Stalled: true, Stall: time.Second})
	assert.Equal(t, Hang, outcomesOf(s.records)[7])
	assert.Empty(t, s.next)
	assert.Empty(t, s.notRun)
}

func TestSettleEarlyEndWithoutOpenInjection(t *testing.T) {
	// Stopped between injections: 4 and 5 have results, 6 and 7 never started.
	out := cut(t, transcriptDone, "outcome=quarantined")
	for _, c := range []struct {
		end  bootEnd
		want string
	}{
		{bootEnd{Status: 124, Stalled: true, Stall: 30 * time.Second}, "ids 6, 7 did not run: no console output for 30s outside any injection"},
		{bootEnd{Status: 124, TimedOut: true, Timeout: time.Minute}, "ids 6, 7 did not run: the boot timed out after 1m0s outside any injection"},
		{bootEnd{Status: 100, Crashed: true, CrashLine: "CORE CRASH: x"}, "ids 6, 7 did not run: the core crashed outside any injection: CORE CRASH: x"},
		{bootEnd{Status: 3, Note: "policy"}, "ids 6, 7 did not run: the boot ended with status 3 before the campaign finished (policy)"},
		{bootEnd{Status: 0}, "ids 6, 7 did not run: the boot ended with status 0 before the campaign finished"},
		{bootEnd{Status: 124, Interrupted: true}, "ids 6, 7 did not run: the campaign was interrupted"},
	} {
		s := settle(chunk4(), ParseTranscript([]byte(out)), c.end)
		assert.Equal(t, map[int]string{4: Restarted, 5: Quarantined}, outcomesOf(s.records))
		assert.Equal(t, []int{6, 7}, recIDs(s.notRun))
		assert.Empty(t, s.next)
		assert.Equal(t, []string{c.want}, s.problems)
	}
}

func TestSettleInterruptedWithAnOpenInjection(t *testing.T) {
	out := cut(t, transcriptDone, "inject start id=6")
	s := settle(chunk4(), ParseTranscript([]byte(out)), bootEnd{Status: 124, TimedOut: true, Interrupted: true})
	assert.Equal(t, []int{6, 7}, recIDs(s.notRun), "an interruption is nobody's hang")
	assert.Empty(t, s.next)
}

func TestSettleKernelWithoutCampaignSupport(t *testing.T) {
	out := "SimpleOS booting\ncore: policy policy/system.policy: 6 modules\n[console] up\n"
	tr := ParseTranscript([]byte(out))
	s := settle(chunk4(), tr, bootEnd{Status: 124, NoCampaign: true, Stall: time.Minute})
	assert.Equal(t, []string{`ids 4, 5, 6, 7 did not run: no "inject: campaign" line within 1m0s: does the core support inject=on?`}, s.problems)
	s = settle(chunk4(), tr, bootEnd{Status: 1})
	assert.Equal(t, []string{`ids 4, 5, 6, 7 did not run: the boot ended with status 1 before the campaign finished; there was no "inject: campaign" line: does the core support inject=on?`}, s.problems)
}

func TestSettleProtocolProblems(t *testing.T) {
	out := `inject: campaign 3 injections, deployment tiered
inject start id=4 class=panic target=sensor
inject result id=4 class=kill target=sensor outcome=restarted recovery_us=10
inject result id=4 class=panic target=sensor outcome=handled
inject result id=99 class=panic target=sensor outcome=handled
inject start id=6 class=bad-ipc target=pipesvc
inject result id=6 class=bad-ipc target=pipesvc outcome=exploded
inject start id=7 class=null-deref target=sensor
inject result id=7 class=null-deref target=sensor outcome=restarted
inject: campaign done
`
	s := settle(chunk4(), ParseTranscript([]byte(out)), bootEnd{Deployment: Monolithic})
	assert.Equal(t, map[int]string{4: Restarted, 7: Restarted}, outcomesOf(s.records))
	assert.Equal(t, []int{5, 6}, recIDs(s.notRun))
	assert.Equal(t, []string{
		"a second, different result for id 4 (ignored)",
		`malformed "inject result" line: id=6: outcome "exploded" (want handled, restarted, quarantined, breach or hang)`,
		"the kernel read 3 injections from a plan of 4",
		"the kernel ran deployment tiered, not monolithic",
		"id 4: the kernel reported class=kill target=sensor, the plan says class=panic target=sensor",
		"a result for id 99, which was not in this boot's plan",
		"ids 5, 6 have no result: the kernel finished the campaign without reporting them, though it reported later ones (lost console output?)",
	}, s.problems)
}

func TestParseTranscriptToleratesRepeatedLines(t *testing.T) {
	line := "inject result id=4 class=panic target=sensor outcome=restarted recovery_us=1500 detail=\"app sensor exited 2\"\n"
	tr := ParseTranscript([]byte(transcriptDone + line))
	assert.Empty(t, tr.Problems, "an identical repeat is harmless")
	assert.Equal(t, []int{4, 5, 6, 7}, tr.Order)
}

func TestSettleSkippedBeforeTheCrash(t *testing.T) {
	out := "inject: campaign 4 injections, deployment tiered\ninject start id=4 class=panic target=sensor\n" +
		"inject result id=4 class=panic target=sensor outcome=restarted\ninject start id=6 class=bad-ipc target=pipesvc\n"
	s := settle(chunk4(), ParseTranscript([]byte(out)), bootEnd{Status: 100, Crashed: true, CrashLine: "CORE CRASH: y"})
	assert.Equal(t, map[int]string{4: Restarted, 6: CoreCrash}, outcomesOf(s.records))
	assert.Equal(t, []int{5}, recIDs(s.notRun))
	assert.Equal(t, []int{7}, ids(s.next))
	assert.Equal(t, []string{"the kernel skipped id 5 before id 6"}, s.problems)
}

func TestSettleMissingTail(t *testing.T) {
	out := cut(t, transcriptDone, "outcome=quarantined") + "inject: campaign done\n"
	s := settle(chunk4(), ParseTranscript([]byte(out)), bootEnd{})
	assert.Equal(t, []int{6, 7}, recIDs(s.notRun))
	assert.Equal(t, []string{"ids 6, 7 have no result: the kernel finished the campaign without reporting them"}, s.problems)
}

func TestSettleCrashAfterTheCampaign(t *testing.T) {
	s := settle(chunk4(), ParseTranscript([]byte(transcriptDone+"CORE CRASH: late\n")), bootEnd{Status: 100, Crashed: true, CrashLine: "CORE CRASH: late"})
	assert.Len(t, s.records, 4)
	assert.Equal(t, []string{"the core crashed after the last injection: CORE CRASH: late"}, s.problems)
	s = settle(chunk4(), ParseTranscript([]byte(transcriptDone)), bootEnd{Status: 1})
	assert.Equal(t, []string{"every injection ran, but the boot ended with status 1 after the campaign finished (want 0)"}, s.problems)
}

func TestIDList(t *testing.T) {
	assert.Equal(t, "id 3", idList([]int{3}))
	assert.Equal(t, "ids 3, 4", idList([]int{3, 4}))
	assert.Equal(t, "ids 1, 2, 3, 4, 5, 6, 7, 8, ... (10 in all)", idList([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}))
}

func recIDs(recs []Record) []int {
	var out []int
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func TestNotRunRecordsSayWhy(t *testing.T) {
	out := cut(t, transcriptDone, "outcome=quarantined")
	s := settle(chunk4(), ParseTranscript([]byte(out)), bootEnd{Status: 124, Stalled: true, Stall: time.Second})
	require.Len(t, s.notRun, 2)
	assert.Equal(t, Record{ID: 6, Scenario: "b", Class: "bad-ipc", Target: "pipesvc", Outcome: NotRun,
		Detail: "no console output for 1s outside any injection"}, s.notRun[0])

	out = "inject: campaign 4 injections, deployment tiered\ninject start id=5 class=kill target=console\n"
	s = settle(chunk4(), ParseTranscript([]byte(out)), bootEnd{Status: 100, Crashed: true, CrashLine: "CORE CRASH: z"})
	assert.Equal(t, "the kernel skipped it before id 5", s.notRun[0].Detail)
}
