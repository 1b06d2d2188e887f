// Package demo runs SimpleOS's demonstrations on a booted kernel: `simpleos demo cf291`
// replays the Channel File 291 incident of 19 July 2024 in three deployments of the same
// sensor code and reports what each one does with the same bad content update.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/boot/disk"
	"github.com/simpleos/simpleos/policy"
)

// Modes are the three deployments, in the order the demo runs them.
var Modes = []string{"monolithic", "tiered", "verified"}

// Options configure a demo run.
type Options struct {
	Paths    boot.Paths
	Out      string        // output folder (build/demo)
	Timeout  time.Duration // per boot
	Accel    string
	Progress io.Writer // narration while it runs (may be nil)
}

// Line is one line of a boot's serial output and when the host received it.
type Line struct {
	At   time.Duration // since QEMU started
	Text string
}

// Boot is one boot of one deployment.
type Boot struct {
	Mode       string
	N          int    // 1, 2, ...: boots of the same disk
	Label      string // what the boot is for: "boot loop", "safe mode", "after the repair", ...
	Append     string // its kernel command line
	Reset      bool   // it ended with the machine resetting itself (a crash, crash=reboot)
	Status     int
	Crashed    bool
	Duration   time.Duration
	Accel      string
	Lines      []Line
	Transcript string // path of the saved serial transcript
	Disk       string // content on disk when it started
	// ClockOffset is how much later the host received the core's lines than the kernel's clock
	// says they were written: the mean, over the lines that carry the kernel's time since
	// entry ("... ms after kernel entry"), of arrival minus stamp. ClockSpread is how far
	// those lines' own offsets differ (max - min); Stamps how many there were.
	ClockOffset, ClockSpread time.Duration
	Stamps                   int
}

// Event is a moment of a timeline.
type Event struct {
	Boot int
	At   time.Duration // since the boot's first line, on the host's clock (as the line arrived)
	What string
	// Kind is what the timeline picture (timeline.svg) marks it as: one of the Kind constants,
	// or "" for a moment it leaves out.
	Kind string
	// Kernel is the same moment on the kernel's clock: since the boot's kernel entry (At,
	// shifted by the boot's ClockOffset).
	Kernel time.Duration
}

// The kinds of events the timeline picture marks.
const (
	KindBoot       = "boot"
	KindApplied    = "update applied"
	KindRejected   = "update rejected"
	KindFault      = "sensor fault, contained"
	KindCoreCrash  = "CORE CRASH"
	KindRollback   = "rollback"
	KindQuarantine = "quarantine"
	KindServing    = "serving again"
	KindReboot     = "reboot"
	KindRepair     = "operator's repair"
	KindPowerOff   = "powered off"
)

// Kinds lists the kinds in the order the picture's legend shows them.
var Kinds = []string{KindBoot, KindApplied, KindRejected, KindFault, KindCoreCrash, KindRollback,
	KindQuarantine, KindServing, KindReboot, KindRepair, KindPowerOff}

// Result is what one deployment did.
type Result struct {
	Mode      string
	Boots     []*Boot
	Timeline  []Event
	Outcome   string
	CoreUp    bool
	Downtime  string
	AppWork   string
	Recovery  string
	Operator  string
	Expected  bool   // the outcome this deployment must show
	Unmet     string // why not, if not
	Crashes   int    // sensor crashes (tiered) or core crashes (monolithic)
	Rollbacks int
	Image     string // the deployment's disk image
	DiskAfter string // what its content directories held at the end
	Repair    string // the operator's repair (monolithic)
	LoopNote  string // the launcher's note on the boot loop it stopped
	// Picture is the screenshot of the machine's display as the sensor's fault was handled
	// (or the update rejected): OUT/MODE.png; PictureErr says why there is none.
	Picture, PictureErr string
}

// loopReboots is how many reboots the launcher lets the monolithic deployment's boot loop
// make: it stops QEMU as the next boot begins, so the loop shows this many crashing boots.
const loopReboots = 3

// CF291 runs the demo, each deployment from a fresh disk image (build/demo/MODE/disk.img, a
// FAT32 image the core installs the shipped content on at its first boot):
//
//   - monolithic: the machine boots, takes the bad update, crashes, resets and boots again
//     from the same disk, where the bad channel file now is: a boot loop, which the launcher
//     stops after loopReboots reboots. Then safe mode (no third-party module), the operator's
//     deletion of C-00000291*.sys from the disk, and a healthy boot (the vendor has withdrawn
//     the update: the updater offers only the good one).
//   - tiered: the sensor crashes, its content is rolled back on the disk and quarantined; the
//     next boot from the same disk starts healthy with the quarantine in force.
//   - verified: the update is rejected before it reaches the disk.
func CF291(ctx context.Context, o Options) ([]*Result, error) {
	if o.Out == "" {
		o.Out = filepath.Join(o.Paths.BuildDir, "demo")
	}
	if o.Timeout == 0 {
		o.Timeout = 90 * time.Second
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	var results []*Result
	for _, mode := range Modes {
		d, err := prepareDisk(o.Paths.Root, filepath.Join(o.Out, mode))
		if err != nil {
			return nil, err
		}
		r := &Result{Mode: mode, Image: d.image}
		run := func(label, manifest, cmdline string, reboots int) error {
			fmt.Fprintf(o.Progress, "demo: %s, %s ...\n", mode, label)
			var shot *boot.Screenshot
			if len(r.Boots) == 0 {
				sc := pictures[mode]
				sc.File = filepath.Join(o.Out, mode+".png")
				shot = &sc
			}
			boots, err := runBoots(ctx, o, d, r, label, manifest, cmdline, reboots, shot)
			r.Boots = append(r.Boots, boots...)
			return err
		}
		switch mode {
		case "monolithic":
			if err := run("boot loop", d.manifest, "sensor=monolithic", loopReboots); err != nil {
				return nil, err
			}
			if err := run("safe mode", d.manifest, "sensor=monolithic safemode", 0); err != nil {
				return nil, err
			}
			removed, err := operatorRemoves(d.image, badChannelFiles)
			r.Repair = fmt.Sprintf("simpleos disk rm %s '%s': removed %s", d.image, badChannelFiles, strings.Join(removed, ", "))
			if err != nil {
				return nil, fmt.Errorf("the operator's repair: %w", err)
			}
			withdrawn, err := withdrawUpdate(d)
			if err != nil {
				return nil, err
			}
			if err := run("after the repair", withdrawn, "sensor=monolithic", 0); err != nil {
				return nil, err
			}
		case "tiered":
			for _, label := range []string{"first boot", "next boot"} {
				if err := run(label, d.manifest, "sensor=tiered", 0); err != nil {
					return nil, err
				}
			}
		case "verified":
			if err := run("first boot", d.manifest, "sensor=verified", 0); err != nil {
				return nil, err
			}
		}
		r.DiskAfter = describeDisk(d.image)
		analyse(r)
		results = append(results, r)
	}
	if err := WriteTimeline(results, filepath.Join(o.Out, TimelineFile)); err != nil {
		return results, fmt.Errorf("the timeline picture: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.Out, "report.md"), []byte(Report(results)), 0o644); err != nil {
		return results, err
	}
	return results, nil
}

// The pictures: the first boot of each deployment runs with a display (boot.Options.Display),
// and the launcher takes a screenshot when the line that says the sensor's fault was handled
// arrives. Monolithic: the core's crash screen, which it keeps up a moment before it resets
// the machine. Tiered: the supervisor's line that the restarted sensor serves again, after
// the content was quarantined: the display shows the end of the fault's handling and the
// system carrying on (the display runs a little ahead of the serial console, whose lines pass
// through the console driver). Verified: the sensor's rejection of the update.
var pictures = map[string]boot.Screenshot{
	"monolithic": {Cue: boot.CrashScreenCue},
	"tiered":     {Cue: "supervisor: sensor serving again", After: ") quarantined after", Delay: 100 * time.Millisecond},
	"verified":   {Cue: "sensor: update rejected", Delay: 100 * time.Millisecond},
}

// badChannelFiles is what the operators of 19 July 2024 were told to delete, in safe mode.
const badChannelFiles = "/CrowdStrike/C-00000291*.sys"

// demoDisk is one deployment's folder: its policy and its disk image.
type demoDisk struct {
	dir, manifest, image string
}

// prepareDisk makes a fresh folder with the system policy and an empty FAT32 disk image; the
// core installs the shipped content on it at the first boot.
func prepareDisk(root, dir string) (demoDisk, error) {
	d := demoDisk{dir: dir, manifest: filepath.Join(dir, "system.policy"), image: filepath.Join(dir, "disk.img")}
	if err := os.RemoveAll(dir); err != nil {
		return d, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return d, err
	}
	b, err := os.ReadFile(filepath.Join(root, "policy", "system.policy"))
	if err != nil {
		return d, err
	}
	if err := os.WriteFile(d.manifest, b, 0o644); err != nil {
		return d, err
	}
	// The shipped content files (the vendor's installation media, passed at boot): the core
	// copies them to a disk that has no content yet.
	m, err := readManifest(d.manifest)
	if err != nil {
		return d, err
	}
	for _, name := range contentNames(m) {
		c, err := os.ReadFile(filepath.Join(root, "policy", name))
		if os.IsNotExist(err) {
			continue // a rollback file need not exist
		}
		if err != nil {
			return d, err
		}
		if err := os.WriteFile(filepath.Join(dir, name), c, 0o644); err != nil {
			return d, err
		}
	}
	return d, disk.Create(d.image, disk.DefaultSize)
}

func contentNames(m *policy.Manifest) []string {
	var names []string
	for _, mod := range m.Modules {
		for _, c := range mod.Content {
			names = append(names, c.Path)
			if c.Rollback != "" {
				names = append(names, c.Rollback)
			}
		}
	}
	return names
}

// withdrawUpdate writes the policy of the boots after the vendor withdrew the bad update: the
// updater offers only the good one.
func withdrawUpdate(d demoDisk) (string, error) {
	m, err := readManifest(d.manifest)
	if err != nil {
		return "", err
	}
	for i := range m.Modules {
		if m.Modules[i].Name == "updater" {
			m.Modules[i].Args = []string{"-offers", "0"}
		}
	}
	p := filepath.Join(d.dir, "system-withdrawn.policy")
	return p, os.WriteFile(p, policy.Format(m), 0o644)
}

// operatorRemoves deletes the files matching pattern from the image, as `simpleos disk rm`.
func operatorRemoves(image, pattern string) ([]string, error) {
	im, err := disk.Open(image, true)
	if err != nil {
		return nil, err
	}
	removed, err := im.Remove(pattern)
	if cerr := im.Close(); err == nil {
		err = cerr
	}
	return removed, err
}

func readManifest(file string) (*policy.Manifest, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return policy.Parse(file, b)
}

// runBoots boots the deployment once from its disk (with reboots allowed: a boot loop, cut
// into one Boot per boot) and saves each boot's transcript.
func runBoots(ctx context.Context, o Options, d demoDisk, r *Result, label, manifest, cmdline string, reboots int, shot *boot.Screenshot) ([]*Boot, error) {
	onDisk := describeDisk(d.image)
	opts, err := boot.System(o.Paths, boot.SystemSpec{Policy: manifest, Append: cmdline}, o.Progress)
	if err != nil {
		return nil, err
	}
	opts.Timeout, opts.Accel, opts.Disk, opts.Reboots = o.Timeout, o.Accel, d.image, reboots
	if reboots > 0 {
		opts.Append += " crash=reboot"
	}
	if shot != nil {
		opts.Display = true
		opts.Screenshots = []boot.Screenshot{*shot}
	}
	w := &stampWriter{start: time.Now()}
	opts.Stdout = w
	res, err := boot.Run(ctx, opts)
	if err != nil {
		return nil, err
	}
	for _, s := range res.Shots {
		r.Picture = s.File
		if s.Err != nil {
			r.Picture, r.PictureErr = "", s.Err.Error()
			fmt.Fprintf(o.Progress, "demo: %s: no picture: %v\n", r.Mode, s.Err)
		}
	}
	var boots []*Boot
	segments := splitBoots(w.finish())
	if res.BootLoop && len(segments) > 1 {
		segments = segments[:len(segments)-1] // the boot the launcher cut short as it began
	}
	for i, seg := range segments {
		b := &Boot{Mode: r.Mode, N: len(r.Boots) + i + 1, Label: label, Append: opts.Append, Accel: res.Accel, Disk: onDisk}
		b.Lines, b.Duration = seg.lines, seg.duration
		b.Crashed = strings.Contains(joinText(seg.lines), "CORE CRASH")
		b.Status = res.Status
		if i < len(segments)-1 || res.BootLoop {
			b.Status, b.Reset = boot.StatusCrashed, true
		}
		if i == len(segments)-1 && !res.BootLoop {
			b.Duration = res.Duration - seg.start
		}
		b.Transcript = filepath.Join(o.Out, fmt.Sprintf("%s-boot%d.log", r.Mode, b.N))
		if err := os.WriteFile(b.Transcript, []byte(joinText(seg.lines)), 0o644); err != nil {
			return nil, err
		}
		boots = append(boots, b)
		onDisk = "the same disk, as the crash left it"
	}
	if res.BootLoop {
		if i := strings.Index(res.Note, "boot loop:"); i >= 0 {
			r.LoopNote = res.Note[i:]
		}
	}
	return boots, nil
}

// segment is one boot's part of a transcript.
type segment struct {
	start, duration time.Duration
	lines           []Line
}

// splitBoots cuts a transcript at each boot's first line (boot.BootMarker), each boot's times
// made relative to its own start.
func splitBoots(lines []Line) []segment {
	var segs []segment
	marked := false // the current segment has its boot's first line
	for _, l := range lines {
		starts := strings.Contains(l.Text, boot.BootMarker)
		if starts && marked || len(segs) == 0 {
			if n := len(segs); n > 0 {
				segs[n-1].duration = l.At - segs[n-1].start
			}
			segs = append(segs, segment{start: l.At})
		}
		marked = marked || starts
		s := &segs[len(segs)-1]
		s.lines = append(s.lines, Line{At: l.At - s.start, Text: l.Text})
		if d := l.At - s.start; d > s.duration {
			s.duration = d
		}
	}
	return segs
}

// describeDisk says what the content directories of a disk image hold: each channel file with
// its version, the last-known-good copy and the quarantine list.
func describeDisk(image string) string {
	im, err := disk.Open(image, false)
	if err != nil {
		return "no disk: " + err.Error()
	}
	defer im.Close()
	var parts []string
	ents, _ := im.List("/CrowdStrike")
	for _, e := range ents {
		b, err := im.ReadFile("/CrowdStrike/" + e.Name)
		if err == nil {
			parts = append(parts, "/CrowdStrike/"+e.Name+" ("+channelVersion(b)+")")
		}
	}
	if b, err := im.ReadFile("/simpleos/content/sensor.chan.lkg"); err == nil {
		parts = append(parts, "last-known-good "+channelVersion(b))
	}
	if b, err := im.ReadFile("/simpleos/quarantine"); err == nil {
		n := 0
		for _, l := range strings.Split(string(b), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				n++
			}
		}
		parts = append(parts, fmt.Sprintf("%d quarantined", n))
	}
	if len(parts) == 0 {
		return "no content yet"
	}
	return strings.Join(parts, ", ")
}

// stampWriter splits serial output into lines stamped with their arrival time.
type stampWriter struct {
	start   time.Time
	mu      sync.Mutex
	partial []byte
	partAt  time.Duration
	lines   []Line
}

func (w *stampWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Since(w.start)
	for _, c := range p {
		if len(w.partial) == 0 {
			w.partAt = now
		}
		if c == '\n' {
			w.lines = append(w.lines, Line{At: w.partAt, Text: strings.TrimRight(string(w.partial), "\r")})
			w.partial = w.partial[:0]
			continue
		}
		w.partial = append(w.partial, c)
	}
	return len(p), nil
}

func (w *stampWriter) finish() []Line {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.lines = append(w.lines, Line{At: w.partAt, Text: string(w.partial)})
	}
	return w.lines
}

// What the transcripts say (the lines the core, the sensor, the app and the updater print).
var (
	reKernelUp   = regexp.MustCompile(`^core: Go runtime main`)
	reReady      = regexp.MustCompile(`sensor: ready: content \S+ \(channel (\d+), sequence (\d+)`)
	reApplied    = regexp.MustCompile(`sensor: content updated: (\S+) \(channel \d+, sequence (\d+)`)
	reRejected   = regexp.MustCompile(`sensor: update rejected: (.*)$`)
	reRefused    = regexp.MustCompile(`sensor: update (\S+) \(sequence (\d+)\) refused by the core: quarantined`)
	reFault      = regexp.MustCompile(`^app sensor (faulted: .*?|exited \d+.*?|killed.*?) \[`)
	reRollback   = regexp.MustCompile(`^supervisor: sensor crashed (\S+) after writing content (\S+) \((.*?)\): rolled back to last-known-good \((.*?)\); crash (\d+) of (\d+)`)
	reQuarantine = regexp.MustCompile(`^supervisor: content (\S+) \((.*?)\) quarantined after (\d+) crashes`)
	reConfirmed  = regexp.MustCompile(`^supervisor: content (\S+) \((.*?)\) confirmed`)
	reCoreCrash  = regexp.MustCompile(`CORE CRASH: (.*)$`)
	reAppDone    = regexp.MustCompile(`app: done: (\d+)/(\d+) pipes created`)
	reAppCount   = regexp.MustCompile(`app: (\d+)/(\d+) pipes created`)
	reUpdater    = regexp.MustCompile(`updater: done: (.*)$`)
	reRecovered  = regexp.MustCompile(`^supervisor: sensor serving again (\S+) after its crash`)
	reSafeMode   = regexp.MustCompile(`^safemode: third-party modules not started: (.*)$`)
	reInstalled  = regexp.MustCompile(`^core: content (\S+) installed on the disk: (\S+)`)
	reFromDisk   = regexp.MustCompile(`^core: content (\S+) from the disk: (\S+)`)
	reLKGInForce = regexp.MustCompile(`^core: content (\S+): no current file in (\S+) on the disk`)
	reQuarLoaded = regexp.MustCompile(`^core: content: (\d+) quarantined fingerprints in force`)
	reDiskWrote  = regexp.MustCompile(`^disk: wrote (\S+) as (\S+) \((.*)\)`)
	reResetting  = regexp.MustCompile(`^kernel: resetting the machine`)
	reStamp      = regexp.MustCompile(`^(?:core: Go runtime main|supervisor: all \d+ services serving) (\d+(?:\.\d+)?) ms after kernel entry`)
)

// clockOffset sets the boot's ClockOffset, ClockSpread and Stamps from the lines in which the
// core gives its own time since kernel entry.
func clockOffset(b *Boot) {
	var lo, hi, sum time.Duration
	b.Stamps = 0
	for _, l := range b.Lines {
		m := reStamp.FindStringSubmatch(l.Text)
		if m == nil {
			continue
		}
		ms, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		off := l.At - time.Duration(ms*float64(time.Millisecond))
		if b.Stamps == 0 || off < lo {
			lo = off
		}
		if b.Stamps == 0 || off > hi {
			hi = off
		}
		sum += off
		b.Stamps++
	}
	if b.Stamps > 0 {
		b.ClockOffset, b.ClockSpread = sum/time.Duration(b.Stamps), hi-lo
	}
}

// bootFacts is what one boot's transcript showed.
type bootFacts struct {
	coreCrash, safeMode, lkgInForce, quarLoaded bool
	faults, rollbacks, quarantined, refused     int
	rejected                                    int
	appDone, appTotal                           int
	downs                                       []time.Duration
}

// analyse builds a deployment's timeline and summary from its transcripts.
func analyse(r *Result) {
	facts := make([]bootFacts, len(r.Boots))
	for i, b := range r.Boots {
		f := &facts[i]
		clockOffset(b)
		mark := func(kind string, at time.Duration, format string, args ...any) {
			r.Timeline = append(r.Timeline, Event{Boot: b.N, At: at, What: fmt.Sprintf(format, args...), Kind: kind, Kernel: max(at-b.ClockOffset, 0)})
		}
		add := func(at time.Duration, format string, args ...any) { mark("", at, format, args...) }
		mark(KindBoot, 0, "boot %d (%s; %s) starts; on disk: %s", b.N, b.Label, b.Append, b.Disk)
		lastCount := 0
		for _, l := range b.Lines {
			t := l.Text
			switch {
			case reKernelUp.MatchString(t):
				add(l.At, "kernel up")
			case reSafeMode.MatchString(t):
				f.safeMode = true
				add(l.At, "safe mode: not started: %s", reSafeMode.FindStringSubmatch(t)[1])
			case reInstalled.MatchString(t):
				m := reInstalled.FindStringSubmatch(t)
				add(l.At, "core installs the shipped %s on the disk: %s", m[1], m[2])
			case reFromDisk.MatchString(t):
				m := reFromDisk.FindStringSubmatch(t)
				add(l.At, "core reads %s from the disk: %s", m[1], m[2])
			case reLKGInForce.MatchString(t):
				f.lkgInForce = true
				m := reLKGInForce.FindStringSubmatch(t)
				add(l.At, "core finds no channel file in %s: the last-known-good copy is in force", m[2])
			case reQuarLoaded.MatchString(t):
				f.quarLoaded = true
				add(l.At, "core reads the quarantine list from the disk: %s fingerprint(s) refused", reQuarLoaded.FindStringSubmatch(t)[1])
			case reReady.MatchString(t):
				m := reReady.FindStringSubmatch(t)
				add(l.At, "sensor ready, channel %s sequence %s in force", m[1], m[2])
			case reApplied.MatchString(t):
				m := reApplied.FindStringSubmatch(t)
				mark(KindApplied, l.At, "content update %s (sequence %s) applied", m[1], m[2])
			case reDiskWrote.MatchString(t):
				m := reDiskWrote.FindStringSubmatch(t)
				add(l.At, "disk: %s written as %s (%s)", m[1], m[2], m[3])
			case reRejected.MatchString(t):
				f.rejected++
				mark(KindRejected, l.At, "content update rejected at load: %s", reRejected.FindStringSubmatch(t)[1])
			case reRefused.MatchString(t):
				f.refused++
				m := reRefused.FindStringSubmatch(t)
				mark(KindRejected, l.At, "update %s offered again: refused, the core has quarantined it", m[1])
			case reFault.MatchString(t):
				f.faults++
				mark(KindFault, l.At, "sensor %s; the core contains it", reFault.FindStringSubmatch(t)[1])
			case reRollback.MatchString(t):
				m := reRollback.FindStringSubmatch(t)
				f.rollbacks++
				mark(KindRollback, l.At, "supervisor rolls %s back from %s to last-known-good %s (crash %s of %s with this content)", m[2], m[3], m[4], m[5], m[6])
			case reQuarantine.MatchString(t):
				m := reQuarantine.FindStringSubmatch(t)
				f.quarantined++
				mark(KindQuarantine, l.At, "supervisor quarantines %s (%s) after %s crashes", m[1], m[2], m[3])
			case reConfirmed.MatchString(t):
				m := reConfirmed.FindStringSubmatch(t)
				add(l.At, "%s (%s) confirmed as last-known-good", m[1], m[2])
			case reCoreCrash.MatchString(t):
				f.coreCrash = true
				mark(KindCoreCrash, l.At, "CORE CRASH: %s", reCoreCrash.FindStringSubmatch(t)[1])
			case reResetting.MatchString(t):
				mark(KindReboot, l.At, "the machine resets itself and boots again from the same disk")
			case reAppDone.MatchString(t):
				m := reAppDone.FindStringSubmatch(t)
				f.appDone, _ = strconv.Atoi(m[1])
				f.appTotal, _ = strconv.Atoi(m[2])
				add(l.At, "app finished its work: %s/%s pipes", m[1], m[2])
			case reAppCount.MatchString(t):
				m := reAppCount.FindStringSubmatch(t)
				lastCount, _ = strconv.Atoi(m[1])
				f.appTotal, _ = strconv.Atoi(m[2])
			case reRecovered.MatchString(t):
				d, err := time.ParseDuration(reRecovered.FindStringSubmatch(t)[1])
				if err == nil {
					f.downs = append(f.downs, d)
				}
				mark(KindServing, l.At, "sensor serving again %v after its crash (kernel clock)", d)
			case reUpdater.MatchString(t):
				add(l.At, "updater: %s", reUpdater.FindStringSubmatch(t)[1])
			}
		}
		if f.appDone == 0 {
			f.appDone = lastCount
		}
		switch {
		case b.Reset:
			add(b.Duration, "machine down (status %d); app work at the crash: %d/%d pipes", b.Status, lastCount, f.appTotal)
		case b.Crashed:
			add(b.Duration, "machine down (status %d)", b.Status)
		default:
			mark(KindPowerOff, b.Duration, "all work done, powered off (status %d)", b.Status)
		}
		if b.Label == "safe mode" && r.Repair != "" {
			mark(KindRepair, b.Duration, "operator, with the machine off: %s", r.Repair)
		}
	}
	sort.SliceStable(r.Timeline, func(i, j int) bool {
		if r.Timeline[i].Boot != r.Timeline[j].Boot {
			return r.Timeline[i].Boot < r.Timeline[j].Boot
		}
		return r.Timeline[i].At < r.Timeline[j].At
	})
	var perBoot []string
	for i, b := range r.Boots {
		perBoot = append(perBoot, fmt.Sprintf("%d/%d (boot %d)", facts[i].appDone, facts[i].appTotal, b.N))
	}
	r.AppWork = strings.Join(perBoot, ", ")
	switch r.Mode {
	case "monolithic":
		analyseMonolithic(r, facts)
	case "tiered":
		analyseTiered(r, facts)
	case "verified":
		analyseVerified(r, facts)
	}
	r.Expected = r.Unmet == ""
}

// analyseMonolithic: a boot loop of core crashes, a clean safe-mode boot, a healthy boot after
// the operator's repair.
func analyseMonolithic(r *Result, facts []bootFacts) {
	loop, crashes := 0, 0
	var down time.Duration
	for i, b := range r.Boots {
		if b.Label == "boot loop" {
			loop++
			if facts[i].coreCrash {
				crashes++
			}
			down += b.Duration
		}
	}
	r.Crashes = crashes
	r.CoreUp = false
	r.Outcome = fmt.Sprintf("CORE CRASH on %d of %d boots from the same disk: a boot loop (%s)", crashes, loop, r.LoopNote)
	r.Downtime = fmt.Sprintf("until an operator repairs the disk (%v of crashing boots here before the launcher stopped the loop)", down.Round(10*time.Millisecond))
	r.Recovery = "safe mode, delete the channel file, boot again"
	r.Operator = "boot the machine into safe mode and delete " + badChannelFiles + " by hand"
	n := len(r.Boots)
	switch {
	case loop != loopReboots || crashes != loop:
		r.Unmet = fmt.Sprintf("want a CORE CRASH on each of %d boots of the loop, got %d of %d", loopReboots, crashes, loop)
	case !strings.Contains(joinText(r.Boots[0].Lines), "0xdead0000"):
		r.Unmet = "want the first crash at 0xdead0000"
	case n < loop+2 || !facts[loop].safeMode || facts[loop].coreCrash || r.Boots[loop].Status != 0:
		r.Unmet = "want a clean safe-mode boot with no third-party module"
	case !facts[n-1].lkgInForce || facts[n-1].coreCrash || r.Boots[n-1].Status != 0:
		r.Unmet = "want the boot after the repair healthy, on the last-known-good content"
	case facts[n-1].appTotal == 0 || facts[n-1].appDone != facts[n-1].appTotal:
		r.Unmet = "want the app's work complete after the repair"
	}
}

// analyseTiered: the sensor crashes, its content is rolled back and quarantined on the disk;
// the next boot starts healthy with the quarantine in force.
func analyseTiered(r *Result, facts []bootFacts) {
	var faults, rollbacks, quarantined int
	var downs []time.Duration
	coreCrashes := 0
	for _, f := range facts {
		faults += f.faults
		rollbacks += f.rollbacks
		quarantined += f.quarantined
		downs = append(downs, f.downs...)
		if f.coreCrash {
			coreCrashes++
		}
	}
	r.Crashes, r.Rollbacks = faults, rollbacks
	r.CoreUp = coreCrashes == 0
	var total time.Duration
	for _, d := range downs {
		total += d
	}
	r.Outcome = fmt.Sprintf("sensor crashed %d times; content rolled back %d times, then quarantined; the next boot refuses it from the disk's quarantine list", faults, rollbacks)
	r.Downtime = fmt.Sprintf("core: none; sensor: %v in total", total.Round(time.Millisecond))
	if len(downs) > 0 {
		sort.Slice(downs, func(i, j int) bool { return downs[i] < downs[j] })
		r.Recovery = fmt.Sprintf("%v median, %v worst (crash to sensor serving again, kernel clock)", downs[len(downs)/2].Round(time.Millisecond), downs[len(downs)-1].Round(time.Millisecond))
	}
	r.Operator = "nothing"
	switch {
	case len(r.Boots) != 2:
		r.Unmet = "want two boots from the same disk"
	case coreCrashes > 0 || r.Boots[0].Status != 0 || r.Boots[1].Status != 0:
		r.Unmet = "want the core up and a clean power-off on both boots"
	case facts[0].faults == 0 || facts[0].rollbacks == 0 || facts[0].quarantined == 0:
		r.Unmet = "want sensor crashes, rollbacks and a quarantine on the first boot"
	case facts[1].faults != 0 || !facts[1].quarLoaded || facts[1].refused == 0:
		r.Unmet = "want the next boot without a fault, the quarantine read from the disk and the update refused"
	case facts[0].appTotal == 0 || facts[0].appDone != facts[0].appTotal || facts[1].appDone != facts[1].appTotal:
		r.Unmet = "want the app's work complete on both boots"
	}
}

// analyseVerified: the update is rejected at load and never reaches the disk.
func analyseVerified(r *Result, facts []bootFacts) {
	f := facts[0]
	r.CoreUp = !f.coreCrash
	r.Outcome = "bad update rejected at load; nothing faulted; it never reached the disk"
	r.Downtime = "none"
	r.Recovery = "nothing to recover from"
	r.Operator = "nothing"
	text := joinText(r.Boots[0].Lines)
	switch {
	case f.coreCrash || r.Boots[0].Status != 0 || f.faults > 0:
		r.Unmet = "want no fault at all and a clean power-off"
	case f.rejected == 0 || !strings.Contains(text, "field 21"):
		r.Unmet = "want the update rejected, naming field 21"
	case strings.Contains(r.DiskAfter, "sequence 2"):
		r.Unmet = "want the bad update nowhere on the disk, found: " + r.DiskAfter
	case f.appTotal == 0 || f.appDone != f.appTotal:
		r.Unmet = "want the app's work complete"
	}
}

func joinText(lines []Line) string {
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString(l.Text)
		sb.WriteByte('\n')
	}
	return sb.String()
}
