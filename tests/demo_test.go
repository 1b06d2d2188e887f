package tests

// make demo (simpleos demo cf291) on the booted kernel: the three deployments of the sensor
// with the same content updates, checked from their serial transcripts, and the pictures it
// takes of the machine's display and draws of the timelines.

import (
	"context"
	"encoding/xml"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot/demo"
)

func TestDemoCF291(t *testing.T) {
	t.Parallel()
	p := kernelPaths(t)
	out := t.TempDir()
	results, err := demo.CF291(context.Background(), demo.Options{Paths: p, Out: out, Timeout: 3 * time.Minute})
	require.NoError(t, err)
	require.Len(t, results, 3)
	for _, r := range results {
		assert.True(t, r.Expected, "%s: %s\n%s", r.Mode, r.Unmet, demo.Timelines([]*demo.Result{r}))
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		return string(b)
	}

	// Monolithic: the core crashes in the content interpreter, the machine resets itself and
	// boots from the same disk, which now holds sequence 2, and crashes again: a boot loop the
	// launcher stops after 2 reboots. Safe mode starts no third-party module; the operator
	// deletes C-00000291*.sys; the next boot runs on the last-known-good copy.
	for _, f := range []string{"monolithic-boot1.log", "monolithic-boot2.log", "monolithic-boot3.log"} {
		assert.Regexp(t, `CORE CRASH: page fault \(#PF\) in github\.com/simpleos/simpleos/tier2/sensor/content\.\w+\+0x[0-9a-f]+: unexpected fault address 0xdead0000`, read(f), f)
	}
	assert.Contains(t, read("monolithic-boot1.log"), "core: content sensor.chan installed on the disk: /CrowdStrike/C-00000291-00000000-00000000.sys")
	assert.Contains(t, read("monolithic-boot1.log"), "disk: wrote sensor.chan as /CrowdStrike/C-00000291-00000000-00000002.sys")
	assert.Contains(t, read("monolithic-boot2.log"), "core: content sensor.chan from the disk: /CrowdStrike/C-00000291-00000000-00000002.sys", "the bad file survived the crash")
	assert.Contains(t, read("monolithic-boot4.log"), "safemode: third-party modules not started: sensor (in the core, sensor=monolithic), updater")
	assert.NotContains(t, read("monolithic-boot4.log"), "CORE CRASH")
	assert.Contains(t, read("monolithic-boot5.log"), "core: content sensor.chan: no current file in /CrowdStrike on the disk (deleted?): its last-known-good copy is in force")
	assert.Contains(t, read("monolithic-boot5.log"), "[app] app: done: 120/120 pipes created")
	mono := results[0].Boots
	require.Len(t, mono, 5)
	assert.Equal(t, 100, mono[2].Status)
	assert.Equal(t, 0, mono[3].Status)
	assert.Equal(t, 0, mono[4].Status)
	assert.Contains(t, results[0].Repair, "removed /CrowdStrike/C-00000291-00000000-00000002.sys")

	// Tiered: only the sensor faults; the supervisor rolls the content back each time and
	// quarantines it at the third crash; the app finishes; the machine powers off cleanly.
	tiered := read("tiered-boot1.log")
	assert.NotContains(t, tiered, "CORE CRASH")
	assert.Len(t, regexp.MustCompile(`(?m)^app sensor faulted: page fault \(#PF\) at github\.com/simpleos/simpleos/tier2/sensor/content\.\w+\+0x[0-9a-f]+ addr=0xdead0000 \[ring 2`).FindAllString(tiered, -1), 3)
	assert.Regexp(t, `(?m)^supervisor: sensor crashed \S+ after writing content sensor\.chan \(channel 291 sequence 2, \d+ bytes, sha256 [0-9a-f]+\): rolled back to last-known-good \(channel 291 sequence 1, \d+ bytes, sha256 [0-9a-f]+\); crash 3 of 3`, tiered)
	assert.Regexp(t, `(?m)^supervisor: content sensor\.chan \(channel 291 sequence 2, \d+ bytes, sha256 [0-9a-f]+\) quarantined after 3 crashes`, tiered)
	assert.Contains(t, tiered, "refused by the core: quarantined")
	assert.Contains(t, tiered, "[app] app: done: 120/120 pipes created")
	assert.Equal(t, 0, results[1].Boots[0].Status)
	assert.Contains(t, tiered, "disk: wrote sensor.chan as /CrowdStrike/C-00000291-00000000-00000001.sys", "the rollback is written to disk")
	// Restarts from the sensor's snapshot (docs/snapshots.md): taken when the first instance
	// was ready; a restart after the content changed to other bytes than the snapshot's (the
	// rollback lands on sequence 1 once it was confirmed) drops it and starts cold, and that
	// instance is snapshotted in turn; the others restore it. The last restored instance
	// serves the update the core then refuses as quarantined.
	assert.Contains(t, tiered, "snapshot: sensor: taken: ")
	restored := regexp.MustCompile(`(?m)^supervisor: sensor serving again \S+ after its crash \(restored from its snapshot\)`).FindAllString(tiered, -1)
	cold := regexp.MustCompile(`(?m)^supervisor: sensor serving again \S+ after its crash \(cold start\)`).FindAllString(tiered, -1)
	assert.NotEmpty(t, restored, "the sensor restarts from its snapshot")
	assert.Equal(t, 3, len(restored)+len(cold), "every restart says how it started")
	assert.Equal(t, len(cold), strings.Count(tiered, "supervisor: sensor: kernel: the module's snapshot is of another binary, policy or content (dropped): cold start"))
	// The next boot from the same disk: the quarantine is in force; nothing faults.
	next := read("tiered-boot2.log")
	assert.Contains(t, next, "core: content: 1 quarantined fingerprints in force (/simpleos/quarantine)")
	assert.Contains(t, next, "refused by the core: quarantined")
	assert.NotContains(t, next, "faulted")
	assert.Equal(t, 0, results[1].Boots[1].Status)

	// Verified: rejected at load, naming the field; nothing faults.
	verified := read("verified-boot1.log")
	assert.Contains(t, verified, `update rejected: C-00000291-00000002.sys: instance 7 ("NamedPipeC2") of template type 3 ("IPC") has a non-wildcard criterion on field 21, but the sensor supplies only 20 values`)
	assert.NotContains(t, verified, "faulted")
	assert.Contains(t, verified, "[app] app: done: 120/120 pipes created")
	assert.NotContains(t, results[2].DiskAfter, "sequence 2", "the bad update never reached the disk")

	report := read("report.md")
	assert.Contains(t, report, "| outcome | CORE CRASH on 3 of 3 boots from the same disk: a boot loop")
	assert.Contains(t, report, "## Timelines")

	// The pictures: the crash screen is the VGA palette's blue; the tiered and verified
	// consoles are not. The timeline is an SVG document, embedded in the report with them.
	assert.Greater(t, blueShare(t, filepath.Join(out, "monolithic.png")), 0.6, "the monolithic crash screen")
	for _, mode := range []string{"tiered", "verified"} {
		file := filepath.Join(out, mode+".png")
		assert.Less(t, blueShare(t, file), 0.05, "%s: the normal console", mode)
		assert.Greater(t, litShare(t, file), 0.02, "%s: the console shows text", mode)
	}
	for _, r := range results {
		assert.Equal(t, filepath.Join(out, r.Mode+".png"), r.Picture, r.PictureErr)
		assert.Contains(t, report, "!["+r.Mode+"]("+r.Mode+".png)")
	}
	assert.Contains(t, report, "![The deployments' timelines](timeline.svg)")
	svg, err := os.Open(filepath.Join(out, demo.TimelineFile))
	require.NoError(t, err)
	defer svg.Close()
	var doc struct {
		XMLName xml.Name
	}
	require.NoError(t, xml.NewDecoder(svg).Decode(&doc), "the timeline is XML")
	assert.Equal(t, "svg", doc.XMLName.Local)
}

// isPaletteBlue reports whether a pixel is the VGA palette's blue (attribute colour 1: DAC
// value 42 of 63, nominally 0x0000aa), which QEMU's display draws as 0x0000a8 (42<<2).
func isPaletteBlue(r, g, b uint32) bool { return r == 0 && g == 0 && (b == 0xa8 || b == 0xaa) }

// pixelShare decodes a PNG screenshot and returns the share of its pixels for which keep is true.
func pixelShare(t *testing.T, file string, keep func(r, g, b uint32) bool) float64 {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, "%s is a PNG image", file)
	b := img.Bounds()
	require.Equal(t, image.Rect(0, 0, 720, 400), b, "QEMU draws an 80x25 text screen as 720x400")
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if keep(r>>8, g>>8, bl>>8) {
				n++
			}
		}
	}
	share := float64(n) / float64(b.Dx()*b.Dy())
	t.Logf("%s: %.1f%%", filepath.Base(file), 100*share)
	return share
}

// blueShare is the share of a screenshot's pixels in the palette's blue.
func blueShare(t *testing.T, file string) float64 {
	return pixelShare(t, file, isPaletteBlue)
}

// litShare is the share of a screenshot's pixels that are not black: text, the status line.
func litShare(t *testing.T, file string) float64 {
	return pixelShare(t, file, func(r, g, b uint32) bool { return r+g+b > 0 })
}
