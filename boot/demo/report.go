package demo

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/simpleos/simpleos/tier2/sensor/content"
)

// channelVersion names a channel file's version.
func channelVersion(b []byte) string {
	c, err := content.Parse("", b)
	if err != nil {
		return fmt.Sprintf("%d bytes that do not parse", len(b))
	}
	return fmt.Sprintf("channel %d sequence %d", c.Channel, c.Sequence)
}

var titles = map[string]string{
	"monolithic": "monolithic: the sensor linked into the core, in ring 0",
	"tiered":     "tiered: the sensor as a ring-2 task, supervised by the core",
	"verified":   "verified: the ring-2 sensor, with every update validated before it is accepted",
}

// Timelines renders the narrated timeline of each deployment as plain text.
func Timelines(results []*Result) string {
	var sb strings.Builder
	for _, r := range results {
		fmt.Fprintf(&sb, "== %s ==\n", titles[r.Mode])
		for _, e := range r.Timeline {
			fmt.Fprintf(&sb, "  [boot %d %6.2fs] %s\n", e.Boot, e.At.Seconds(), e.What)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// Table renders the side-by-side summary as a Markdown table.
func Table(results []*Result) string {
	var sb strings.Builder
	sb.WriteString("| | " + strings.Join(modeNames(results), " | ") + " |\n|---|" + strings.Repeat("---|", len(results)) + "\n")
	row := func(name string, f func(r *Result) string) {
		cells := make([]string, len(results))
		for i, r := range results {
			cells[i] = strings.ReplaceAll(f(r), "|", "\\|")
		}
		fmt.Fprintf(&sb, "| %s | %s |\n", name, strings.Join(cells, " | "))
	}
	row("outcome", func(r *Result) string { return r.Outcome })
	row("core", func(r *Result) string {
		if r.CoreUp {
			return "up"
		}
		return "down"
	})
	row("downtime", func(r *Result) string { return r.Downtime })
	row("app work completed", func(r *Result) string { return r.AppWork })
	row("time to recovery", func(r *Result) string { return r.Recovery })
	row("operator had to", func(r *Result) string { return r.Operator })
	row("boots", func(r *Result) string {
		var s []string
		for _, b := range r.Boots {
			s = append(s, fmt.Sprintf("%d (%s): status %d after %v", b.N, b.Label, b.Status, b.Duration.Round(10*time.Millisecond)))
		}
		return strings.Join(s, "; ")
	})
	row("on the disk at the end", func(r *Result) string { return r.DiskAfter })
	row("as expected", func(r *Result) string {
		if r.Expected {
			return "yes"
		}
		return "NO: " + r.Unmet
	})
	return sb.String()
}

func modeNames(results []*Result) []string {
	var s []string
	for _, r := range results {
		s = append(s, r.Mode)
	}
	return s
}

// Report is the Markdown report: what was run, the table, the timelines and the transcripts.
func Report(results []*Result) string {
	var sb strings.Builder
	sb.WriteString("# Channel File 291 on SimpleOS\n\n")
	sb.WriteString("The same sensor code (tier2/sensor/engine) and the same content updates — a good one\n" +
		"(C-00000291-00000001.sys) and then the Channel File 291 update (C-00000291-00000002.sys, whose\n" +
		"instance 7 has a criterion on the 21st of 20 supplied input fields) — in three deployments.\n")
	if len(results) > 0 && len(results[0].Boots) > 0 {
		fmt.Fprintf(&sb, "Accelerator: %s. Times are host times since QEMU started, as the serial lines arrived.\n", results[0].Boots[0].Accel)
	}
	sb.WriteString("Each deployment boots from its own FAT32 disk image; the core keeps the channel file in\n" +
		"/CrowdStrike, its last-known-good copy in /simpleos/content and the quarantine list in\n" +
		"/simpleos/quarantine, so what one boot writes the next one reads.\n")
	sb.WriteString("\n## Summary\n\n" + Table(results) + "\n## Timelines\n\n")
	sb.WriteString(Pictures(results))
	sb.WriteString("```\n" + Timelines(results) + "```\n\n## Disks and transcripts\n\n")
	for _, r := range results {
		fmt.Fprintf(&sb, "- %s: disk image `%s`\n", r.Mode, r.Image)
		for _, b := range r.Boots {
			fmt.Fprintf(&sb, "- %s, boot %d (%s): `%s`\n", r.Mode, b.N, b.Label, b.Transcript)
		}
	}
	return sb.String()
}

// pictureCaptions say what each deployment's screenshot shows.
var pictureCaptions = map[string]string{
	"monolithic": "the crash screen the core paints on its VGA display as the sensor's fault takes it down (then it resets the machine)",
	"tiered":     "the console on the VGA display as the supervisor reports the sensor serving again after it quarantined the content: the fault handled, the system carries on",
	"verified":   "the console on the VGA display as the sensor rejects the update: nothing faulted",
}

// Pictures is the report's part about the pictures: the timeline (TimelineFile) and each
// deployment's screenshot, embedded by their names in the report's folder.
func Pictures(results []*Result) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "![The deployments' timelines](%s)\n\n", TimelineFile)
	sb.WriteString("`" + TimelineFile + "`: one lane per deployment; each bar is a boot of the deployment's disk (red: it ended in a core crash), the boots laid end to end; ")
	sb.WriteString("the marks are the moments of the timelines below, placed on each boot's kernel clock")
	if off, spread, n := clockAgreement(results); n > 0 {
		fmt.Fprintf(&sb, " (a line's arrival time on the host, less the boot's offset to the core's own time stamps: %d lines that give the time since kernel entry arrived %v after it on average, and those of one boot agreed to within %v)",
			n, off.Round(time.Millisecond), spread.Round(time.Millisecond))
	}
	sb.WriteString(".\n\n")
	for _, r := range results {
		if r.Picture == "" {
			fmt.Fprintf(&sb, "- %s: no picture (%s)\n", r.Mode, r.PictureErr)
			continue
		}
		name := filepath.Base(r.Picture)
		fmt.Fprintf(&sb, "- %s (`%s`): %s.\n\n  ![%s](%s)\n", r.Mode, name, pictureCaptions[r.Mode], r.Mode, name)
	}
	sb.WriteString("\n")
	return sb.String()
}

// clockAgreement is how the host's arrival times and the core's own time stamps compared over
// all boots: the mean offset, the largest spread within one boot, and the number of stamps.
func clockAgreement(results []*Result) (offset, spread time.Duration, n int) {
	var sum time.Duration
	for _, r := range results {
		for _, b := range r.Boots {
			if b.Stamps == 0 {
				continue
			}
			sum += b.ClockOffset * time.Duration(b.Stamps)
			n += b.Stamps
			spread = max(spread, b.ClockSpread)
		}
	}
	if n > 0 {
		offset = sum / time.Duration(n)
	}
	return offset, spread, n
}
