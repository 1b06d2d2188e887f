package demo

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// transcript turns "SECONDS TEXT" lines into a boot's lines.
func transcript(s string) []Line {
	var lines []Line
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		at, text, _ := strings.Cut(strings.TrimSpace(l), " ")
		d, err := time.ParseDuration(at + "s")
		if err != nil {
			panic(err)
		}
		lines = append(lines, Line{At: d, Text: text})
	}
	return lines
}

// sampleResults are the three deployments with short transcripts in the shape of a real run's.
func sampleResults() []*Result {
	mono := &Result{Mode: "monolithic", Repair: "simpleos disk rm disk.img '/CrowdStrike/C-00000291*.sys': removed /CrowdStrike/C-00000291-00000000-00000002.sys", LoopNote: "boot loop: 2 reboots in 5.0 s"}
	mono.Boots = []*Boot{
		{Mode: "monolithic", N: 1, Label: "boot loop", Reset: true, Status: 100, Crashed: true, Duration: 3 * time.Second, Lines: transcript(`
			0 SimpleOS core: 64-bit entry
			0.110 core: Go runtime main 98.8 ms after kernel entry (runtime entered at 20.4 ms); 224 frames in use
			1.420 supervisor: all 4 services serving 1400.0 ms after kernel entry
			2.640 sensor: content updated: C-00000291-00000002.sys (channel 291, sequence 2, 7 instances)
			2.690 CORE CRASH: page fault (#PF) in github.com/simpleos/simpleos/tier2/sensor/content.GlobMatch+0x52: unexpected fault address 0xdead0000
			2.700 kernel: crash screen on the display
			2.950 kernel: resetting the machine (crash=reboot)`)},
		{Mode: "monolithic", N: 2, Label: "boot loop", Reset: true, Status: 100, Crashed: true, Duration: 2 * time.Second, Lines: transcript(`
			0 SimpleOS core: 64-bit entry
			0.105 core: Go runtime main 95.0 ms after kernel entry
			1.430 CORE CRASH: page fault (#PF) in github.com/simpleos/simpleos/tier2/sensor/content.GlobMatch+0x52: unexpected fault address 0xdead0000
			1.900 kernel: resetting the machine (crash=reboot)`)},
		{Mode: "monolithic", N: 3, Label: "safe mode", Duration: 8 * time.Second, Lines: transcript(`
			0 SimpleOS core: 64-bit entry
			0.530 safemode: third-party modules not started: sensor (in the core, sensor=monolithic), updater`)},
		{Mode: "monolithic", N: 4, Label: "after the repair", Duration: 6 * time.Second, Lines: transcript(`
			0 SimpleOS core: 64-bit entry
			0.590 core: content sensor.chan: no current file in /CrowdStrike on the disk (deleted?): its last-known-good copy is in force`)},
	}
	tiered := &Result{Mode: "tiered", Boots: []*Boot{{Mode: "tiered", N: 1, Label: "first boot", Duration: 7 * time.Second, Lines: transcript(`
		0 SimpleOS core: 64-bit entry
		0.100 core: Go runtime main 90.0 ms after kernel entry
		1.415 supervisor: all 5 services serving 1400.3 ms after kernel entry
		2.600 [sensor] sensor: content updated: C-00000291-00000002.sys (channel 291, sequence 2, 7 instances)
		2.700 supervisor: sensor crashed 84ms after writing content sensor.chan (channel 291 sequence 2, 534 bytes, sha256 15f536b4f912): rolled back to last-known-good (channel 291 sequence 1, 475 bytes, sha256 d5f330713443); crash 1 of 3 with this content
		2.701 app sensor faulted: page fault (#PF) at github.com/simpleos/simpleos/tier2/sensor/content.GlobMatch+0x52 addr=0xdead0000 [ring 2, pid 6]
		3.000 supervisor: sensor serving again 290ms after its crash
		5.200 supervisor: content sensor.chan (channel 291 sequence 2, 534 bytes, sha256 15f536b4f912) quarantined after 3 crashes: the core refuses it from now on`)}}}
	verified := &Result{Mode: "verified", Boots: []*Boot{{Mode: "verified", N: 1, Label: "first boot", Duration: 6500 * time.Millisecond, Lines: transcript(`
		0 SimpleOS core: 64-bit entry
		2.620 [sensor] sensor: update rejected: C-00000291-00000002.sys: instance 7 ("NamedPipeC2") of template type 3 ("IPC") has a non-wildcard criterion on field 21, but the sensor supplies only 20 values`)}}}
	results := []*Result{mono, tiered, verified}
	for _, r := range results {
		analyse(r)
	}
	return results
}

func TestClockOffset(t *testing.T) {
	results := sampleResults()
	b := results[1].Boots[0]
	// Arrivals 100 ms and 1415 ms for stamps 90.0 and 1400.3 ms: offsets 10 and 14.7 ms.
	assert.Equal(t, 2, b.Stamps)
	assert.Equal(t, 12350*time.Microsecond, b.ClockOffset)
	assert.Equal(t, 4700*time.Microsecond, b.ClockSpread)
	var rollback Event
	for _, e := range results[1].Timeline {
		if e.Kind == KindRollback {
			rollback = e
		}
	}
	assert.Equal(t, 2700*time.Millisecond, rollback.At)
	assert.Equal(t, 2700*time.Millisecond-b.ClockOffset, rollback.Kernel, "on the kernel clock")

	assert.Equal(t, 0, results[2].Boots[0].Stamps, "no stamp: no offset")
	assert.Zero(t, results[2].Boots[0].ClockOffset)
}

func TestTimelineKinds(t *testing.T) {
	results := sampleResults()
	kinds := func(r *Result) map[string]int {
		m := map[string]int{}
		for _, e := range r.Timeline {
			if e.Kind != "" {
				m[e.Kind]++
			}
		}
		return m
	}
	assert.Equal(t, map[string]int{KindBoot: 4, KindApplied: 1, KindCoreCrash: 2, KindReboot: 2, KindRepair: 1, KindPowerOff: 2}, kinds(results[0]))
	assert.Equal(t, map[string]int{KindBoot: 1, KindApplied: 1, KindRollback: 1, KindFault: 1, KindServing: 1, KindQuarantine: 1, KindPowerOff: 1}, kinds(results[1]))
	assert.Equal(t, map[string]int{KindBoot: 1, KindRejected: 1, KindPowerOff: 1}, kinds(results[2]))
}

// svgTexts parses an SVG document (any XML error fails the test) and returns its root
// element's name and the contents of its text elements.
func svgTexts(t *testing.T, file string) (string, []string) {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	d := xml.NewDecoder(f)
	root, inText := "", false
	var texts []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "valid XML")
		switch x := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = x.Name.Local
			}
			inText = x.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(x))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return root, texts
}

func TestWriteTimeline(t *testing.T) {
	results := sampleResults()
	file := filepath.Join(t.TempDir(), TimelineFile)
	require.NoError(t, WriteTimeline(results, file))
	root, texts := svgTexts(t, file)
	assert.Equal(t, "svg", root)
	for _, want := range []string{"monolithic", "tiered", "verified", KindApplied, KindCoreCrash, KindReboot, KindRollback,
		KindQuarantine, KindServing, KindFault, KindRejected, KindRepair} {
		assert.Contains(t, texts, want, "a lane or a legend entry")
	}
	assert.NotContains(t, texts, KindBoot, "boots are bars, not marks")

	require.NoError(t, WriteTimeline(results, filepath.Join(t.TempDir(), "timeline.png")), "a PNG, for looking at")
	assert.Error(t, WriteTimeline(nil, filepath.Join(t.TempDir(), "none.svg")))
}

func TestReportEmbedsThePictures(t *testing.T) {
	results := sampleResults()
	results[0].Picture = "/out/monolithic.png"
	results[1].Picture = "/out/tiered.png"
	results[2].PictureErr = `its cue "sensor: update rejected" never came`
	report := Report(results)
	assert.Contains(t, report, "![The deployments' timelines](timeline.svg)")
	assert.Contains(t, report, "![monolithic](monolithic.png)")
	assert.Contains(t, report, "![tiered](tiered.png)")
	assert.Contains(t, report, "- verified: no picture (its cue \"sensor: update rejected\" never came)")
	assert.Contains(t, report, "5 lines that give the time since kernel entry")
}
