package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// progress is the line on stderr that says what the suite is doing: a line per step, or one
// line rewritten in place on a terminal.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	start    time.Time
	total    int
	done     int
	open     bool // a rewritable line is on the terminal
}

func newProgress(w io.Writer, terminal bool, total int) *progress {
	return &progress{w: w, terminal: terminal, start: time.Now(), total: total}
}

// boot announces the next boot of the count.
func (p *progress) boot(what string) {
	p.mu.Lock()
	p.done++
	n := p.done
	p.mu.Unlock()
	p.show(fmt.Sprintf("[%d/%d] %s", n, p.total, what))
}

// step announces work outside the count.
func (p *progress) step(what string) { p.show(what) }

func (p *progress) show(what string) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf("bench: %s (%s elapsed)", what, time.Since(p.start).Round(time.Second))
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.open = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// note prints a line that stays (an error, a warning).
func (p *progress) note(line string) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprint(p.w, "\r\033[K")
		p.open = false
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) finish() {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

// goBuild builds a program for SimpleOS and Linux alike: static, linux/amd64.
func goBuild(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bench: go build %s: %v\n%s", pkg, err, msg)
	}
	return nil
}
