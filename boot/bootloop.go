package boot

// Counting boots on the serial console. With Options.Reboots the machine may reboot (QEMU
// without -no-reboot; the core resets it after a crash when its command line says
// crash=reboot), and nothing in the guest survives a reset to count with: the launcher counts
// the core's first line, BootMarker, which every boot prints, and stops QEMU when the boot
// after the last allowed reboot begins — the boot loop, observed.

import (
	"bytes"
	"fmt"
	"sync"
	"time"
)

// BootMarker is the first line the core prints on every boot (core/kernel/boot.go), before
// anything can fail.
const BootMarker = "SimpleOS core: 64-bit entry"

// Boot is one boot of the machine seen on the serial console.
type Boot struct {
	Start time.Duration // when its BootMarker line arrived, since QEMU started
	Crash string        // its "CORE CRASH: ..." line, "" if it printed none
}

// bootWatch reads the serial console as it arrives, line by line, records each boot and its
// crash line, and closes limit when more than max boots began (max > 0).
type bootWatch struct {
	mu      sync.Mutex
	since   func() time.Duration // time since QEMU started
	max     int
	partial []byte
	boots   []Boot
	limit   chan struct{}
	closed  bool
}

func newBootWatch(max int, since func() time.Duration) *bootWatch {
	return &bootWatch{since: since, max: max, limit: make(chan struct{})}
}

func (w *bootWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(bytes.TrimRight(w.partial[:i], "\r"))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 64<<10 { // a line that never ends is no marker: don't hoard it
		w.partial = w.partial[len(w.partial)-len(BootMarker):]
	}
	return len(p), nil
}

func (w *bootWatch) line(l []byte) {
	switch {
	case isBootMarker(l):
		w.boots = append(w.boots, Boot{Start: w.since()})
		if w.max > 0 && len(w.boots) > w.max && !w.closed {
			w.closed = true
			close(w.limit)
		}
	case len(w.boots) > 0 && w.boots[len(w.boots)-1].Crash == "":
		// The report can start mid-line: the core prints it at once, after whatever partial
		// line the console had (the runtime's own traceback, cut short).
		if i := bytes.Index(l, []byte(CrashMarker)); i >= 0 {
			w.boots[len(w.boots)-1].Crash = string(l[i:])
		}
	}
}

// isBootMarker reports whether a console line is the core's first line. The firmware may
// leave terminal control sequences before it after a reset: only control characters and
// escape sequences may precede the marker.
func isBootMarker(l []byte) bool {
	i := bytes.Index(l, []byte(BootMarker))
	if i < 0 || len(bytes.TrimSpace(l[i+len(BootMarker):])) > 0 {
		return false
	}
	for j := 0; j < i; j++ {
		switch c := l[j]; {
		case c == 0x1b: // ESC [ params letter, or ESC letter
			j++
			if j < i && l[j] == '[' {
				for j+1 < i && (l[j+1] < 0x40 || l[j+1] > 0x7e) {
					j++
				}
				j++
			}
		case c < 0x20 || c == 0x7f:
		default:
			return false
		}
	}
	return true
}

// result returns the boots seen so far.
func (w *bootWatch) result() []Boot {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Boot(nil), w.boots...)
}

// bootLoopNote is the one-line summary of a boot loop the launcher stopped.
func bootLoopNote(reboots int, d time.Duration) string {
	plural := "s"
	if reboots == 1 {
		plural = ""
	}
	return fmt.Sprintf("boot loop: %d reboot%s in %.1f s", reboots, plural, d.Seconds())
}
