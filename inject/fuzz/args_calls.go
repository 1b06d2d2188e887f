package fuzz

import (
	"fmt"
	"strings"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

// Argument generators for particular calls: each keeps the fuzzer's main thread from waiting
// forever or wrecking its own Go runtime, and leaves everything else to the kernel.

// choose returns one of vs, never anything else (for values that bound a wait).
func (g *gen) choose(vs ...uintptr) val { return num(pick(g.r, vs)) }

// readableFD returns a descriptor the main thread may read without waiting forever: its own
// non-blocking pipe ends, eventfds and epolls, a console descriptor, or a bad one.
func (g *gen) readableFD() val {
	e, r := g.e, g.r
	if r.chance(10) {
		return g.badFD()
	}
	var fds []int
	for fd, k := range e.own {
		if k != kNone && k != kConsole && (e.nonblock[fd] || k != kPipeR && (k != kEventfd || e.simpleos)) {
			fds = append(fds, fd) // Linux blocks on an empty eventfd; SimpleOS never does
		}
	}
	if len(fds) == 0 || r.chance(8) {
		return val{v: 0, label: "console-fd0"}
	}
	fd := pick(r, fds)
	return val{v: uintptr(fd), label: fmt.Sprintf("fd%d", fd)}
}

// writableFD is readableFD's counterpart for writes: a pipe's write end only when it does not
// block, and the console (1 or 2) now and then.
func (g *gen) writableFD() val {
	e, r := g.e, g.r
	if r.chance(10) {
		return g.badFD()
	}
	if r.chance(6) {
		fd := 1 + r.intn(2)
		return val{v: uintptr(fd), label: fmt.Sprintf("console-fd%d", fd)}
	}
	var fds []int
	for fd, k := range e.own {
		if k != kNone && k != kConsole && (e.nonblock[fd] || k != kPipeW && (k != kEventfd || e.simpleos)) {
			fds = append(fds, fd)
		}
	}
	if len(fds) == 0 {
		return val{v: 2, label: "console-fd2"}
	}
	fd := pick(r, fds)
	return val{v: uintptr(fd), label: fmt.Sprintf("fd%d", fd)}
}

// iovecs writes an array of struct iovec into the arena and returns it (or a hostile pointer
// for the array itself). For the console every length is short. The buffers are ones the
// kernel reads (writev) or writes (out: readv).
func (g *gen) iovecs(console, out bool) val {
	r := g.r
	if r.chance(6) {
		return g.ptr(16*16, false)
	}
	n := 1 + r.intn(16)
	off := uintptr(r.intn(arenaSize-16*16)) &^ 7
	for i := 0; i < n; i++ {
		size := g.size()
		if console {
			size = g.small()
		}
		base := g.ptr(size.v, out)
		g.e.word(off+uintptr(i)*16, uint64(base.v))
		g.e.word(off+uintptr(i)*16+8, uint64(size.v))
	}
	return val{v: g.e.arena + off, label: fmt.Sprintf("&iovec[%d]", n)}
}

// epollEvent writes a struct epoll_event (12 bytes, packed) into the arena.
func (g *gen) epollEvent() val {
	if g.r.chance(6) {
		return g.ptr(12, false)
	}
	off := uintptr(g.r.intn(arenaSize - 16))
	b := arenaBytes(g.e, off, 12)
	ev := g.flags(syscall.EPOLLIN, syscall.EPOLLOUT, syscall.EPOLLERR, syscall.EPOLLHUP, -syscall.EPOLLET&0xffffffff, syscall.EPOLLRDHUP).v
	data := g.r.next()
	for i := 0; i < 4; i++ {
		b[i] = byte(ev >> (8 * i))
	}
	for i := 0; i < 8; i++ {
		b[4+i] = byte(data >> (8 * i))
	}
	return val{v: g.e.arena + off, label: fmt.Sprintf("&epoll_event{%#x}", uint32(ev))}
}

// mapAddr returns an address for mmap, munmap, mprotect or madvise: inside the arena (the
// only memory of its own the fuzzer lets these calls change), a guard, or one the kernel
// must refuse. Never the fuzzer's code, heap or stacks. A hint (fixed=false) may be anything.
func (g *gen) mapAddr(fixed bool) val {
	e, r := g.e, g.r
	switch k := r.intn(100); {
	case k < 45:
		off := uintptr(r.intn(arenaSize/pageSize)) * pageSize
		if r.chance(10) {
			off += uintptr(1 + r.intn(pageSize-1)) // misaligned: EINVAL
		}
		return val{v: e.arena + off, label: fmt.Sprintf("arena+%#x", off)}
	case k < 52:
		return val{v: e.arena - guardSize, label: "guard-below"}
	case k < 60 && !fixed:
		return val{v: 0, label: "nil"}
	case k < 65 && !fixed:
		v := uintptr(r.next()) &^ (pageSize - 1)
		return val{v: v, label: fmt.Sprintf("hint%#x", v)}
	}
	h := pick(r, mapHostile)
	if !e.simpleos && h.where != everywhere {
		// On Linux these are the process's own addresses (the test binary's among them), and
		// as root even page zero is: the arena instead.
		off := uintptr(r.intn(arenaSize/pageSize)) * pageSize
		return val{v: e.arena + off, label: fmt.Sprintf("arena+%#x", off)}
	}
	return val{v: h.a, label: h.label, hostile: h.where.here(e)}
}

// mapHostile are addresses no mapping call may change, aligned as those calls want: the
// kernel half everywhere; page zero, the windows the kernel manages and the top page on
// SimpleOS (on Linux they are ordinary addresses); and the last page below a window or the top
// page, with a length that reaches into it (the page itself is the task's: the top of its
// stack, the runtime's memory).
var mapHostile = []struct {
	a     uintptr
	label string
	where hostility
}{
	{directMap, "directmap", everywhere}, {directMap + 0x20_0000, "directmap+core", everywhere}, {kernelStacks, "kstack", everywhere},
	{entryArea, "entry-area", everywhere}, {entryArea + 0x8000, "entry-stack", everywhere}, {userTop, "noncanonical", everywhere},
	{0xffff_7fff_ffff_f000, "noncanonical-top", everywhere}, {0, "page-zero", simpleOSOnly},
	{userLimit, "top-page", simpleOSOnly}, {mmioWindow, "mmio-window", simpleOSOnly}, {grantWindow, "grant-window", simpleOSOnly},
	{grantWindow + 0x20000, "grant-window+2", simpleOSOnly}, {windowsEnd - pageSize, "windows-end", simpleOSOnly},
	{userLimit - pageSize, "top-page-edge", crossing}, {mmioWindow - pageSize, "mmio-window-edge", crossing},
}

type hostility uint8

const (
	simpleOSOnly hostility = iota + 1
	everywhere
	crossing // on SimpleOS, with a length that crosses into what follows
)

func (h hostility) here(e *env) bool { return h == everywhere || h != 0 && e.simpleos }

// mapLen returns a length for a mapping call at addr. In the arena it ends at most at the end
// of the guard above it, unless it wraps or leaves the address space (the kernel must refuse
// those); anywhere else, anything.
func (g *gen) mapLen(addr val) val {
	e, r := g.e, g.r
	if !addr.hostile && addr.v >= e.arena-guardSize && addr.v < e.arena+arenaSize {
		room := e.arena + arenaSize + guardSize - addr.v
		k := r.intn(100)
		if !e.simpleos && k >= 85 {
			k = 0 // Linux's madvise goes on past the address space's holes: never a huge range there
		}
		switch {
		case k < 70:
			n := uintptr(1+r.intn(int(room/pageSize))) * pageSize
			if n > room {
				n = room
			}
			return num(n)
		case k < 80:
			return num(uintptr(1 + r.intn(int(room))))
		case k < 85:
			return num(0)
		default: // wraps past 2^64 or leaves the lower half
			return g.choose(^uintptr(0)-addr.v+1, ^uintptr(0)-addr.v+1+pageSize, 1<<63, ^uintptr(0)&^(pageSize-1), userTop-addr.v+pageSize)
		}
	}
	if strings.HasSuffix(addr.label, "-edge") { // into the window or the top page, never only the page below
		return num(uintptr(2+r.intn(16)) * pageSize)
	}
	if !addr.hostile && r.chance(2) {
		return num(uintptr(1+r.intn(64)) * pageSize) // a hint or a small mapping anywhere
	}
	return g.size()
}

// clone returns arguments of forms the kernel must refuse without starting a thread: no
// CLONE_VM|CLONE_THREAD (fork), a stack or TLS outside the lower half. (Threads that do run
// are the raw threads of race.go.)
func (g *gen) clone() []val {
	r := g.r
	flags := g.flags(cloneVM, cloneThrd, cloneSetTL, 0x100000, 0x200000, 0x1000000, syscall.CLONE_SIGHAND, syscall.CLONE_FILES)
	stack := g.kernelOrNil()
	tls := g.kernelOrNil()
	switch r.intn(3) {
	case 0: // a fork or a vfork: never both bits
		flags.v &^= cloneVM | cloneThrd
		flags.v |= pick(r, []uintptr{0, cloneVM, cloneThrd})
		flags.label = fmt.Sprintf("%#x", flags.v)
	case 1: // a thread on a stack it cannot have
		flags = num(flags.v | cloneVM | cloneThrd)
		if stack.v == 0 {
			stack = val{v: userTop, label: "noncanonical", hostile: true}
		}
	default: // a thread with a TLS base it cannot have
		flags = num(flags.v | cloneVM | cloneThrd | cloneSetTL)
		if tls.v == 0 {
			tls = val{v: directMap, label: "directmap", hostile: true}
		}
		if stack.v == 0 {
			stack = val{v: 0x8000_0000_0000_0000, label: "noncanonical-hi", hostile: true}
		}
	}
	if !g.e.simpleos { // Linux would start these; only forms it refuses
		flags = num(syscall.CLONE_THREAD) // CLONE_THREAD without CLONE_SIGHAND: EINVAL
	}
	return args(flags, stack, g.ptr(4, true), g.ptr(4, true), tls)
}

// futex returns a futex call that never waits long: a WAIT's timeout is a short one, never
// none; its word is in the arena or anywhere hostile.
func (g *gen) futex() []val {
	e, r := g.e, g.r
	op := g.oneOf(0, 1, 9, 10, 0|128, 1|128, 9|128|256, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13)
	var addr val
	switch k := r.intn(10); {
	case k < 6:
		off := uintptr(r.intn(arenaSize-8)) &^ 3
		if r.chance(10) {
			off |= 1 // misaligned
		}
		addr = val{v: e.arena + off, label: fmt.Sprintf("arena+%#x", off)}
	default:
		addr = g.ptr(4, false)
	}
	value := num(uintptr(r.intn(4)))
	if inArena(e, addr.v) && addr.v+4 <= e.arena+arenaSize && r.chance(2) {
		value = num(uintptr(*(*uint32)(ptrAt(addr.v &^ 3)))) // the word's value: WAIT really waits
	}
	ts := g.timespec(1_000_000)
	if ts.v == 0 {
		ts = val{v: ^uintptr(0), label: "last-word", hostile: true}
	}
	return args(addr, op, value, ts, g.ptr(4, false), num(uintptr(r.next())))
}

// hostileOrNil returns nil or an address no task can own memory at (the kernel half, the
// kernel-managed windows, the top page, the core image): for calls that store an address
// and use it later.
func (g *gen) hostileOrNil() val {
	if g.r.chance(3) {
		return val{v: 0, label: "nil"}
	}
	if !g.e.simpleos {
		return g.kernelAddr() // on Linux the fuzzer's own mappings may be anywhere below
	}
	h := pick(g.r, hostileAddrs)
	return val{v: h.a, label: h.label, hostile: true}
}

// kernelOrNil returns nil or an address outside the lower half: for calls that would load it
// into a register the task runs with (a stack, a TLS base).
func (g *gen) kernelOrNil() val {
	if g.r.chance(3) {
		return val{v: 0, label: "nil"}
	}
	return g.kernelAddr()
}

// kernelAddr returns an address outside the lower half.
func (g *gen) kernelAddr() val {
	for {
		h := pick(g.r, hostileAddrs)
		if h.a >= userTop {
			return val{v: h.a, label: h.label, hostile: true}
		}
	}
}

// clock returns a clock id: the ones Linux has, and some it does not.
func (g *gen) clock() val { return g.oneOf(0, 1, 2, 3, 4, 5, 6, 7, 11, 16, ^uintptr(0), 1<<31) }

// sigaction returns rt_sigaction's arguments: a new action only for signals the fuzzer can
// lose the Go handler of (the guard restores it after the call), and only SIG_DFL or SIG_IGN.
func (g *gen) sigaction() []val {
	r := g.r
	sig := g.oneOf(0, 1, 9, 11, 17, 19, 23, 28, 31, 32, 64, 65, 100)
	act := g.hostileOrNil()
	if harmlessSignal(sig.v) && sig.v != 0 && r.chance(2) {
		off := uintptr(r.intn(arenaSize-32)) &^ 7
		g.e.word(off, uint64(r.intn(2))) // SIG_DFL or SIG_IGN
		g.e.word(off+8, r.next())        // flags: anything
		g.e.word(off+16, uint64(g.hostileOrNil().v))
		g.e.word(off+24, r.next())
		act = val{v: g.e.arena + off, label: "&sigaction{dfl|ign}"}
	}
	return args(sig, act, g.ptr(32, true), g.oneOf(8, 8, 8, 0, 16))
}

func harmlessSignal(s uintptr) bool {
	for _, h := range harmless {
		if h == s {
			return true
		}
	}
	return false
}

// sigset writes a signal mask into the arena (the guard restores the thread's own after).
func (g *gen) sigset() val {
	if g.r.chance(5) {
		return g.ptr(8, false)
	}
	v := g.r.next()
	if g.r.chance(3) {
		v = ^uint64(0)
	}
	off := uintptr(g.r.intn(arenaSize-8)) &^ 7
	return val{v: g.e.word(off, v), label: fmt.Sprintf("&sigset{%#x}", v)}
}

// pid returns a process id: its own, none, every process, another task's, none at all. On
// Linux only its own and one that does not exist.
func (g *gen) pid() val {
	if !g.e.simpleos {
		return g.choose(uintptr(g.e.pid), 0x3fff_fff0)
	}
	return g.oneOf(uintptr(g.e.pid), uintptr(g.e.pid), 0, ^uintptr(0), 1, 2, 3, 4, 5, 6, 7, 8, 1<<31-1, 1<<31)
}

// tid returns a thread id: its main thread's, one of its raw threads' (alive or gone), a
// neighbour's. On Linux only its own.
func (g *gen) tid() val {
	e, r := g.e, g.r
	if tids := e.rawTids(); len(tids) > 0 && r.chance(3) {
		t := pick(r, tids)
		return val{v: uintptr(t), label: fmt.Sprintf("raw-tid%d", t)}
	}
	if !e.simpleos || r.chance(2) {
		return val{v: uintptr(e.tid), label: "own-tid"}
	}
	return g.oneOf(uintptr(e.tid+1), uintptr(e.tid-1), 1, 2, 0, ^uintptr(0), 200, 1<<31)
}

// signal returns a signal the fuzzer survives receiving.
func (g *gen) signal() val {
	if g.r.chance(10) {
		return g.choose(65, 1000, ^uintptr(0)) // not signals at all
	}
	return num(pick(g.r, harmless))
}

// message writes an IPC message into the arena and returns it: a label, four words, a forged
// badge, and a page grant of any shape (none, arena pages, the guard, the kernel half, its own
// device memory, misaligned, too many pages).
func (g *gen) message() val {
	e, r := g.e, g.r
	if r.chance(8) {
		return g.ptr(msgSize, false)
	}
	off := uintptr(r.intn(arenaSize-msgSize)) &^ 7
	e.word(off, r.next()%8) // the label: small, so that the eBPF filter on fuzz-r1 sees its 3
	for i := uintptr(1); i < 6; i++ {
		e.word(off+i*8, r.next()%1000)
	}
	ga, gp := g.grant()
	e.word(off+unsafe.Offsetof(abi.Message{}.GrantAddr), uint64(ga))
	e.word(off+unsafe.Offsetof(abi.Message{}.GrantPages), uint64(gp))
	return val{v: e.arena + off, label: fmt.Sprintf("&msg{grant %#x+%d}", ga, gp)}
}

// grant returns a page grant of any shape: none, arena pages, the guard, the kernel half, its
// own device memory, misaligned, too many pages.
func (g *gen) grant() (addr, pages uintptr) {
	e, r := g.e, g.r
	switch k := r.intn(10); {
	case k < 4:
	case k < 8:
		pages = uintptr(1 + r.intn(maxGrantPages))
		addr = e.arena + uintptr(r.intn(arenaSize/pageSize-int(pages)))*pageSize
	default:
		addr, pages = g.ptr(pageSize, false).v, pick(r, []uintptr{1, 2, maxGrantPages, maxGrantPages + 1, 1 << 20, ^uintptr(0)})
	}
	if r.chance(8) {
		pages |= abi.GrantWrite
	}
	if r.chance(8) { // bytes in IPC buffers instead: a count, sometimes past a page
		return pick(r, []uintptr{0, 1, 1024, abi.IPCBufferSize, abi.IPCBufferSize + 1, ^uintptr(0)}), abi.GrantBuffer
	}
	return addr, pages
}

// ipcBuffer returns ipc_buffer's argument: a page of the arena, none (0), or anything else a
// pointer may be.
func (g *gen) ipcBuffer() val {
	e, r := g.e, g.r
	switch r.intn(4) {
	case 0, 1:
		return val{v: e.arena + uintptr(r.intn(arenaSize/pageSize))*pageSize, label: "arena page"}
	case 2:
		return num(0)
	}
	return g.ptr(pageSize, true)
}

// regsMessage returns the arguments of a register-path IPC call (abi.SysIPCCallRegs): a
// handle, a label and four words in the six argument registers, then RBX (the timeout), R12
// and R13 (a grant of any shape).
func (g *gen) regsMessage() []val {
	r := g.r
	ga, gp := g.grant()
	return args(g.handle(), num(uintptr(r.next()%8)), num(uintptr(r.next()%1000)), num(uintptr(r.next())),
		num(uintptr(r.next()%1000)), num(^uintptr(0)), g.regsTimeout(),
		val{v: ga, label: fmt.Sprintf("grant%#x", ga)}, num(gp))
}

// regsTimeout is a register-path call's RBX: a timeout, one time in four with abi.IPCKeep (the
// call outlives its wait once a server has it).
func (g *gen) regsTimeout() val {
	t := g.timeout(false)
	if g.r.chance(4) {
		t = val{v: t.v | abi.IPCKeep, label: fmt.Sprintf("keep|%d", t.v)}
	}
	return t
}

const (
	msgSize       = abi.MessageSize
	maxGrantPages = abi.MaxGrantPages
	eventArgsSize = unsafe.Sizeof(abi.Event{}.Args) // event_post's arguments
)

// mmio returns mmio_map's arguments: its granted ranges whole, in part, past their end, and
// physical memory it was never granted (RAM, the core, the local APIC).
func (g *gen) mmio() []val {
	r := g.r
	var phys uintptr
	if len(g.e.cfg.MMIO) > 0 && r.chance(2) {
		m := pick(r, g.e.cfg.MMIO)
		phys = uintptr(m[0]) + uintptr(r.intn(2))*pageSize
	} else {
		phys = pick(r, []uintptr{0, 0x1000, coreImage, 0x10_0000, 0xfee0_0000, 0xfec0_0000, 0xfed0_1000, 0xfff_ffff_f000, ^uintptr(0) &^ 4095})
	}
	n := pick(r, []uintptr{pageSize, pageSize, 2 * pageSize, 0, 1, pageSize + 1, 1 << 20, ^uintptr(0) &^ 4095})
	return args(num(phys), num(n))
}

// granted reports whether [phys, phys+n) lies in one of the fuzzer's device-memory grants.
func (e *env) granted(phys, n uintptr) bool {
	for _, m := range e.cfg.MMIO {
		if phys >= uintptr(m[0]) && phys+n >= phys && phys+n <= uintptr(m[1]) {
			return true
		}
	}
	return false
}
