package main

// Content files: the data files security modules load (the sensor's channel file). They live
// on the disk (contentdisk.go); the kernel's content store keeps them with their
// last-known-good copies (core/kernel/content). The content service here decides every write
// a module makes: it fingerprints the bytes (content.Fingerprint: SHA-256 of the canonical
// rules), refuses quarantined ones and writes each change to the disk. The supervisor confirms a module's new
// content once the module has run with it for contentConfirmAfter, rolls it back to
// last-known-good when the module crashes first, and quarantines its fingerprint when it has
// caused as many crashes as the module's crash budget.

import (
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

// quarantine is the set of content fingerprints the core refuses, each with what it was.
var quarantine struct {
	mu  sync.Mutex
	set map[[32]byte]string
}

func quarantined(fp [32]byte) bool {
	quarantine.mu.Lock()
	defer quarantine.mu.Unlock()
	_, ok := quarantine.set[fp]
	return ok
}

func quarantineContent(fp [32]byte, what ...string) {
	quarantine.mu.Lock()
	defer quarantine.mu.Unlock()
	if quarantine.set == nil {
		quarantine.set = map[[32]byte]string{}
	}
	quarantine.set[fp] = strings.Join(what, " ")
}

// serveContentWrites decides the content writes of modules, one at a time, for as long as
// the core runs.
func serveContentWrites() {
	for {
		w := store.NextWrite()
		fp := content.Fingerprint(w.Data)
		refuse := quarantined(fp)
		if !refuse {
			// On the disk before the writer goes on (and applies the bytes): what a module
			// was told is written is what the next boot reads.
			old, _ := store.Get(w.File)
			lkg := old.LKG
			if old.Confirmed {
				lkg = old.Data
			}
			persist(store.Status{Name: w.File, Data: w.Data, LKG: lkg}, true)
		}
		store.FinishWrite(w, refuse, fp)
		if refuse {
			fmt.Printf("disk: refused %s from pid %d: quarantined content (%s)\n", w.File, w.Writer, describeContent(w.Data))
		}
	}
}

// diskJob is a change for the disk writer: a content file's new state, or the quarantine
// list; done (if not nil) is closed when it is on the disk.
type diskJob struct {
	s          store.Status
	quarantine bool
	done       chan struct{}
}

// diskJobs feeds the disk writer, one goroutine that writes every change in order: the
// supervisor's rollbacks never wait for the disk (a slow file server must not hold up the
// restart of a crashed module), and two changes never write the same files at once.
var diskJobs = make(chan diskJob, 64)

// writeDisk is the disk writer (started by loadContent).
func writeDisk() {
	for j := range diskJobs {
		switch {
		case j.s.Name == flushMarker:
		case j.quarantine:
			if err := saveQuarantine(); err != nil {
				fmt.Printf("disk: writing %s: %v\n", quarantineFile, err)
			}
		default:
			writeContentState(j.s)
		}
		if j.done != nil {
			close(j.done)
		}
	}
}

// persist has the disk writer write a content file's new state; wait waits until it is done.
func persist(s store.Status, wait bool) {
	j := diskJob{s: s}
	if wait {
		j.done = make(chan struct{})
	}
	diskJobs <- j
	if wait {
		<-j.done
	}
}

// flushDisk waits until the disk writer has written every change queued so far (a rollback, a
// quarantine), at most limit: the machine must not power off with the quarantine only in
// memory, or the next boot would load what crashed this one. false if it timed out (a hung
// file server: the change is lost, and the supervisor says so).
func flushDisk(limit time.Duration) bool {
	if !onDisk {
		return true
	}
	j := diskJob{quarantine: false, done: make(chan struct{}), s: store.Status{Name: flushMarker}}
	select {
	case diskJobs <- j:
	case <-time.After(limit):
		return false
	}
	select {
	case <-j.done:
		return true
	case <-time.After(limit):
		return false
	}
}

// flushMarker names the no-op job flushDisk queues behind every change before it.
const flushMarker = "(flush)"

// recordDiskWrite writes a content file's new state to the disk (in the background).
func recordDiskWrite(s store.Status) { persist(s, false) }

// writeContentState writes a content file's state to the disk — its current file and its
// last-known-good copy — and says so on the console. Without a file system the change lives
// in the kernel's store until the machine stops.
func writeContentState(s store.Status) {
	c, ok := places[s.Name]
	if !onDisk || !ok {
		fmt.Printf("content: %s is now %s (no file system: not written to a disk)\n", s.Name, describeContent(s.Data))
		return
	}
	p, err := saveCurrent(c, s.Data)
	if err == nil && s.LKG != nil {
		err = saveLKG(c, s.LKG)
	}
	if err != nil {
		fmt.Printf("disk: writing %s: %v\n", s.Name, err)
		return
	}
	fmt.Printf("disk: wrote %s as %s (%s)\n", s.Name, p, describeContent(s.Data))
}

// contentConfirmAfter is how long a module must run with new content before it becomes
// last-known-good.
const contentConfirmAfter = time.Second

// loadContent puts the content files into the kernel's store: from the disk when a file
// server serves it (fromDisk), installing the shipped files (the Multiboot modules) on a disk
// that has none yet; else the shipped files, kept in memory only.
func loadContent(man *policy.Manifest, fromDisk bool) error {
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
	onDisk = fromDisk
	if fromDisk {
		if err := readQuarantine(); err != nil {
			return err
		}
	}
	for _, mod := range man.Modules {
		for _, c := range mod.Content {
			places[c.Path] = c
			b, l := cur[c.Path], lkg[c.Path]
			if fromDisk {
				var err error
				if b, l, err = diskContent(c, b, l); err != nil {
					return fmt.Errorf("content %s: %w", c.Path, err)
				}
			}
			if b == nil {
				continue // the module will find no content
			}
			if err := store.Add(c.Path, b, l, content.Fingerprint(b), content.Fingerprint(l)); err != nil {
				return err
			}
			fmt.Printf("core: content %s: %s\n", c.Path, describeContent(b))
		}
	}
	if !fromDisk {
		fmt.Println("core: content: no file system: the shipped files are in force, and changes are not written to a disk")
	}
	go writeDisk()
	go serveContentWrites()
	return nil
}

// diskContent returns c's current and last-known-good bytes from the disk, installing the
// shipped ones there first if the disk has none.
func diskContent(c policy.ContentFile, shipped, shippedLKG []byte) (cur, lkg []byte, err error) {
	cur, p, lkg, found, err := readContent(c)
	switch {
	case err != nil:
		return nil, nil, err
	case !found && shipped != nil:
		if shippedLKG == nil {
			shippedLKG = shipped
		}
		p, err := saveCurrent(c, shipped)
		if err == nil {
			err = saveLKG(c, shippedLKG)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("installing it on the disk: %w", err)
		}
		fmt.Printf("core: content %s installed on the disk: %s\n", c.Path, p)
		return shipped, shippedLKG, nil
	case cur == nil && lkg != nil:
		fmt.Printf("core: content %s: no current file in %s on the disk (deleted?): its last-known-good copy is in force\n", c.Path, contentDir(c))
		if _, err := saveCurrent(c, lkg); err != nil {
			return nil, nil, err
		}
		return lkg, lkg, nil
	}
	if cur != nil {
		fmt.Printf("core: content %s from the disk: %s\n", c.Path, p)
	}
	return cur, lkg, nil
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
			quarantineContent(s.Hash, c.Path, describeContent(s.Data))
			if onDisk {
				diskJobs <- diskJob{quarantine: true}
			}
			fmt.Printf("supervisor: content %s (%s) quarantined after %d crashes: the core refuses it from now on\n",
				c.Path, describeContent(s.Data), n)
		}
		excuses = append(excuses, "content "+c.Path+" rolled back")
	}
	return strings.Join(excuses, ", ")
}
