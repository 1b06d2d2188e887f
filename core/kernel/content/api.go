package content

// The content store's API for the core (store.go holds the store): the supervisor's confirm,
// rollback and status calls, and the content service's side of a write. Goroutine context:
// interrupts are off around every access to the store.

import (
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/x86"
)

// Status describes one content file.
type Status struct {
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

// Add creates a content file at boot with its current bytes and its last-known-good copy
// (nil: the current bytes are the last-known-good ones) and their fingerprints.
func Add(name string, cur, lkg []byte, curHash, lkgHash [32]byte) error {
	nb, ok := abi.MakeName(name)
	if !ok {
		return fmt.Errorf("content %q: %v", name, abi.CheckName(name))
	}
	if len(cur) > maxSize || len(lkg) > maxSize {
		return fmt.Errorf("content %s: larger than %d bytes", name, maxSize)
	}
	if lkg == nil {
		lkg, lkgHash = cur, curHash
	}
	x86.Cli()
	defer x86.Sti()
	if find(&nb) >= 0 {
		return fmt.Errorf("content %s: passed twice", name)
	}
	for i := range files {
		f := &files[i]
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
	return fmt.Errorf("content %s: more than %d content files", name, maxFiles)
}

// Get returns the status of a content file.
func Get(name string) (Status, bool) {
	x86.Cli()
	defer x86.Sti()
	i := byName(name)
	if i < 0 {
		return Status{}, false
	}
	return files[i].status(), true
}

func byName(name string) int {
	nb, ok := abi.MakeName(name)
	if !ok {
		return -1
	}
	return find(&nb)
}

func (f *file) status() Status {
	return Status{
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

// Confirm marks the current bytes of a file as proven, if they are still those of generation
// gen: a later write keeps them as last-known-good.
func Confirm(name string, gen uint64) bool {
	x86.Cli()
	defer x86.Sti()
	i := byName(name)
	if i < 0 || files[i].gen != gen {
		return false
	}
	files[i].confirmed = true
	return true
}

// Rollback makes the last-known-good bytes of a file current again and returns the new status
// (the caller records the change on the disk).
func Rollback(name string) (Status, bool) {
	x86.Cli()
	defer x86.Sti()
	i := byName(name)
	if i < 0 {
		return Status{}, false
	}
	f := &files[i]
	f.cur = f.lkg
	f.curLen, f.curHash = f.lkgLen, f.lkgHash
	f.confirmed = true
	f.writer = 0
	f.writtenAt = arch.Nanotime()
	f.gen++
	return f.status(), true
}

// Write is a write a module asked for, for the content service to decide.
type Write struct {
	File   string
	Data   []byte // a copy of the staged bytes
	Writer int    // pid
	seq    uint64
}

// NextWrite waits for the next content write to decide (the content service's loop).
func NextWrite() Write {
	for {
		x86.Cli()
		if stage.busy && !stage.taken {
			stage.taken = true
			w := Write{
				File:   files[stage.file&(maxFiles-1)].name.String(),
				Data:   append([]byte(nil), stage.data[:stage.n]...),
				Writer: int(stage.pid),
				seq:    stage.seq,
			}
			x86.Sti()
			return w
		}
		x86.Sti()
		runtime.Gosched() // the goroutines this wait would hold the core's P from run first
		syscall.Syscall(abi.SysWaitEvent, abi.WaitContentWrite, 0, 0)
	}
}

// FinishWrite decides write w. Refused (quarantined) bytes leave the file as it was and the
// writer gets EKEYREJECTED; accepted ones become current and unconfirmed, with their
// fingerprint hash, and the replaced bytes become last-known-good if they were confirmed. It
// returns the file's new status.
func FinishWrite(w Write, refuse bool, hash [32]byte) Status {
	x86.Cli()
	defer x86.Sti()
	f := &files[stage.file&(maxFiles-1)]
	if stage.seq != w.seq || !stage.taken || !stage.busy {
		return f.status() // not the write in the stage (cannot happen: one service)
	}
	result := int64(0)
	if refuse {
		result = -abi.EKEYREJECTED
	} else {
		if f.confirmed {
			f.lkg = f.cur
			f.lkgLen, f.lkgHash = f.curLen, f.curHash
		}
		f.curLen = copy(f.cur[:], stage.data[:stage.n])
		f.curHash = hash
		f.confirmed = false
		f.writtenAt = arch.Nanotime()
		f.writer = stage.pid
		f.gen++
	}
	if !stage.orphan && sched.Waiting(int(stage.writer), &stage.deciding) {
		sched.WakeWith(int(stage.writer), result)
	}
	stage.busy, stage.orphan = false, false
	stage.free.WakeAll()
	return f.status()
}
