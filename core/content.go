package main

// Content files: the data files security modules load (the sensor's channel file). The
// launcher passes them as Multiboot modules ("the disk"); the kernel's content store keeps
// them with their last-known-good copies (core/kernel/content.go). The content service here
// decides every write a module makes: it fingerprints the bytes (content.Fingerprint: SHA-256
// of the canonical rules), refuses quarantined ones and records each change on the protocol
// channel for the launcher to apply to its disk. The supervisor confirms a module's new
// content once the module has run with it for contentConfirmAfter, rolls it back to
// last-known-good when the module crashes first, and quarantines its fingerprint when it has
// caused as many crashes as the module's crash budget.

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/arch"
	store "github.com/simpleos/simpleos/core/kernel/content"
	"github.com/simpleos/simpleos/policy"
	"github.com/simpleos/simpleos/tier2/sensor/content"
)

// quarantine is the set of content fingerprints the core refuses.
var quarantine struct {
	mu  sync.Mutex
	set map[[32]byte]bool
}

func quarantined(fp [32]byte) bool {
	quarantine.mu.Lock()
	defer quarantine.mu.Unlock()
	return quarantine.set[fp]
}

func quarantineContent(fp [32]byte) {
	quarantine.mu.Lock()
	defer quarantine.mu.Unlock()
	if quarantine.set == nil {
		quarantine.set = map[[32]byte]bool{}
	}
	quarantine.set[fp] = true
}

// serveContentWrites decides the content writes of modules, one at a time, for as long as
// the core runs.
func serveContentWrites() {
	for {
		w := store.NextWrite()
		fp := content.Fingerprint(w.Data)
		refuse := quarantined(fp)
		s := store.FinishWrite(w, refuse, fp)
		if refuse {
			fmt.Printf("disk: refused %s from pid %d: quarantined content (%s)\n", w.File, w.Writer, describeContent(w.Data))
			continue
		}
		recordDiskWrite(s)
	}
}

// recordDiskWrite writes the change to a content file on the protocol channel, where the
// launcher applies it to its disk, and says so on the console.
func recordDiskWrite(s store.Status) {
	kernel.ProtocolLine(fmt.Sprintf("disk: write %s %d base64 %s", s.Name, len(s.Data), base64.StdEncoding.EncodeToString(s.Data)))
	fmt.Printf("disk: wrote %s (%s)\n", s.Name, describeContent(s.Data))
}

// contentConfirmAfter is how long a module must run with new content before it becomes
// last-known-good.
const contentConfirmAfter = time.Second

// loadContent puts the content files passed at boot into the kernel's store.
func loadContent(man *policy.Manifest) error {
	cur, lkg := map[string][]byte{}, map[string][]byte{}
	for _, m := range kernel.Modules() {
		w := strings.Fields(m.Cmdline)
		if len(w) != 3 {
			continue
		}
		switch w[1] {
		case policy.ContentMarker:
			cur[w[2]] = m.Data
		case policy.RollbackMarker:
			lkg[w[2]] = m.Data
		}
	}
	for _, mod := range man.Modules {
		for _, c := range mod.Content {
			b, ok := cur[c.Path]
			if !ok {
				continue // the module will find no content
			}
			l := lkg[c.Path]
			if err := store.Add(c.Path, b, l, content.Fingerprint(b), content.Fingerprint(l)); err != nil {
				return err
			}
			fmt.Printf("core: content %s: %s\n", c.Path, describeContent(b))
		}
	}
	go serveContentWrites()
	return nil
}

// describeContent names a content file's version: its channel and sequence when it is a
// channel file, and its fingerprint's first bytes.
func describeContent(b []byte) string {
	fp := content.Fingerprint(b)
	if c, err := content.Parse("", b); err == nil {
		return fmt.Sprintf("channel %d sequence %d, %d bytes, sha256 %s", c.Channel, c.Sequence, len(b), hex.EncodeToString(fp[:6]))
	}
	return fmt.Sprintf("%d bytes, sha256 %s", len(b), hex.EncodeToString(fp[:6]))
}

// contentState is what the supervisor remembers about one app's content.
type contentState struct {
	strikes map[[32]byte]int // crashes each content version caused
}

// confirmContent makes content that a running module has used for contentConfirmAfter its
// last-known-good. Called from the watchdog loop with st.mu held.
func (st *supervisorState) confirmContent(a *app) {
	if a.module == nil || a.pid == 0 {
		return
	}
	now := time.Duration(arch.Nanotime())
	for _, c := range a.module.Content {
		s, ok := store.Get(c.Path)
		if !ok || s.Confirmed || s.Writer != a.pid || now-s.WrittenAt < contentConfirmAfter {
			continue
		}
		if store.Confirm(c.Path, s.Gen) {
			fmt.Printf("supervisor: content %s (%s) confirmed after %v: last-known-good from now on\n",
				c.Path, describeContent(s.Data), contentConfirmAfter)
		}
	}
}

// rollbackContent undoes the unconfirmed content an instance wrote before it crashed, and
// quarantines content that has crashed the module as often as its crash budget allows. It
// returns the excuse for the crash ("" if no content was to blame). An instance that ended
// cleanly did not crash: what it wrote is confirmed instead.
func (st *supervisorState) rollbackContent(a *app, ev kernel.TaskEvent, clean bool) string {
	if a.module == nil {
		return ""
	}
	var excuses []string
	for _, c := range a.module.Content {
		s, ok := store.Get(c.Path)
		if !ok || s.Confirmed || s.Writer != ev.PID {
			continue
		}
		if clean {
			if store.Confirm(c.Path, s.Gen) {
				fmt.Printf("supervisor: content %s (%s) confirmed: its writer %s exited cleanly\n",
					c.Path, describeContent(s.Data), a.spec.Name)
			}
			continue
		}
		after := (ev.At - s.WrittenAt).Round(time.Millisecond)
		r, _ := store.Rollback(c.Path)
		recordDiskWrite(r)
		if a.content.strikes == nil {
			a.content.strikes = map[[32]byte]int{}
		}
		a.content.strikes[s.Hash]++
		n, budget := a.content.strikes[s.Hash], a.rules.CrashBudget
		if budget <= 0 {
			budget = 3
		}
		fmt.Printf("supervisor: %s crashed %v after writing content %s (%s): rolled back to last-known-good (%s); crash %d of %d with this content\n",
			a.spec.Name, after, c.Path, describeContent(s.Data), describeContent(r.Data), n, budget)
		if n >= budget {
			quarantineContent(s.Hash)
			fmt.Printf("supervisor: content %s (%s) quarantined after %d crashes: the core refuses it from now on\n",
				c.Path, describeContent(s.Data), n)
		}
		excuses = append(excuses, "content "+c.Path+" rolled back")
	}
	return strings.Join(excuses, ", ")
}
