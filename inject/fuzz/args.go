package fuzz

import (
	"fmt"
	"strings"
)

// gen generates the arguments of one batch's calls.
type gen struct {
	r *rng
	e *env
}

// val is a generated argument: its value, what it is (for the program's text) and whether the
// kernel must never succeed in touching it (a pointer no buffer may live at).
type val struct {
	v       uintptr
	label   string
	hostile bool
}

func (v val) String() string { return v.label }

func num(v uintptr) val { return val{v: v, label: fmt.Sprintf("%#x", v)} }

// hostileAddrs are addresses a task can name and no system call may read or write: the
// kernel's half in all its parts, the edges of the task's half, the kernel-managed windows.
var hostileAddrs = []struct {
	a     uintptr
	label string
}{
	{directMap, "directmap"}, {directMap + 0x40_0000, "directmap+4m"}, {directMap + 0x20_0000, "directmap+core"},
	{kernelStacks + 0x1_0000, "kstack"}, {kernelStacks + 0x1_fff8, "kstack-top"},
	{entryArea, "entry-stubs"}, {entryArea + 0x1000, "entry-code"}, {entryArea + 0x2000, "entry-gdt"},
	{entryArea + 0x3000, "entry-idt"}, {entryArea + 0x4000, "entry-data"}, {entryArea + 0x5000, "entry-tss"},
	{entryArea + 0x8000, "entry-stack"}, {entryArea + 0x9ff8, "entry-stack-top"}, {entryArea + 0xa000, "entry-nmi"},
	{userTop, "noncanonical"}, {0x8000_0000_0000_0000, "noncanonical-hi"}, {0xffff_7fff_ffff_f000, "noncanonical-top"},
	{userLimit, "top-page"}, {userTop - 8, "top-page-end"}, {^uintptr(0) - 7, "last-word"},
	{mmioWindow, "mmio-window"}, {grantWindow + 0x20000, "grant-window"}, {windowsEnd - pageSize, "windows-end"},
	{coreImage, "core-image"}, {0x1000, "low-page"},
}

// ptr returns a pointer for a buffer of n bytes the call reads (out=false) or writes
// (out=true): valid, at an edge, or hostile.
func (g *gen) ptr(n uintptr, out bool) val {
	e, r := g.e, g.r
	switch k := r.intn(100); {
	case k < 40: // in the arena
		off := uintptr(r.intn(arenaSize))
		if n < arenaSize && r.chance(2) {
			off = uintptr(r.intn(int(arenaSize - n + 1)))
		}
		return val{v: e.arena + off, label: fmt.Sprintf("arena+%#x", off)}
	case k < 50: // page-aligned in the arena
		off := uintptr(r.intn(arenaSize/pageSize)) * pageSize
		return val{v: e.arena + off, label: fmt.Sprintf("arena+%#x", off)}
	case k < 58: // ends exactly at the arena's end: a longer buffer runs into the guard
		off := arenaSize - uintptr(r.intn(64))
		return val{v: e.arena + off, label: fmt.Sprintf("arena+%#x(edge)", off)}
	case k < 62: // the guard below or above
		if r.chance(2) {
			return val{v: e.arena - pageSize, label: "guard-below", hostile: true}
		}
		return val{v: e.arena + arenaSize + uintptr(r.intn(guardSize)), label: "guard-above", hostile: true}
	case k < 66: // the fuzzer's own code: readable, never writable
		return val{v: e.text, label: "own-text", hostile: out}
	case k < 70:
		return val{v: 0, label: "nil", hostile: n > 0}
	case k < 74 && len(e.mmio) > 0: // its own device memory: never a buffer
		return val{v: pick(r, e.mmio), label: "own-mmio", hostile: true}
	case k < 92: // hostile on every kernel in the kernel half; in the task's on SimpleOS only
		h := pick(r, hostileAddrs[:])
		return val{v: h.a + uintptr(r.intn(4))*8*uintptr(r.intn(2)), label: h.label, hostile: h.a >= userTop || e.simpleos}
	default: // anywhere at all
		v := uintptr(r.next())
		return val{v: v, label: fmt.Sprintf("%#x", v), hostile: !inArena(e, v)}
	}
}

func inArena(e *env, v uintptr) bool { return v >= e.arena && v < e.arena+arenaSize }

// sizes are lengths worth trying.
var sizes = []uintptr{0, 1, 2, 7, 8, 15, 16, 31, 32, 33, 63, 64, 255, 256, 4095, 4096, 4097, 8191, 8192,
	65535, 65536, 1 << 20, 1<<31 - 1, 1 << 31, 1<<32 - 1, 1 << 32, 1 << 63, ^uintptr(0), ^uintptr(0) - 4095}

// size returns a length: a small one most of the time, an edge case otherwise.
func (g *gen) size() val {
	if g.r.chance(3) {
		return num(uintptr(g.r.intn(512)))
	}
	return num(pick(g.r, sizes))
}

// small returns a length that is cheap for the kernel to serve (console writes, copies).
func (g *gen) small() val { return num(uintptr(g.r.intn(64))) }

// fd returns a descriptor: one of the fuzzer's own (of kind k, or any), a console
// descriptor, one it closed (perhaps reused since), a runtime's (only when the call changes
// nothing: mutates=false), or one that names nothing.
func (g *gen) fd(k kind, mutates bool) val {
	e, r := g.e, g.r
	switch n := r.intn(100); {
	case n < 55:
		if fds := e.ownFDs(k); len(fds) > 0 {
			fd := pick(r, fds)
			return val{v: uintptr(fd), label: fmt.Sprintf("fd%d", fd)}
		}
	case n < 65 && len(e.closed) > 0:
		fd := pick(r, e.closed)
		return val{v: uintptr(fd), label: fmt.Sprintf("closed-fd%d", fd)}
	case n < 72 && !mutates:
		for try := 0; try < 8; try++ {
			if fd := r.intn(maxFD); e.runtimeFD[fd] {
				return val{v: uintptr(fd), label: fmt.Sprintf("runtime-fd%d", fd)}
			}
		}
	case n < 76 && !mutates:
		fd := r.intn(3)
		return val{v: uintptr(fd), label: fmt.Sprintf("console-fd%d", fd)}
	}
	if !mutates && r.chance(4) {
		v := uintptr(r.intn(maxFD)) // a number perhaps in use: only calls that change nothing
		return val{v: v, label: fmt.Sprintf("any-fd%d", v)}
	}
	return g.badFD()
}

// badFD returns a descriptor the fuzzer closed (and has not been given again) or one that
// names nothing: never one in use, which may be a blocking pipe's end or the runtime's.
func (g *gen) badFD() val {
	e, r := g.e, g.r
	if len(e.closed) > 0 && r.chance(3) {
		if fd := pick(r, e.closed); e.own[fd] == kNone && !e.runtimeFD[fd] {
			return val{v: uintptr(fd), label: fmt.Sprintf("closed-fd%d", fd)}
		}
	}
	v := pick(r, []uintptr{^uintptr(0), maxFD, 1000, 1 << 31, 1<<32 | 1000, 1 << 32, 1<<63 | 3})
	if !e.simpleos && uint32(v) <= maxFD {
		v = 1<<32 | 1000 // Linux reads a descriptor as 32 bits: 1<<32 is its stdin
	}
	return val{v: v, label: fmt.Sprintf("bad-fd%#x", v)}
}

// flags returns a combination of the known bits, sometimes with unknown ones.
func (g *gen) flags(known ...uintptr) val {
	var v uintptr
	for _, b := range known {
		if g.r.chance(2) {
			v |= b
		}
	}
	if g.r.chance(4) {
		v |= 1 << g.r.intn(64)
	}
	if g.r.chance(10) {
		v = uintptr(g.r.next())
	}
	return num(v)
}

// oneOf returns one of vs, or now and then anything.
func (g *gen) oneOf(vs ...uintptr) val {
	if g.r.chance(8) {
		return num(uintptr(g.r.next()))
	}
	return num(pick(g.r, vs))
}

// name returns a name argument (pointer, length) for an endpoint, event or content file:
// one the policy grants, one it does not, one of every bad shape.
func (g *gen) name(granted []string) (val, val) {
	e, r := g.e, g.r
	var s string
	switch n := r.intn(100); {
	case n < 45 && len(granted) > 0:
		s = pick(r, granted)
	case n < 60:
		s = pick(r, []string{"console", "content-update", "pipes", "core", "names", "pipe.created", "sensor.chan", "fuzz-r1", "fuzz-r2", "fuzz-r3", "bystander"})
	case n < 70:
		s = strings.Repeat("n", 31) + string(rune('a'+r.intn(3))) // 32 bytes
	case n < 75:
		s = strings.Repeat("n", 33)
	case n < 82:
		s = pick(r, []string{"Console", "con sole", "con\nsole", "\x00", "\xff\xfe", "a/b", ""})
	default:
		p := g.ptr(32, false)
		return p, g.size()
	}
	off := uintptr(r.intn(arenaSize - 64))
	copy(arenaBytes(e, off, len(s)), s)
	return val{v: e.arena + off, label: fmt.Sprintf("%q", s)}, num(uintptr(len(s)))
}

// timeout returns a timeout in ns for a call that would otherwise wait: short, never 0 (which
// means forever) unless forever is allowed.
func (g *gen) timeout(forever bool) val {
	if forever && g.r.chance(4) {
		return num(0)
	}
	return num(pick(g.r, []uintptr{1, 1000, 100_000, 1_000_000, 2_000_000}))
}

// timespec writes a struct timespec of at most max ns into the arena and returns it (or a
// pointer the kernel cannot read: never one to memory whose bytes read as a long time).
func (g *gen) timespec(max int64) val {
	if g.r.chance(5) { // never the arena or its own code: what they hold read as a time is years
		if !g.e.simpleos {
			return g.kernelAddr() // on Linux the fuzzer's own mappings may be anywhere below
		}
		h := pick(g.r, hostileAddrs)
		return val{v: h.a, label: h.label, hostile: true}
	}
	ns := int64(g.r.intn(int(max) + 1))
	sec, nsec := ns/1e9, ns%1e9
	if g.r.chance(10) {
		nsec = 1e9 + int64(g.r.intn(10)) // invalid
	}
	if g.r.chance(10) {
		sec = -1
	}
	off := uintptr(g.r.intn(arenaSize-16)) &^ 7
	g.e.word(off, uint64(sec))
	g.e.word(off+8, uint64(nsec))
	return val{v: g.e.arena + off, label: fmt.Sprintf("&timespec{%d,%d}", sec, nsec)}
}

// handle returns an IPC handle: one the fuzzer holds, its own endpoint's, a stale or forged
// one.
func (g *gen) handle() val {
	e, r := g.e, g.r
	switch n := r.intn(100); {
	case n < 50 && len(e.handles) > 0:
		h := pick(r, e.handles)
		return val{v: uintptr(h), label: fmt.Sprintf("handle%#x", h)}
	case n < 60 && e.served != 0:
		return val{v: uintptr(e.served), label: "own-endpoint"}
	case n < 75 && len(e.handles) > 0:
		h := pick(r, e.handles) + 1<<16 // a generation later: stale
		return val{v: uintptr(h), label: fmt.Sprintf("stale%#x", h)}
	}
	v := pick(r, []uintptr{0, ^uintptr(0), 63, 64, 0xffff, 1 << 16, 1<<16 | 63, uintptr(r.next())})
	return val{v: v, label: fmt.Sprintf("forged%#x", v)}
}

func arenaBytes(e *env, off uintptr, n int) []byte {
	return unsafeBytes(e.arena+off, n)
}
