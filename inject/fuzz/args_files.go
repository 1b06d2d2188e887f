package fuzz

import (
	"fmt"
	"strings"

	"github.com/simpleos/simpleos/abi"
)

// Argument generators for the file calls (core/kernel/vfs, core/kernel/files): paths,
// directory descriptors, file descriptors, modes, offsets.
//
// On SimpleOS the file-system server decides what exists (without one every path is ENOENT,
// or EACCES outside the policy's files grants), and the fuzzer may name any path. On Linux
// the fuzzer runs in a directory of its own (fuzz_test.go), and a call that changes the file
// system (mutates) is given only relative paths without "..": whatever it creates, removes,
// renames or opens — a directory it may fchdir into, a file it may truncate — lies under that
// directory. Calls that only look (stat, access, readlink) may name anything.

// absPaths are paths under /tmp and /data (where a file-system server keeps files), the root,
// and ones whose clean form is another (dots, repeated slashes, a climb above the root).
var absPaths = []string{"/", "/tmp", "/tmp/f0", "/tmp/f1", "/tmp/d0", "/tmp/d0/f0", "/tmp/d0/d1", "/tmp/f0/x",
	"/data", "/data/f0", "/data/d0", "/data/d0/f1", "//tmp///f1/", "/tmp/./d0/..", "/tmp/../data/f0",
	"/../../tmp/f0", "/proc/self/exe"}

// relPaths are relative paths (to the working directory or a directory descriptor), names of
// odd bytes, and the longest component and one past it (255 and 256 bytes: ENAMETOOLONG).
var relPaths = []string{"f0", "f1", "d0", "d1", "d0/f0", "d0/d1", "d0/f0/x", ".", "./f0", "d0/", "d0/../f1", "F0",
	"f\xff", "f\nx", "f x", strings.Repeat("n", 255), strings.Repeat("n", 256)}

// upPaths climb: out of a directory, above the root (where SimpleOS stays at its root).
var upPaths = []string{"..", "../..", "../f0", "d0/../../f0", "../../../../../../tmp/f0"}

// longPaths are lengths around the core's limit (abi.FSPathMax, 1023 bytes) and Linux's
// (PATH_MAX, 4096 with the NUL), and past both.
var longPaths = []int{abi.FSPathMax, abi.FSPathMax + 1, 4095, 4096, 5000}

// path returns a path argument: a path written into the arena (absolute, relative, climbing,
// odd, long, straddling a page boundary), one that runs without a NUL into the guard above
// the arena, NULL, or an address no task can own memory at. mutates: the call may change the
// file system (confined on Linux, see above).
func (g *gen) path(mutates bool) val {
	e, r := g.e, g.r
	confined := mutates && !e.simpleos
	var s string
	switch k := r.intn(100); {
	case k < 30:
		s = pick(r, absPaths)
		if confined { // under the fuzzer's own directory: "/tmp/f0" is "tmp/f0"
			if s = strings.TrimLeft(s, "/"); strings.Contains(s, "..") {
				s = pick(r, relPaths)
			}
		}
	case k < 60:
		s = pick(r, relPaths)
	case k < 66:
		s = pick(r, upPaths)
		if confined {
			s = pick(r, relPaths)
		}
	case k < 72:
		s = ""
	case k < 78: // long: components that exist nowhere, or "./" that clean to "f0" (Linux takes 4095 bytes)
		n := pick(r, longPaths)
		unit := pick(r, []string{"d0/", "./", "a"})
		s = strings.Repeat(unit, n/len(unit)+1)[:n-2] + "f0"
		off := uintptr(r.intn(arenaSize - n - 1))
		copy(arenaBytes(e, off, n), s)
		arenaBytes(e, off+uintptr(n), 1)[0] = 0
		return val{v: e.arena + off, label: fmt.Sprintf("long-path[%d]", n)}
	case k < 84: // no NUL before the guard: the kernel must fault, not read on
		n := 1 + r.intn(64)
		b := arenaBytes(e, arenaSize-uintptr(n), n)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		return val{v: e.arena + arenaSize - uintptr(n), label: fmt.Sprintf("unterminated[%d]", n)}
	case k < 90:
		return val{v: 0, label: "nil", hostile: true}
	case k < 93:
		if r.chance(2) {
			return val{v: e.arena - pageSize, label: "guard-below", hostile: true}
		}
		return val{v: e.arena + arenaSize + uintptr(r.intn(guardSize)), label: "guard-above", hostile: true}
	default:
		if confined {
			return g.kernelAddr() // on Linux the lower half's "hostile" addresses may be mapped
		}
		h := pick(r, hostileAddrs)
		return val{v: h.a, label: h.label, hostile: h.a >= userTop || e.simpleos}
	}
	n := len(s) + 1
	var off uintptr
	if r.chance(4) { // across a page boundary
		page := 1 + uintptr(r.intn(arenaSize/pageSize-1))
		off = page*pageSize - uintptr(r.intn(n))
	} else {
		off = uintptr(r.intn(arenaSize - n))
	}
	b := arenaBytes(e, off, n)
	copy(b, s)
	b[n-1] = 0
	return val{v: e.arena + off, label: fmt.Sprintf("%q", s)}
}

// dirFD returns a directory descriptor for an *at call: AT_FDCWD (as a 64-bit -100 and as a
// 32-bit one with nothing above it, which the kernel reads as an int), one of the fuzzer's
// files (a directory, or a file: ENOTDIR), a pipe, a closed or bad one.
func (g *gen) dirFD(mutates bool) val {
	r := g.r
	switch k := r.intn(100); {
	case k < 45:
		return val{v: atFDCWD, label: "AT_FDCWD"}
	case k < 50:
		return val{v: atFDCWD & 0xffff_ffff, label: "AT_FDCWD32"}
	case k < 85:
		return g.fileFD(mutates)
	}
	return g.fd(kNone, mutates)
}

// fileFD returns a descriptor for a call on a file: mostly one the fuzzer opened, else any
// of its own (a pipe: ESPIPE, EINVAL, ENOTDIR), a closed or bad one; never the runtime's or
// the console's when the call changes what it names.
func (g *gen) fileFD(mutates bool) val {
	if g.r.intn(100) < 60 {
		if fds := g.e.ownFDs(kFile); len(fds) > 0 {
			fd := pick(g.r, fds)
			return val{v: uintptr(fd), label: fmt.Sprintf("fd%d", fd)}
		}
	}
	return g.fd(kNone, mutates)
}

// dupFD returns the descriptor dup, dup2 and dup3 duplicate: the fuzzer's own (every kind:
// SimpleOS refuses epoll and eventfd descriptors), a console one on SimpleOS, a closed or bad
// one. Never the runtime's, and never the console on Linux (the test's own output there).
func (g *gen) dupFD() val {
	if g.e.simpleos && g.r.chance(8) {
		fd := g.r.intn(3)
		return val{v: uintptr(fd), label: fmt.Sprintf("console-fd%d", fd)}
	}
	return g.fd(kNone, true)
}

// newFD returns the descriptor dup2 and dup3 make: one of the fuzzer's own (closed first),
// a free number, a closed or bad one. Never the runtime's or the console's, which it would
// close.
func (g *gen) newFD() val {
	e, r := g.e, g.r
	if r.chance(3) {
		for try := 0; try < 8; try++ {
			if fd := 3 + r.intn(maxFD-3); !e.runtimeFD[fd] && e.own[fd] == kNone {
				return val{v: uintptr(fd), label: fmt.Sprintf("free-fd%d", fd)}
			}
		}
	}
	return g.fd(kNone, true)
}

// mode returns a file mode: ordinary ones, none, every bit, a file type's bits. On Linux the
// owner keeps rwx, so that the test can remove what the fuzzer made.
func (g *gen) mode() val {
	m := g.oneOf(0o644, 0o755, 0o600, 0o777, 0, 0o7777, 0o170777, 0o4755)
	if !g.e.simpleos && m.v&0o700 != 0o700 {
		m = num(m.v | 0o700)
	}
	return m
}

// offset returns a file offset: the start, page edges, past 2 and 4 GiB, the largest, and
// negative ones (EINVAL).
func (g *gen) offset() val {
	if g.r.chance(3) {
		return num(uintptr(g.r.intn(8192)))
	}
	return g.oneOf(0, 1, 4095, 4096, 4097, 1<<20, 1<<31, 1<<32, 1<<40, 1<<62, 1<<63-1, 1<<63, ^uintptr(0), ^uintptr(0)-4095)
}

// utimes writes utimensat's two timespecs into the arena: times, UTIME_NOW, UTIME_OMIT,
// invalid nanoseconds; or a pointer the kernel cannot read, or NULL (now).
func (g *gen) utimes() val {
	if g.r.chance(5) {
		return g.ptr(32, false)
	}
	const utimeNow, utimeOmit = 1<<30 - 1, 1<<30 - 2
	off := uintptr(g.r.intn(arenaSize-32)) &^ 7
	for i := uintptr(0); i < 2; i++ {
		g.e.word(off+16*i, uint64(g.r.intn(1<<31)))
		g.e.word(off+16*i+8, uint64(pick(g.r, []int64{0, 999_999_999, utimeNow, utimeOmit, 1e9, -1})))
	}
	return val{v: g.e.arena + off, label: "&timespec[2]"}
}

const atFDCWD = ^uintptr(-abi.AT_FDCWD - 1) // -100
