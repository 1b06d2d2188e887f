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
	N          int // 1, 2, ...: boots of the same disk
	Status     int
	Crashed    bool
	Duration   time.Duration
	Accel      string
	Lines      []Line
	Transcript string // path of the saved serial transcript
	Disk       string // content on disk when it started
}

// Event is a moment of a timeline.
type Event struct {
	Boot int
	At   time.Duration
	What string
}

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
}

// CF291 runs the demo: monolithic (two boots from the same disk: the boot loop), tiered and
// verified, each from a fresh copy of the system policy and its base content.
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
		disk := filepath.Join(o.Out, mode)
		if err := prepareDisk(o.Paths.Root, disk); err != nil {
			return nil, err
		}
		r := &Result{Mode: mode}
		boots := 1
		if mode == "monolithic" {
			boots = 2
		}
		for n := 1; n <= boots; n++ {
			fmt.Fprintf(o.Progress, "demo: %s, boot %d ...\n", mode, n)
			b, err := runBoot(ctx, o, mode, n, disk)
			if err != nil {
				return nil, err
			}
			r.Boots = append(r.Boots, b)
		}
		analyse(r)
		results = append(results, r)
	}
	if err := os.WriteFile(filepath.Join(o.Out, "report.md"), []byte(Report(results)), 0o644); err != nil {
		return results, err
	}
	return results, nil
}

// prepareDisk makes a fresh disk folder: the system policy and its content files.
func prepareDisk(root, disk string) error {
	if err := os.RemoveAll(disk); err != nil {
		return err
	}
	if err := os.MkdirAll(disk, 0o755); err != nil {
		return err
	}
	src := filepath.Join(root, "policy", "system.policy")
	m, err := readManifest(src)
	if err != nil {
		return err
	}
	b, _ := os.ReadFile(src)
	if err := os.WriteFile(filepath.Join(disk, "system.policy"), b, 0o644); err != nil {
		return err
	}
	for _, name := range contentNames(m) {
		c, err := os.ReadFile(filepath.Join(root, "policy", name))
		if os.IsNotExist(err) {
			continue // a rollback file need not exist
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(disk, name), c, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func readManifest(file string) (*policy.Manifest, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return policy.Parse(file, b)
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

func runBoot(ctx context.Context, o Options, mode string, n int, disk string) (*Boot, error) {
	manifest := filepath.Join(disk, "system.policy")
	m, err := readManifest(manifest)
	if err != nil {
		return nil, err
	}
	b := &Boot{Mode: mode, N: n, Disk: describeDisk(disk, m)}
	opts, err := boot.System(o.Paths, boot.SystemSpec{Policy: manifest, Append: "sensor=" + mode}, o.Progress)
	if err != nil {
		return nil, err
	}
	opts.Timeout, opts.Accel = o.Timeout, o.Accel
	w := &stampWriter{start: time.Now()}
	opts.Stdout = w
	res, err := boot.Run(ctx, opts)
	if err != nil {
		return nil, err
	}
	b.Status, b.Crashed, b.Duration, b.Accel = res.Status, res.Crashed, res.Duration, res.Accel
	b.Lines = w.finish()
	b.Transcript = filepath.Join(o.Out, fmt.Sprintf("%s-boot%d.log", mode, n))
	if err := os.WriteFile(b.Transcript, res.Output, 0o644); err != nil {
		return nil, err
	}
	allowed := map[string]bool{}
	for _, name := range contentNames(m) {
		allowed[name] = true
	}
	if _, err := ApplyDiskWrites(disk, res.Protocol, allowed); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Transcript, err)
	}
	return b, nil
}

// describeDisk names the channel file on a disk, e.g. "sensor.chan: channel 291 sequence 0".
func describeDisk(disk string, m *policy.Manifest) string {
	var parts []string
	for _, mod := range m.Modules {
		for _, c := range mod.Content {
			b, err := os.ReadFile(filepath.Join(disk, c.Path))
			if err != nil {
				continue
			}
			parts = append(parts, c.Path+": "+channelVersion(b))
		}
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
)

// analyse builds a deployment's timeline and summary from its transcripts.
func analyse(r *Result) {
	var appDone, appTotal, lastCount int
	var perBoot []string
	var faults, downs []time.Duration
	var rejected, quarantined, coreCrashes int
	for _, b := range r.Boots {
		add := func(at time.Duration, format string, args ...any) {
			r.Timeline = append(r.Timeline, Event{Boot: b.N, At: at, What: fmt.Sprintf(format, args...)})
		}
		add(0, "boot %d starts; on disk: %s", b.N, b.Disk)
		crashedAt := time.Duration(-1)
		lastCount = 0
		for _, l := range b.Lines {
			t := l.Text
			switch {
			case reKernelUp.MatchString(t):
				add(l.At, "kernel up")
			case reReady.MatchString(t):
				m := reReady.FindStringSubmatch(t)
				add(l.At, "sensor ready, channel %s sequence %s in force", m[1], m[2])
			case reApplied.MatchString(t):
				m := reApplied.FindStringSubmatch(t)
				add(l.At, "content update %s (sequence %s) written to disk and applied", m[1], m[2])
			case reRejected.MatchString(t):
				rejected++
				add(l.At, "content update rejected at load: %s", reRejected.FindStringSubmatch(t)[1])
			case reRefused.MatchString(t):
				m := reRefused.FindStringSubmatch(t)
				add(l.At, "update %s offered again: refused, the core has quarantined it", m[1])
			case reFault.MatchString(t):
				faults = append(faults, l.At)
				add(l.At, "sensor %s; the core contains it", reFault.FindStringSubmatch(t)[1])
			case reRollback.MatchString(t):
				m := reRollback.FindStringSubmatch(t)
				r.Rollbacks++
				add(l.At, "supervisor rolls %s back from %s to last-known-good %s (crash %s of %s with this content)", m[2], m[3], m[4], m[5], m[6])
			case reQuarantine.MatchString(t):
				m := reQuarantine.FindStringSubmatch(t)
				quarantined++
				add(l.At, "supervisor quarantines %s (%s) after %s crashes", m[1], m[2], m[3])
			case reConfirmed.MatchString(t):
				m := reConfirmed.FindStringSubmatch(t)
				add(l.At, "%s (%s) confirmed as last-known-good", m[1], m[2])
			case reCoreCrash.MatchString(t):
				coreCrashes++
				crashedAt = l.At
				add(l.At, "CORE CRASH: %s", reCoreCrash.FindStringSubmatch(t)[1])
			case reAppDone.MatchString(t):
				m := reAppDone.FindStringSubmatch(t)
				appDone, _ = strconv.Atoi(m[1])
				appTotal, _ = strconv.Atoi(m[2])
				add(l.At, "app finished its work: %s/%s pipes", m[1], m[2])
			case reAppCount.MatchString(t):
				m := reAppCount.FindStringSubmatch(t)
				lastCount, _ = strconv.Atoi(m[1])
				appTotal, _ = strconv.Atoi(m[2])
			case reRecovered.MatchString(t):
				d, err := time.ParseDuration(reRecovered.FindStringSubmatch(t)[1])
				if err == nil {
					downs = append(downs, d)
				}
				add(l.At, "sensor serving again %v after its crash (kernel clock)", d)
			case reUpdater.MatchString(t):
				add(l.At, "updater: %s", reUpdater.FindStringSubmatch(t)[1])
			}
		}
		switch {
		case b.Crashed:
			if crashedAt < 0 {
				crashedAt = b.Duration
			}
			add(b.Duration, "machine down (status %d); app work at the crash: %d/%d pipes", b.Status, lastCount, appTotal)
		default:
			add(b.Duration, "all work done, powered off (status %d)", b.Status)
		}
		if !reAppDone.MatchString(joinText(b.Lines)) {
			appDone = lastCount
		}
		perBoot = append(perBoot, fmt.Sprintf("%d/%d (boot %d)", appDone, appTotal, b.N))
	}
	sort.SliceStable(r.Timeline, func(i, j int) bool {
		if r.Timeline[i].Boot != r.Timeline[j].Boot {
			return r.Timeline[i].Boot < r.Timeline[j].Boot
		}
		return r.Timeline[i].At < r.Timeline[j].At
	})
	r.AppWork = fmt.Sprintf("%d/%d pipes", appDone, appTotal)
	switch r.Mode {
	case "monolithic":
		r.Crashes = coreCrashes
		r.CoreUp = false
		r.Outcome = fmt.Sprintf("CORE CRASH on %d of %d boots: a boot loop", coreCrashes, len(r.Boots))
		r.Downtime = "until an operator repairs the disk"
		r.Recovery = "none without an operator"
		r.Operator = "boot each machine into safe mode and delete the channel file by hand"
		r.AppWork = "pipes: " + strings.Join(perBoot, ", ") + "; work stops at each crash"
		if coreCrashes != len(r.Boots) || len(r.Boots) < 2 || !strings.Contains(joinText(r.Boots[0].Lines), "0xdead0000") {
			r.Unmet = "want a CORE CRASH at 0xdead0000 on every boot"
		}
	case "tiered":
		r.Crashes = len(faults)
		r.CoreUp = coreCrashes == 0
		var total time.Duration
		for _, d := range downs {
			total += d
		}
		r.Outcome = fmt.Sprintf("sensor crashed %d times; content rolled back %d times", len(faults), r.Rollbacks)
		if quarantined > 0 {
			r.Outcome += ", then quarantined"
		}
		r.Downtime = fmt.Sprintf("core: none; sensor: %v in total", total.Round(time.Millisecond))
		if len(downs) > 0 {
			sort.Slice(downs, func(i, j int) bool { return downs[i] < downs[j] })
			r.Recovery = fmt.Sprintf("%v median, %v worst (crash to sensor serving again, kernel clock)", downs[len(downs)/2].Round(time.Millisecond), downs[len(downs)-1].Round(time.Millisecond))
		}
		r.Operator = "nothing"
		switch {
		case coreCrashes > 0 || r.Boots[0].Status != 0:
			r.Unmet = "want the core up and a clean power-off"
		case len(faults) == 0 || r.Rollbacks == 0 || quarantined == 0:
			r.Unmet = "want sensor crashes, rollbacks and a quarantine"
		case appTotal == 0 || appDone != appTotal:
			r.Unmet = "want the app's work complete"
		}
	case "verified":
		r.CoreUp = coreCrashes == 0
		r.Outcome = "bad update rejected at load; nothing faulted"
		r.Downtime = "none"
		r.Recovery = "nothing to recover from"
		r.Operator = "nothing"
		text := joinText(r.Boots[0].Lines)
		switch {
		case coreCrashes > 0 || r.Boots[0].Status != 0 || len(faults) > 0:
			r.Unmet = "want no fault at all and a clean power-off"
		case rejected == 0 || !strings.Contains(text, "field 21"):
			r.Unmet = "want the update rejected, naming field 21"
		case appTotal == 0 || appDone != appTotal:
			r.Unmet = "want the app's work complete"
		}
	}
	r.Expected = r.Unmet == ""
}

func joinText(lines []Line) string {
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString(l.Text)
		sb.WriteByte('\n')
	}
	return sb.String()
}
