package task

// The descriptor table: what each of a task's file descriptors refers to. Package files
// serves the objects (pipes, epoll instances, eventfds) and the console; the table is the
// task's own.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// MaxFDs bounds a task's descriptors.
const MaxFDs = 64

// FDKind is what a descriptor refers to.
type FDKind uint32

const (
	FDNone FDKind = iota
	FDConsole
	FDEpoll
	FDEventfd
	FDPipeRead
	FDPipeWrite
	FDFile // an open file or directory (package vfs)
)

// FD is one descriptor: its kind, the object's slot in its table and the object's
// generation when the descriptor was made (a slot reused for another object has another).
type FD struct {
	Kind  FDKind
	Obj   int32
	Gen   uint32
	Flags uint32 // O_NONBLOCK
}

// FDTable is a task's descriptors.
type FDTable [MaxFDs]FD

//go:nosplit
func (f *FDTable) initConsole() {
	for i := 0; i < 3; i++ {
		f[i] = FD{Kind: FDConsole}
	}
}

// Get returns descriptor n, or nil if it is not open.
//
//go:nosplit
func (f *FDTable) Get(n uint64) *FD {
	if n >= MaxFDs {
		return nil
	}
	d := &f[n]
	if d.Kind == FDNone {
		return nil
	}
	return d
}

// Alloc claims the lowest free descriptor number for object obj of kind at generation gen,
// or returns -1.
//
//go:nosplit
func (f *FDTable) Alloc(kind FDKind, obj int32, gen uint32) int {
	for i := range f {
		if f[i].Kind == FDNone {
			f[i] = FD{Kind: kind, Obj: obj, Gen: gen}
			return i
		}
	}
	return -1
}
