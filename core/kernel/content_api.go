package kernel

// The content store's API for the core (content.go holds the store): the supervisor's
// confirm, rollback and status calls, and the content service's side of a write. Goroutine
// context: interrupts are off around every access to the store.

import (
	"fmt"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/x86"
)

// ContentStatus describes one content file.
type ContentStatus struct {
	Name      string
	Gen       uint64 // changes on every write and rollback
	Data      []byte // the current bytes (a copy)
	Hash      [32]byte
	LKG       []byte // the last-known-good bytes (a copy)
	LKGHash   [32]byte
	Confirmed bool
	WrittenAt time.Duration // kernel clock
	Writer    int           // pid of the writer, 0 for the boot disk
}

// AddContent creates a content file at boot with its current bytes and its last-known-good
// copy (nil: the current bytes are the last-known-good ones) and their fingerprints.
func AddContent(name string, cur, lkg []byte, curHash, lkgHash [32]byte) error {
	nb, ok := abi.MakeName(name)
	if !ok {
		return fmt.Errorf("content %q: %v", name, abi.CheckName(name))
	}
	if len(cur) > maxContentSize || len(lkg) > maxContentSize {
		return fmt.Errorf("content %s: larger than %d bytes", name, maxContentSize)
	}
	if lkg == nil {
		lkg, lkgHash = cur, curHash
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
		f.curHash, f.lkgHash = curHash, lkgHash
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

// RollbackContent makes the last-known-good bytes of a file current again and returns the
// new status (the caller records the change on the disk).
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
	f.writtenAt = arch.Nanotime()
	f.gen++
	return f.status(), true
}

// ContentWrite is a write a module asked for, for the content service to decide.
type ContentWrite struct {
	File   string
	Data   []byte // a copy of the staged bytes
	Writer int    // pid
	seq    uint64
}

// NextContentWrite waits for the next content write to decide (the content service's loop).
func NextContentWrite() ContentWrite {
	for {
		x86.Cli()
		if r := &contentReq; r.busy && !r.taken {
			r.taken = true
			w := ContentWrite{
				File:   contentFiles[r.file&(maxContentFiles-1)].name.String(),
				Data:   append([]byte(nil), r.data[:r.n]...),
				Writer: int(r.pid),
				seq:    r.seq,
			}
			x86.Sti()
			return w
		}
		x86.Sti()
		syscall.Syscall(abi.SysWaitEvent, abi.WaitContentWrite, 0, 0)
	}
}

// FinishContentWrite decides write w. Refused (quarantined) bytes leave the file as it was and
// the writer gets EKEYREJECTED; accepted ones become current and unconfirmed, with their
// fingerprint hash, and the replaced bytes become last-known-good if they were confirmed. It
// returns the file's new status.
func FinishContentWrite(w ContentWrite, refuse bool, hash [32]byte) ContentStatus {
	x86.Cli()
	defer x86.Sti()
	r := &contentReq
	f := &contentFiles[r.file&(maxContentFiles-1)]
	if r.seq != w.seq || !r.taken || r.done {
		return f.status() // not the write in the stage (cannot happen: one service)
	}
	if refuse {
		r.result = -abi.EKEYREJECTED
	} else {
		if f.confirmed {
			f.lkg = f.cur
			f.lkgLen, f.lkgHash = f.curLen, f.curHash
		}
		f.curLen = copy(f.cur[:], r.data[:r.n])
		f.curHash = hash
		f.confirmed = false
		f.writtenAt = arch.Nanotime()
		f.writer = r.pid
		f.gen++
		r.result = 0
	}
	r.done = true
	if r.orphan { // its writer is gone: nobody will read the result
		r.orphan, r.busy = false, false
	}
	wakeAll(waitContent)
	return f.status()
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
