package kernel

// The content store's API for the core's supervisor (content.go holds the store). Ordinary
// goroutine context: interrupts are off around every access to the store.

import (
	"fmt"
	"time"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/x86"
)

// ContentStatus describes one content file.
type ContentStatus struct {
	Name      string
	Gen       uint64 // changes on every write and rollback
	Data      []byte // the current bytes (a copy)
	Hash      uint64
	LKG       []byte // the last-known-good bytes (a copy)
	LKGHash   uint64
	Confirmed bool
	WrittenAt time.Duration // kernel clock
	Writer    int           // pid of the writer, 0 for the boot disk
}

// AddContent creates a content file at boot with its current bytes and its last-known-good
// copy (nil: the current bytes are the last-known-good ones).
func AddContent(name string, cur, lkg []byte) error {
	nb, ok := abi.MakeName(name)
	if !ok {
		return fmt.Errorf("content %q: %v", name, abi.CheckName(name))
	}
	if len(cur) > maxContentSize || len(lkg) > maxContentSize {
		return fmt.Errorf("content %s: larger than %d bytes", name, maxContentSize)
	}
	if lkg == nil {
		lkg = cur
	}
	x86.Cli()
	defer x86.Sti()
	if contentFind(&nb) >= 0 {
		return fmt.Errorf("content %s: passed twice", name)
	}
	for i := range contentFiles {
		f := &contentFiles[i]
		if f.used {
			continue
		}
		f.used, f.name = true, nb
		f.curLen = copy(f.cur[:], cur)
		f.lkgLen = copy(f.lkg[:], lkg)
		f.curHash, f.lkgHash = contentHash(&f.cur, f.curLen), contentHash(&f.lkg, f.lkgLen)
		f.confirmed = true
		f.gen = 1
		return nil
	}
	return fmt.Errorf("content %s: more than %d content files", name, maxContentFiles)
}

// Content returns the status of a content file.
func Content(name string) (ContentStatus, bool) {
	x86.Cli()
	defer x86.Sti()
	i := contentByName(name)
	if i < 0 {
		return ContentStatus{}, false
	}
	return contentFiles[i].status(), true
}

func contentByName(name string) int {
	nb, ok := abi.MakeName(name)
	if !ok {
		return -1
	}
	return contentFind(&nb)
}

func (f *contentFile) status() ContentStatus {
	return ContentStatus{
		Name:      f.name.String(),
		Gen:       f.gen,
		Data:      append([]byte(nil), f.cur[:f.curLen]...),
		Hash:      f.curHash,
		LKG:       append([]byte(nil), f.lkg[:f.lkgLen]...),
		LKGHash:   f.lkgHash,
		Confirmed: f.confirmed,
		WrittenAt: time.Duration(f.writtenAt),
		Writer:    int(f.writer),
	}
}

// ConfirmContent marks the current bytes of a file as proven, if they are still those of
// generation gen: a later write keeps them as last-known-good.
func ConfirmContent(name string, gen uint64) bool {
	x86.Cli()
	defer x86.Sti()
	i := contentByName(name)
	if i < 0 || contentFiles[i].gen != gen {
		return false
	}
	contentFiles[i].confirmed = true
	return true
}

// RollbackContent makes the last-known-good bytes of a file current again (and prints the
// disk write) and returns the new status.
func RollbackContent(name string) (ContentStatus, bool) {
	x86.Cli()
	defer x86.Sti()
	i := contentByName(name)
	if i < 0 {
		return ContentStatus{}, false
	}
	f := &contentFiles[i]
	f.cur = f.lkg
	f.curLen, f.curHash = f.lkgLen, f.lkgHash
	f.confirmed = true
	f.writer = 0
	f.writtenAt = nanotime()
	f.gen++
	diskWrite(f)
	return f.status(), true
}

// QuarantineContent makes the store refuse these bytes (by hash) from now on.
func QuarantineContent(hash uint64) bool {
	x86.Cli()
	defer x86.Sti()
	if isQuarantined(hash) {
		return true
	}
	if quarantine.n == maxQuarantined {
		return false
	}
	quarantine.hash[quarantine.n] = hash
	quarantine.n++
	return true
}

// InjectReport returns what the fault-injection agent of task pid reported (0 none, 1
// handled, 2 breach).
func InjectReport(pid int) uint64 {
	x86.Cli()
	defer x86.Sti()
	if p := procOf(pid); p >= 0 {
		return injectReports[p]
	}
	return 0
}
