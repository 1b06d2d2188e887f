package campaign

// The progress line on stderr.

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress prints "inject: 412/520 faults (79%), 37.5 faults/s, tiered: 0 core crashes,
// 0 breaches": rewritten in place on a terminal, otherwise one line per boot.
type progress struct {
	mu       sync.Mutex
	w        io.Writer // nil: print nothing
	terminal bool
	start    time.Time
	total    int
	deps     []string
	settled  map[string]*tally
	live     map[*watch]string // running boots -> deployment
	width    int               // of the last line drawn on the terminal
}

type tally struct{ done, crashes, breaches int }

func newProgress(w io.Writer, terminal bool, total int, deps []string) *progress {
	p := &progress{w: w, terminal: terminal, start: time.Now(), total: total, deps: deps,
		settled: map[string]*tally{}, live: map[*watch]string{}}
	for _, d := range deps {
		p.settled[d] = &tally{}
	}
	return p
}

func (p *progress) bootStarted(w *watch, dep string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live[w] = dep
}

// bootDone counts a finished boot's settled injections and prints the line (off a terminal,
// this is the only time it prints).
func (p *progress) bootDone(w *watch, dep string, recs []Record, notRun int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.live, w)
	t := p.settled[dep]
	t.done += len(recs) + notRun
	for _, r := range recs {
		switch r.Outcome {
		case CoreCrash:
			t.crashes++
		case Breach:
			t.breaches++
		}
	}
	p.drawLocked(false)
}

// redraw refreshes the terminal line with the running boots' results so far.
func (p *progress) redraw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		p.drawLocked(false)
	}
}

// finish draws the final line and ends it.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		p.drawLocked(true)
	}
}

func (p *progress) drawLocked(final bool) {
	if p.w == nil {
		return
	}
	line := p.lineLocked(time.Now())
	if !p.terminal {
		fmt.Fprintln(p.w, line)
		return
	}
	pad := max(p.width-len(line), 0)
	p.width = len(line)
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(p.w, "\r%s%s%s", line, strings.Repeat(" ", pad), end)
}

func (p *progress) lineLocked(now time.Time) string {
	cur := map[string]tally{}
	done := 0
	for d, t := range p.settled {
		cur[d] = *t
		done += t.done
	}
	for w, d := range p.live {
		results, breaches := w.counts()
		t := cur[d]
		t.done += results
		t.breaches += breaches
		cur[d] = t
		done += results
	}
	pct := 0
	if p.total > 0 {
		pct = done * 100 / p.total
	}
	rate := 0.0
	if secs := now.Sub(p.start).Seconds(); secs > 0 {
		rate = float64(done) / secs
	}
	parts := make([]string, len(p.deps))
	for i, d := range p.deps {
		t := cur[d]
		parts[i] = fmt.Sprintf("%s: %d core crashes, %d breaches", d, t.crashes, t.breaches)
	}
	return fmt.Sprintf("inject: %d/%d faults (%d%%), %.1f faults/s, %s", done, p.total, pct, rate, strings.Join(parts, "; "))
}
