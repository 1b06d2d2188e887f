package server

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"syscall"

	"github.com/simpleos/simpleos/fs"
)

// openFile is what a handle names: the file, the mount it is on and what the server needs to
// answer fstat and readdir without asking again.
type openFile struct {
	f     fs.File
	t     target // where it was opened (readdir's children and "..")
	flag  int
	inode uint64
}

// A handle is generation<<32 | index into the table. Closing a slot bumps its generation, so
// a handle used after close, or forged, is EBADF instead of naming whatever file reuses the
// slot. Generations start at a random value: the handles a previous instance of the server
// gave out (before a crash and restart) are stale too, almost surely.
type handles struct {
	mu    sync.Mutex
	slots []slot
	free  []uint32 // indices of free slots
	max   int
	seed  uint32
}

type slot struct {
	gen  uint32
	used bool      // reserved or open
	file *openFile // nil while only reserved
}

func newHandles(max int, seed uint32) *handles {
	if max <= 0 {
		max = DefaultMaxOpen
	}
	for seed == 0 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		seed = binary.LittleEndian.Uint32(b[:])
	}
	return &handles{max: max, seed: seed}
}

func nextGen(g uint32) uint32 {
	if g++; g == 0 {
		g = 1 // 0 is never a generation, so no handle is 0
	}
	return g
}

// reserve takes a free slot for a file about to be opened (ENFILE when the table is full), so
// that a full table fails an open before it creates anything.
func (t *handles) reserve() (uint32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var i uint32
	switch {
	case len(t.free) > 0:
		i = t.free[len(t.free)-1]
		t.free = t.free[:len(t.free)-1]
	case len(t.slots) < t.max:
		i = uint32(len(t.slots))
		t.slots = append(t.slots, slot{gen: nextGen(t.seed + i)})
	default:
		return 0, syscall.ENFILE
	}
	t.slots[i].used = true
	return i, nil
}

// fill puts of into reserved slot i and returns its handle.
func (t *handles) fill(i uint32, of *openFile) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.slots[i].file = of
	return uint64(t.slots[i].gen)<<32 | uint64(i)
}

// unreserve gives back reserved slot i (the open failed).
func (t *handles) unreserve(i uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.slots[i].used = false
	t.free = append(t.free, i)
}

// get returns the open file h names; EBADF for a stale or forged handle.
func (t *handles) get(h uint64) (*openFile, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.lookup(h)
	if s == nil {
		return nil, syscall.EBADF
	}
	return s.file, nil
}

// remove frees h's slot and returns its file (EBADF as get).
func (t *handles) remove(h uint64) (*openFile, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.lookup(h)
	if s == nil {
		return nil, syscall.EBADF
	}
	of := s.file
	s.file, s.used = nil, false
	s.gen = nextGen(s.gen)
	t.free = append(t.free, uint32(h))
	return of, nil
}

func (t *handles) lookup(h uint64) *slot {
	i := h & 0xffffffff
	if i >= uint64(len(t.slots)) {
		return nil
	}
	s := &t.slots[i]
	if s.file == nil || uint64(s.gen) != h>>32 {
		return nil
	}
	return s
}

// count returns how many files are open.
func (t *handles) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.slots) - len(t.free)
}
