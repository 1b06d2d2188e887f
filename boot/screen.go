package boot

// Screenshots of the machine's display. With Options.Display the machine gets a VGA device
// (-vga std) but no window (-display none), and QEMU serves QMP on a socket of the launcher's;
// the core mirrors its console on the VGA text display and paints its crash screen there.
// Each Screenshot is taken when its cue — a line of the serial console — arrives: QMP's
// screendump writes the display as PPM, which is converted to PNG.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Screenshot is a picture of the display to take during a boot.
type Screenshot struct {
	// Cue: the picture is taken when the first serial console line containing this arrives
	// (after Delay) — the first after a line containing After, if After is set.
	Cue, After string
	Delay      time.Duration
	File       string // the PNG file to write
}

// Shot is what became of a Screenshot.
type Shot struct {
	File string
	At   time.Duration // when it was taken, since QEMU started; 0 if it was not
	Err  error         // why it was not: its cue never came, QEMU had ended, ...
}

// CrashScreenCue is the line the core prints once its crash screen is on the display, which
// it then keeps up for a moment (1.5 s by default: crashscreen=MS) before it stops or resets
// the machine: the cue for a picture of the crash screen.
const CrashScreenCue = "kernel: crash screen on the display"

// displayArgs are QEMU's flags for the display: a VGA device, and QMP on socket when given.
func (o Options) displayArgs(socket string) []string {
	if !o.Display {
		return []string{"-vga", "none"}
	}
	args := []string{"-vga", "std"}
	if socket != "" {
		args = append(args, "-qmp", "unix:"+strings.ReplaceAll(socket, ",", ",,")+",server=on,wait=off")
	}
	return args
}

// shooter takes a boot's screenshots: it watches the serial console for their cues.
type shooter struct {
	dir    string // the QMP socket and the PPM files
	since  func() time.Duration
	qmp    *qmpClient
	qmpErr error
	ready  chan struct{} // closed when qmp or qmpErr is set
	// connecting says connect was called (QEMU started): ready will be closed.
	connecting bool
	mu         sync.Mutex
	partial    []byte
	pending    []Screenshot // cues not seen yet
	shots      []Shot
	taken      int // screenshots started: names their PPM files
	wg         sync.WaitGroup
}

func newShooter(list []Screenshot, since func() time.Duration) (*shooter, error) {
	dir, err := os.MkdirTemp("", "simpleos-qmp-")
	if err != nil {
		return nil, fmt.Errorf("boot: display: %w", err)
	}
	return &shooter{dir: dir, since: since, ready: make(chan struct{}), pending: append([]Screenshot(nil), list...)}, nil
}

func (s *shooter) socket() string { return filepath.Join(s.dir, "qmp.sock") }

// connect connects to QEMU's QMP socket in the background once QEMU has started; Run
// cancels ctx when QEMU has ended.
func (s *shooter) connect(ctx context.Context) {
	s.connecting = true
	go func() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		c, err := dialQMP(ctx, s.socket())
		s.qmp, s.qmpErr = c, err
		close(s.ready)
	}()
}

// Write reads the serial console as it arrives and takes each screenshot whose cue came.
func (s *shooter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		s.line(string(s.partial[:i]))
		s.partial = s.partial[i+1:]
	}
	if len(s.partial) > 64<<10 {
		s.partial = s.partial[len(s.partial)-4096:]
	}
	return len(p), nil
}

func (s *shooter) line(l string) {
	kept := s.pending[:0]
	for _, sc := range s.pending {
		if sc.After != "" {
			if strings.Contains(l, sc.After) {
				sc.After = "" // armed: the next line with the cue
			}
			kept = append(kept, sc)
			continue
		}
		if !strings.Contains(l, sc.Cue) {
			kept = append(kept, sc)
			continue
		}
		s.taken++
		s.wg.Add(1)
		go s.take(sc, s.taken)
	}
	s.pending = kept
}

// take takes one screenshot.
func (s *shooter) take(sc Screenshot, n int) {
	defer s.wg.Done()
	time.Sleep(sc.Delay)
	<-s.ready
	shot := Shot{File: sc.File}
	err := s.qmpErr
	if err == nil {
		ppm := filepath.Join(s.dir, fmt.Sprintf("shot%d.ppm", n))
		at := s.since()
		if err = s.qmp.screendump(ppm); err == nil {
			err = PPMToPNG(ppm, sc.File)
			shot.At = at
		}
		os.Remove(ppm)
	}
	shot.Err = err
	s.mu.Lock()
	s.shots = append(s.shots, shot)
	s.mu.Unlock()
}

// finish waits for the screenshots under way (QEMU has ended: a screendump it can no longer
// answer fails at once), reports the ones whose cue never came, and removes the socket.
func (s *shooter) finish() []Shot {
	if !s.connecting {
		s.qmpErr = errors.New("boot: QEMU did not start")
		close(s.ready)
	}
	<-s.ready
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.pending {
		cue := fmt.Sprintf("%q", sc.Cue)
		if sc.After != "" {
			cue += fmt.Sprintf(" after %q", sc.After)
		}
		s.shots = append(s.shots, Shot{File: sc.File, Err: fmt.Errorf("its cue %s never came", cue)})
	}
	s.pending = nil
	if s.qmp != nil {
		s.qmp.Close()
	}
	os.RemoveAll(s.dir)
	return s.shots
}
