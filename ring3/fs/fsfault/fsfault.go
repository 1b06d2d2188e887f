// Package fsfault commits the file-system classes of package inject/fault (fs-crash-mid-write,
// fs-corrupt-read, fs-hang) in the request path of the file-system server ring3/fs, the way
// tier1/blk/blkfault commits the driver classes in the block driver's.
//
// A Sabotage is armed with the fault's Spec when the server starts; once its delay has passed
// it strikes once:
//
//	fs-crash-mid-write  the file system's device writes are counted (Device wraps the FAT
//	                    volume's device); right after the Nth one since the delay (N = 1 +
//	                    Seed%4) returns, a nil dereference: the sector is on the disk, the
//	                    request that wrote it is unfinished and never answered
//	fs-corrupt-read     ReadHook (fat.WithReadHook) flips one bit in the next FAT or directory
//	                    read: in a FAT, in the 28-bit value of an entry up to the last one in
//	                    use; in a directory sector, in an entry in use (any bit of the sector
//	                    if none is). The FAT is read only at mount: with a delay of 0 the
//	                    fault strikes it. With a delay, Watch has the volume forget its clean
//	                    directory sectors when the delay passes, so that the next lookup reads
//	                    one again and the fault strikes it. Unless the server dies of it, it
//	                    reports Handled 2 s later
//	fs-hang             Request (called by every worker before it handles a request) blocks
//	                    forever once the fault is due: the server stops answering; its
//	                    liveness heartbeat stops with it (Busy)
package fsfault

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/simpleos/simpleos/fs/fat"
	"github.com/simpleos/simpleos/inject/fault"
)

// Sabotage is one armed file-system fault.
type Sabotage struct {
	Spec fault.Spec
	Logf func(format string, args ...any)
	// Report tells the core the server survived the fault (fault.Report by default).
	Report func(fault.Outcome)

	mu     sync.Mutex
	start  time.Time
	writes int // device writes since the delay passed (fs-crash-mid-write)
	struck bool
}

// New arms spec's fault from now. It returns nil for a class that is not a file-system class.
func New(spec fault.Spec) *Sabotage {
	if !fault.IsFS(spec.Class) {
		return nil
	}
	return &Sabotage{Spec: spec, start: time.Now(), Logf: func(string, ...any) {}, Report: fault.Report}
}

// due reports whether the delay has passed.
func (s *Sabotage) due() bool { return time.Since(s.start) >= s.Spec.Delay }

// strike reports whether class strikes now (its delay passed and it has not struck), and
// marks it struck.
func (s *Sabotage) strike(class string) bool {
	if s == nil || s.Spec.Class != class {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.struck || !s.due() {
		return false
	}
	s.struck = true
	return true
}

// Device wraps the file system's device: fs-crash-mid-write strikes after a write. A nil
// Sabotage, or another class, returns d.
func (s *Sabotage) Device(d fat.Device) fat.Device {
	if s == nil || s.Spec.Class != fault.FSCrashMidWrite {
		return d
	}
	return &device{Device: d, s: s}
}

type device struct {
	fat.Device
	s *Sabotage
}

// WriteAt writes through, then crashes if this was the Nth write since the delay.
func (d *device) WriteAt(p []byte, sector uint64) error {
	err := d.Device.WriteAt(p, sector)
	s := d.s
	s.mu.Lock()
	n := 0
	if !s.struck && s.due() {
		s.writes++
		if s.writes >= 1+int(s.Spec.Seed%4) {
			s.struck, n = true, s.writes
		}
	}
	s.mu.Unlock()
	if n > 0 {
		s.Logf("fault: fs-crash-mid-write: device write %d (%d sectors at %d, %v) done; crashing before the reply", n, len(p)/fat.SectorSize, sector, err)
		var nilp *int
		*nilp = 1 // a file-system bug, between two device writes of a request
	}
	return err
}

// Watch is called with the mounted volume: for fs-corrupt-read with a delay, it drops the
// volume's clean directory sectors once the delay has passed (see the package comment).
func (s *Sabotage) Watch(vol interface{ DropCleanCache() }) {
	if s == nil || s.Spec.Class != fault.FSCorruptRead || s.Spec.Delay == 0 {
		return
	}
	go func() {
		time.Sleep(time.Until(s.start.Add(s.Spec.Delay)))
		vol.DropCleanCache()
	}()
}

// ReadHook is fat.WithReadHook's hook: fs-corrupt-read strikes in it.
func (s *Sabotage) ReadHook(kind fat.ReadKind, p []byte, sector uint64) {
	if (kind != fat.ReadFAT && kind != fat.ReadDir) || !s.strike(fault.FSCorruptRead) {
		return
	}
	seed := s.Spec.Seed
	var at, bit int
	what := "directory"
	if kind == fat.ReadFAT {
		what = "FAT"
		last := 2
		for i := len(p)/4 - 1; i >= 2; i-- {
			if binary.LittleEndian.Uint32(p[4*i:])&0x0FFFFFFF != 0 {
				last = i
				break
			}
		}
		entry := 2 + int(seed%uint64(last-1))
		b := int(seed>>32) % 28
		at, bit = 4*entry+b/8, b%8
	} else {
		var used []int
		for e := 0; e+32 <= len(p); e += 32 {
			if p[e] != 0 && p[e] != 0xE5 {
				used = append(used, e)
			}
		}
		if len(used) == 0 {
			at = int(seed % uint64(len(p)))
		} else {
			at = used[int(seed%uint64(len(used)))] + int(seed>>32)%32
		}
		bit = int(seed>>40) % 8
	}
	p[at] ^= 1 << bit
	s.Logf("fault: fs-corrupt-read: flipped bit %d of byte %d of the %s read at sector %d (sector %d of it)", bit, at, what, sector, sector+uint64(at/fat.SectorSize))
	go func() {
		time.Sleep(2 * time.Second)
		s.Report(fault.Handled) // still alive: the server carried on with what it read
		s.Logf("fault: fs-corrupt-read: the server is still running 2s later")
	}()
}

// Request is called by a worker before it handles a request: fs-hang blocks it, and every
// later one, forever.
func (s *Sabotage) Request() {
	if s == nil || s.Spec.Class != fault.FSHang {
		return
	}
	s.mu.Lock()
	if !s.struck && s.due() {
		s.struck = true
		s.Logf("fault: fs-hang: the server stops answering")
	}
	hung := s.struck
	s.mu.Unlock()
	if hung {
		select {} // never answers
	}
}
