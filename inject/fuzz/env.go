package fuzz

import (
	"fmt"
	"syscall"
	"unsafe"
)

// The fuzzer's own memory: valid pointers point into the arena, between two inaccessible
// guards (PROT_NONE regions of the task's own), never into the Go heap.
const (
	arenaSize = 1 << 20
	guardSize = 64 << 10
	pageSize  = 4096
	arenaHome = 0x5e00_0000_0000 - guardSize
)

// The kernel's side of a task's address space, and the edges of its own (core/kernel/layout.go).
const (
	userLimit    = 0x7fff_ffff_f000
	userTop      = 0x8000_0000_0000
	mmioWindow   = 0x7d00_0000_0000
	dmaWindow    = 0x7d80_0000_0000
	grantWindow  = 0x7e00_0000_0000
	windowsEnd   = 0x7f00_0000_0000
	directMap    = 0xffff_8000_0000_0000
	kernelStacks = 0xffff_c000_0000_0000
	entryArea    = 0xffff_ff80_0000_0000
	coreImage    = 0x200000
)

// env is what a fuzzer has to work with: its arena, the descriptors and handles it made, and
// those of its Go runtime it must not disturb.
type env struct {
	cfg   Config
	arena uintptr // first byte of the arena proper
	text  uintptr // an address in the fuzzer's own code (readable, not writable)

	runtimeFD [maxFD]bool // descriptors the Go runtime had before the fuzzer began
	own       [maxFD]kind // descriptors the fuzzer made, by kind
	closed    []int       // descriptors it closed (a later call may find them reused)
	handles   []uint64    // IPC handles it registered or looked up
	served    uint64      // the handle of its own endpoint
	nonblock  [maxFD]bool // its own descriptors set O_NONBLOCK
	desc      [maxFD]int  // which open file description each of its own names (dups share one)
	descs     int         // descriptions numbered so far
	mmio      []uintptr   // device memory it mapped
	mapped    []region    // regions the kernel placed for it (unmapped at the batch's end)

	simpleos bool // running on SimpleOS (on Linux, calls that reach past the process are left out)
	pid, tid int  // its own, and its main thread's
	raw      rawThreads

	batch, calls, found uint64 // the fuzzer's progress, for the calls that report it

	futexWords   []uintptr // words raw threads wait on without a timeout
	arenaTouched bool      // a raw thread may have unmapped part of the arena
	rawTimes     int       // the next of rawTimespecs to hand out

	cwd      string // the working directory it started in ("" if getcwd failed)
	cwdMoved bool   // a chdir or fchdir succeeded: restore goes back to cwd
}

// rawTimespecs hold the timeouts of raw threads' waits. A raw thread reads its arguments only
// when it runs, maybe after the batch's later calls have written over arena memory (a name, a
// buffer): a timespec there could read as years, and the thread would still be asleep when the
// batch ends — a "stuck" finding that is the fuzzer's, not the kernel's. No fuzzed call is ever
// given these, so nothing but their raw thread reads them. (Package variables never move.)
var rawTimespecs [64][2]int64

// rawTimespec returns the address of a fresh timeout of at most max ns for a raw thread.
func (e *env) rawTimespec(r *rng, max int64) uintptr {
	t := &rawTimespecs[e.rawTimes%len(rawTimespecs)]
	e.rawTimes++
	ns := int64(r.intn(int(max) + 1))
	t[0], t[1] = ns/1e9, ns%1e9
	return uintptr(unsafe.Pointer(t))
}

const maxFD = 64 // the core's per-process descriptor table

// kind is what the fuzzer knows a descriptor of its own is.
type kind uint8

const (
	kNone kind = iota
	kPipeR
	kPipeW
	kEventfd
	kEpoll
	kFile    // a file or directory open, openat or creat opened (on SimpleOS only with a file-system server)
	kConsole // a duplicate of a console descriptor (SimpleOS only): closed, duplicated, never read or written
)

type region struct{ addr, n uintptr }

// newEnv maps the arena and records the runtime's descriptors.
func newEnv(cfg Config) (*env, error) {
	e := &env{cfg: cfg}
	// At a fixed address when it can be, so that a program's pointers mean the same in a repro.
	all, _, errno := syscall.RawSyscall6(syscall.SYS_MMAP, arenaHome, arenaSize+2*guardSize, syscall.PROT_NONE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|mapFixedNoreplace, ^uintptr(0), 0)
	if errno != 0 || all != arenaHome {
		if errno == 0 {
			rawMunmap(all, arenaSize+2*guardSize)
		}
		all, _, errno = syscall.RawSyscall6(syscall.SYS_MMAP, 0, arenaSize+2*guardSize, syscall.PROT_NONE,
			syscall.MAP_PRIVATE|syscall.MAP_ANON, ^uintptr(0), 0)
	}
	if errno != 0 {
		return nil, fmt.Errorf("fuzz: arena: %v", errno)
	}
	e.arena = all + guardSize
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_MMAP, e.arena, arenaSize, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_FIXED, ^uintptr(0), 0); errno != 0 {
		return nil, fmt.Errorf("fuzz: arena: %v", errno)
	}
	e.fill(0x41)
	e.text = textAddr()
	e.simpleos = OnSimpleOS()
	e.pid = syscall.Getpid()
	e.tid = syscall.Gettid()
	if err := e.raw.init(); err != nil {
		return nil, err
	}
	for fd := 0; fd < maxFD; fd++ {
		if _, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); errno == 0 {
			e.runtimeFD[fd] = true
		}
	}
	if wd, err := syscall.Getwd(); err == nil {
		e.cwd = wd
	}
	return e, nil
}

// fill writes printable bytes over the arena: whatever a call reads from it and prints is
// still readable.
func (e *env) fill(c byte) {
	b := unsafeBytes(e.arena, arenaSize)
	for i := range b {
		b[i] = 'a' + byte((int(c)+i)%26)
	}
}

// word writes v at offset off of the arena and returns its address.
func (e *env) word(off uintptr, v uint64) uintptr {
	p := e.arena + off%(arenaSize-8)&^7
	*(*uint64)(ptrAt(p)) = v
	return p
}

// ownFDs lists the descriptors the fuzzer made (of kind k, or any kind for kNone).
func (e *env) ownFDs(k kind) []int {
	var out []int
	for fd, kk := range e.own {
		if kk != kNone && (k == kNone || kk == k) {
			out = append(out, fd)
		}
	}
	return out
}

// forget records that fd was closed.
func (e *env) forget(fd int) {
	if fd >= 0 && fd < maxFD && e.own[fd] != kNone {
		e.own[fd] = kNone
		e.closed = append(e.closed, fd)
		if len(e.closed) > 16 {
			e.closed = e.closed[1:]
		}
	}
}

// made records a descriptor the kernel gave the fuzzer.
func (e *env) made(fd int, k kind) {
	switch {
	case fd >= maxFD: // only Linux gives these: no use to the fuzzer, and they must not pile up
		syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
	case fd >= 0 && !e.runtimeFD[fd]:
		e.own[fd] = k
		e.nonblock[fd] = false
		e.descs++
		e.desc[fd] = e.descs
	}
}

// dupMade records descriptor fd, which dup, dup2, dup3 or fcntl(F_DUPFD) made from old: the
// same kind, naming the same description (and so, on Linux, the same O_NONBLOCK). On
// SimpleOS a duplicate of a console descriptor is kConsole; on Linux it shares the test's
// own output's description (an F_SETFL on it would make the test's stdout non-blocking), and
// a duplicate of anything else the fuzzer does not own (the runtime's, a closed number
// reused) is closed again at once, never kept.
func (e *env) dupMade(old, fd int) {
	if fd < 0 || fd >= maxFD || e.runtimeFD[fd] {
		e.made(fd, kNone) // closes one past the table
		return
	}
	k := kNone
	if old >= 0 && old < maxFD {
		k = e.own[old]
	}
	if k == kNone && old < 3 && e.simpleos {
		k = kConsole
	}
	if k == kNone {
		syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
		e.own[fd] = kNone
		return
	}
	e.own[fd], e.nonblock[fd], e.desc[fd] = k, k != kConsole && e.nonblock[old], e.desc[old]
}

// setNonblock records F_SETFL on fd. Linux keeps O_NONBLOCK in the description, which fd's
// duplicates share; SimpleOS keeps it in the descriptor. The duplicates keep it only if both
// agree they have it: a descriptor the fuzzer thinks non-blocking never blocks its thread.
func (e *env) setNonblock(fd int, on bool) {
	if fd < 0 || fd >= maxFD || e.own[fd] == kNone {
		return
	}
	for other := range e.own {
		if other != fd && e.own[other] != kNone && e.desc[other] == e.desc[fd] {
			e.nonblock[other] = e.nonblock[other] && on
		}
	}
	e.nonblock[fd] = on
}

// pipeMade records the two descriptors a successful pipe or pipe2 wrote at p.
func (e *env) pipeMade(p uintptr, nonblock bool) {
	if !inArena(e, p) || p+8 > e.arena+arenaSize {
		return
	}
	fds := (*[2]int32)(ptrAt(p))
	e.made(int(fds[0]), kPipeR)
	e.made(int(fds[1]), kPipeW)
	for _, fd := range fds {
		if fd >= 0 && fd < maxFD && !e.runtimeFD[fd] {
			e.nonblock[fd] = nonblock
		}
	}
}

// mappedAt records where the kernel placed a mapping that was not MAP_FIXED, to unmap it at
// the batch's end.
func (e *env) mappedAt(a []val, r uintptr) {
	if a[3].v&syscall.MAP_FIXED != 0 || inArena(e, r) {
		return
	}
	if len(e.mapped) < 64 {
		e.mapped = append(e.mapped, region{r, a[1].v})
	} else {
		rawMunmap(r, a[1].v)
	}
}

// unmapped forgets the kernel-placed regions a munmap removed.
func (e *env) unmapped(addr, n uintptr) {
	kept := e.mapped[:0]
	for _, m := range e.mapped {
		if m.addr >= addr && m.addr+m.n <= addr+n {
			continue
		}
		kept = append(kept, m)
	}
	e.mapped = kept
}

// repair restores the arena and its guards after a call that may have changed their mappings.
func (e *env) repair() {
	rawMmap(e.arena-guardSize, guardSize, syscall.PROT_NONE)
	rawMmap(e.arena+arenaSize, guardSize, syscall.PROT_NONE)
	rawMmap(e.arena, arenaSize, syscall.PROT_READ|syscall.PROT_WRITE)
}

// closeAll closes every descriptor the fuzzer made: the first step of a batch's end, which
// also ends the raw threads' waits on pipes.
func (e *env) closeAll() {
	for fd, k := range e.own {
		if k != kNone {
			syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
			e.own[fd] = kNone
		}
		e.nonblock[fd] = false
	}
	e.closed = e.closed[:0]
}

// restore undoes the rest once the raw threads are gone (one could unmap part of the arena
// while it is being refilled): the mappings the kernel placed, the arena and its guards.
func (e *env) restore() {
	for _, m := range e.mapped {
		rawMunmap(m.addr, m.n)
	}
	e.mapped = e.mapped[:0]
	e.repair()
	e.fill(0x41)
	if e.cwdMoved && e.cwd != "" { // the next batch starts where the first did (a repro too)
		syscall.Chdir(e.cwd)
	}
	e.cwdMoved = false
}

func rawMmap(addr, n uintptr, prot int) {
	syscall.RawSyscall6(syscall.SYS_MMAP, addr, n, uintptr(prot), syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_FIXED, ^uintptr(0), 0)
}

func rawMunmap(addr, n uintptr) { syscall.RawSyscall(syscall.SYS_MUNMAP, addr, n, 0) }

// OnSimpleOS reports whether the kernel is SimpleOS's core (its uname node name).
func OnSimpleOS() bool {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return false
	}
	var b []byte
	for _, c := range u.Nodename {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b) == "simpleos"
}
