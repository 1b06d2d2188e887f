package fuzz

import (
	"syscall"

	"github.com/simpleos/simpleos/abi"
)

// Call describes one system call: how to generate its arguments and what its result tells.
type Call struct {
	Name string
	Nr   uintptr
	// gen returns the arguments (at most six; nine for a call with regs).
	gen func(g *gen) []val
	// regs marks a call of the IPC register path, whose arguments go on past the six system-call
	// registers: the seventh to ninth in RBX, R12 and R13 (rawSyscallRegs).
	regs bool
	// bufs are the buffers the kernel reads or writes when the call succeeds: a hostile one
	// there is a breach.
	bufs []buf
	// after tracks what a successful call made or undid (may be nil).
	after func(e *env, a []val, r uintptr)
	// arena marks calls that may change the arena's mappings: the fuzzer repairs it after.
	arena bool
	// names, for calls whose first two arguments are a name: the names the policy grants
	// (success for any other is a breach).
	names func(c *Config) []string
	// check judges a successful call's result ("" if it is one a correct kernel may give).
	check func(e *env, a []val, r uintptr) string
	// guard runs before the call and returns what undoes the call's effect on the fuzzer's
	// own thread (a signal mask, a handler) right after it.
	guard func(e *env, a []val) func()
	// hostWide marks calls whose effect on Linux reaches past the fuzzer's process (sync
	// writes out every file system of the host): made on SimpleOS only.
	hostWide bool
}

// simpleOSOnly reports whether the call is one of SimpleOS's own (ENOSYS on Linux).
func (c *Call) simpleOSOnly() bool { return c.Nr >= abi.SimpleOSFirst && c.Nr <= abi.SimpleOSLast }

// buf says that argument arg is a buffer the call touches when it succeeds: of lenArg's
// value bytes (or fixed bytes), touched when the result is positive (countResult) or when it
// is not an error. A nil pointer is allowed for optional buffers.
type buf struct {
	arg         int
	fixed       uintptr
	lenArg      int
	countResult bool
	optional    bool
}

func args(vs ...val) []val { return vs }

// Signals the fuzzer may send itself or change the handling of: none whose default action, or
// whose Go handler, ends the task.
var harmless = []uintptr{0, uintptr(syscall.SIGURG), uintptr(syscall.SIGWINCH), uintptr(syscall.SIGCHLD), uintptr(syscall.SIGPIPE), uintptr(syscall.SIGPROF)}

const (
	oNonblock  = syscall.O_NONBLOCK
	fSetFL     = syscall.F_SETFL
	cloneVM    = 0x100
	cloneThrd  = 0x10000
	cloneSetTL = 0x80000
)

// dupToMade records the descriptor dup2 or dup3 made: the one it replaced, if the fuzzer's,
// is gone (unless it was the old one itself).
func dupToMade(e *env, a []val, r uintptr) {
	if a[0].v != r {
		e.dupMade(int(a[0].v), int(r))
	}
}

// Calls is every system call SimpleOS serves, and some it does not.
var Calls = []Call{
	// Files, pipes, epoll, eventfd.
	{Name: "read", Nr: syscall.SYS_READ, gen: func(g *gen) []val {
		return args(g.readableFD(), g.ptr(4096, true), g.size())
	}, bufs: []buf{{arg: 1, lenArg: 2, countResult: true}}},
	{Name: "write", Nr: syscall.SYS_WRITE, gen: func(g *gen) []val {
		fd := g.writableFD()
		n := g.size()
		if fd.v < 3 {
			n = g.small() // the console: short, printable
		}
		return args(fd, g.ptr(n.v, false), n)
	}, bufs: []buf{{arg: 1, lenArg: 2, countResult: true}}},
	{Name: "writev", Nr: syscall.SYS_WRITEV, gen: func(g *gen) []val {
		fd := g.writableFD()
		return args(fd, g.iovecs(fd.v < 3, false), g.oneOf(0, 1, 2, 3, 16, 1024, 1025, 1<<31))
	}},
	// open and openat make the files the file calls below use (on SimpleOS only when a
	// file-system server runs and the policy grants the path: else ENOENT or EACCES).
	{Name: "open", Nr: syscall.SYS_OPEN, gen: func(g *gen) []val {
		return args(g.path(true), g.flags(syscall.O_RDWR, syscall.O_CREAT, syscall.O_EXCL, syscall.O_TRUNC, syscall.O_DIRECTORY), g.mode())
	}, bufs: []buf{{arg: 0, fixed: 1}}, after: func(e *env, a []val, r uintptr) { e.made(int(r), kFile) }},
	{Name: "openat", Nr: syscall.SYS_OPENAT, gen: func(g *gen) []val {
		return args(g.dirFD(true), g.path(true), g.flags(syscall.O_RDWR, syscall.O_CREAT, syscall.O_CLOEXEC, syscall.O_DIRECTORY, syscall.O_APPEND, oNonblock), g.mode())
	}, bufs: []buf{{arg: 1, fixed: 1}}, after: func(e *env, a []val, r uintptr) { e.made(int(r), kFile) }},
	{Name: "close", Nr: syscall.SYS_CLOSE, gen: func(g *gen) []val { return args(g.fd(kNone, true)) },
		after: func(e *env, a []val, r uintptr) { e.forget(int(a[0].v)) }},
	{Name: "fstat", Nr: syscall.SYS_FSTAT, gen: func(g *gen) []val { return args(g.fd(kNone, false), g.ptr(144, true)) },
		bufs: []buf{{arg: 1, fixed: 144}}},
	{Name: "fcntl", Nr: syscall.SYS_FCNTL, gen: func(g *gen) []val {
		cmd := g.oneOf(syscall.F_GETFD, syscall.F_SETFD, syscall.F_GETFL, fSetFL, syscall.F_DUPFD, 1030, 9999)
		return args(g.fd(kNone, cmd.v == fSetFL || cmd.v == syscall.F_SETFD), cmd, g.flags(oNonblock, syscall.O_APPEND))
	}, after: func(e *env, a []val, r uintptr) {
		if a[1].v == fSetFL && a[0].v < maxFD {
			e.setNonblock(int(a[0].v), a[2].v&oNonblock != 0)
		}
		if a[1].v == syscall.F_DUPFD || a[1].v == 1030 {
			e.dupMade(int(a[0].v), int(r))
		}
	}},
	{Name: "ioctl", Nr: syscall.SYS_IOCTL, gen: func(g *gen) []val {
		return args(g.fd(kNone, false), g.oneOf(syscall.TCGETS, syscall.TIOCGWINSZ, 0x541b, 0), g.ptr(64, true))
	}},
	{Name: "pipe", Nr: syscall.SYS_PIPE, gen: func(g *gen) []val { return args(g.ptr(8, true)) },
		bufs: []buf{{arg: 0, fixed: 8}}, after: func(e *env, a []val, r uintptr) { e.pipeMade(a[0].v, false) }},
	{Name: "pipe2", Nr: syscall.SYS_PIPE2, gen: func(g *gen) []val {
		return args(g.ptr(8, true), g.flags(oNonblock, oNonblock, syscall.O_CLOEXEC))
	}, bufs: []buf{{arg: 0, fixed: 8}}, after: func(e *env, a []val, r uintptr) { e.pipeMade(a[0].v, a[1].v&oNonblock != 0) }},
	{Name: "eventfd", Nr: syscall.SYS_EVENTFD, gen: func(g *gen) []val { return args(g.oneOf(0, 1, 1<<32-1)) },
		after: func(e *env, a []val, r uintptr) { e.made(int(r), kEventfd) }},
	{Name: "eventfd2", Nr: syscall.SYS_EVENTFD2, gen: func(g *gen) []val {
		return args(g.oneOf(0, 1, 7), g.flags(oNonblock, syscall.O_CLOEXEC, 1))
	}, after: func(e *env, a []val, r uintptr) {
		e.made(int(r), kEventfd)
		e.nonblock[r%maxFD] = a[1].v&oNonblock != 0
	}},
	{Name: "epoll_create", Nr: syscall.SYS_EPOLL_CREATE, gen: func(g *gen) []val { return args(g.oneOf(1, 0, 1<<31)) },
		after: func(e *env, a []val, r uintptr) { e.made(int(r), kEpoll) }},
	{Name: "epoll_create1", Nr: syscall.SYS_EPOLL_CREATE1, gen: func(g *gen) []val { return args(g.flags(syscall.O_CLOEXEC)) },
		after: func(e *env, a []val, r uintptr) { e.made(int(r), kEpoll) }},
	{Name: "epoll_ctl", Nr: syscall.SYS_EPOLL_CTL, gen: func(g *gen) []val {
		return args(g.fd(kEpoll, true), g.oneOf(1, 2, 3, 0, 4), g.fd(kNone, false), g.epollEvent())
	}},
	{Name: "epoll_wait", Nr: syscall.SYS_EPOLL_WAIT, gen: func(g *gen) []val {
		return args(g.fd(kEpoll, true), g.ptr(12*16, true), g.oneOf(1, 16, 0, 1<<31, ^uintptr(0)), g.choose(0, 0, 1))
	}, bufs: []buf{{arg: 1, fixed: 12, countResult: true}}},
	{Name: "epoll_pwait", Nr: syscall.SYS_EPOLL_PWAIT, gen: func(g *gen) []val {
		return args(g.fd(kEpoll, true), g.ptr(12*16, true), g.oneOf(1, 16, 0), g.choose(0, 1), g.ptr(8, false), num(8))
	}, bufs: []buf{{arg: 1, fixed: 12, countResult: true}}},

	// Files on a file system (core/kernel/vfs, behind package files for descriptors): the
	// core resolves paths and forwards each call to the file-system server. Without one,
	// paths are ENOENT (EACCES outside the policy's files grants, which the fuzzers have none
	// of), descriptors of files never exist, and only the calls that need no server (getcwd,
	// umask, dup, the stubs) succeed; with one, the server decides. Whatever it decides, a
	// path or buffer no task can own is never read or written (bufs: a path argument's first
	// byte is read by any success), and a descriptor that names nothing is EBADF.
	{Name: "stat", Nr: abi.SysStat, gen: func(g *gen) []val { return args(g.path(false), g.ptr(144, true)) },
		bufs: []buf{{arg: 0, fixed: 1}, {arg: 1, fixed: 144}}},
	{Name: "lstat", Nr: abi.SysLstat, gen: func(g *gen) []val { return args(g.path(false), g.ptr(144, true)) },
		bufs: []buf{{arg: 0, fixed: 1}, {arg: 1, fixed: 144}}},
	{Name: "newfstatat", Nr: syscall.SYS_NEWFSTATAT, gen: func(g *gen) []val {
		return args(g.dirFD(false), g.path(false), g.ptr(144, true), g.flags(abi.AT_EMPTY_PATH, abi.AT_SYMLINK_NOFOLLOW))
	}, bufs: []buf{{arg: 1, fixed: 1, optional: true}, {arg: 2, fixed: 144}}}, // NULL with AT_EMPTY_PATH is ""
	{Name: "statx", Nr: abi.SysStatx, gen: func(g *gen) []val {
		return args(g.dirFD(false), g.path(false), g.flags(abi.AT_EMPTY_PATH, abi.AT_SYMLINK_NOFOLLOW, 0x800, 0x2000),
			g.oneOf(0x7ff, 0xfff, 0, 1, ^uintptr(0), 0x8000_0000), g.ptr(256, true))
	}, bufs: []buf{{arg: 1, fixed: 1, optional: true}, {arg: 4, fixed: 256}}},
	{Name: "access", Nr: abi.SysAccess, gen: func(g *gen) []val { return args(g.path(false), g.oneOf(0, 1, 2, 4, 6, 7, 8)) },
		bufs: []buf{{arg: 0, fixed: 1}}},
	{Name: "faccessat", Nr: abi.SysFaccessat, gen: func(g *gen) []val {
		return args(g.dirFD(false), g.path(false), g.oneOf(0, 1, 2, 4, 6, 7, 8))
	}, bufs: []buf{{arg: 1, fixed: 1}}},
	{Name: "faccessat2", Nr: abi.SysFaccessat2, gen: func(g *gen) []val { // SimpleOS ignores the flags
		return args(g.dirFD(false), g.path(false), g.oneOf(0, 1, 2, 4, 6, 7, 8), g.flags(abi.AT_EACCESS, abi.AT_SYMLINK_NOFOLLOW, abi.AT_EMPTY_PATH))
	}, bufs: []buf{{arg: 1, fixed: 1, optional: true}}},
	// No symbolic links on SimpleOS: readlink of anything that exists is EINVAL, and nothing is
	// ever written to the buffer. Linux reads links it has (/proc/self/exe) into it.
	{Name: "readlink", Nr: abi.SysReadlink, gen: func(g *gen) []val {
		n := g.size()
		return args(g.path(false), g.ptr(n.v, true), n)
	}, bufs: []buf{{arg: 0, fixed: 1}, {arg: 1, lenArg: 2, countResult: true}}, check: within(2)},
	{Name: "readlinkat", Nr: abi.SysReadlinkat, gen: func(g *gen) []val {
		n := g.size()
		return args(g.dirFD(false), g.path(false), g.ptr(n.v, true), n)
	}, bufs: []buf{{arg: 1, fixed: 1}, {arg: 2, lenArg: 3, countResult: true}}, check: within(3)},
	{Name: "creat", Nr: abi.SysCreat, gen: func(g *gen) []val { return args(g.path(true), g.mode()) },
		bufs: []buf{{arg: 0, fixed: 1}}, after: func(e *env, a []val, r uintptr) { e.made(int(r), kFile) }},
	{Name: "mkdir", Nr: abi.SysMkdir, gen: func(g *gen) []val { return args(g.path(true), g.mode()) },
		bufs: []buf{{arg: 0, fixed: 1}}},
	{Name: "mkdirat", Nr: abi.SysMkdirat, gen: func(g *gen) []val { return args(g.dirFD(true), g.path(true), g.mode()) },
		bufs: []buf{{arg: 1, fixed: 1}}},
	{Name: "rmdir", Nr: abi.SysRmdir, gen: func(g *gen) []val { return args(g.path(true)) }, bufs: []buf{{arg: 0, fixed: 1}}},
	{Name: "unlink", Nr: abi.SysUnlink, gen: func(g *gen) []val { return args(g.path(true)) }, bufs: []buf{{arg: 0, fixed: 1}}},
	{Name: "unlinkat", Nr: abi.SysUnlinkat, gen: func(g *gen) []val { // flags but AT_REMOVEDIR: EINVAL
		return args(g.dirFD(true), g.path(true), g.flags(abi.AT_REMOVEDIR))
	}, bufs: []buf{{arg: 1, fixed: 1}}},
	{Name: "rename", Nr: abi.SysRename, gen: func(g *gen) []val { return args(g.path(true), g.path(true)) },
		bufs: []buf{{arg: 0, fixed: 1}, {arg: 1, fixed: 1}}},
	{Name: "renameat", Nr: abi.SysRenameat, gen: func(g *gen) []val {
		return args(g.dirFD(true), g.path(true), g.dirFD(true), g.path(true))
	}, bufs: []buf{{arg: 1, fixed: 1}, {arg: 3, fixed: 1}}},
	{Name: "renameat2", Nr: abi.SysRenameat2, gen: func(g *gen) []val { // SimpleOS: RENAME_NOREPLACE only, the rest EINVAL
		return args(g.dirFD(true), g.path(true), g.dirFD(true), g.path(true), g.flags(abi.RENAME_NOREPLACE, abi.RENAME_EXCHANGE, 4))
	}, bufs: []buf{{arg: 1, fixed: 1}, {arg: 3, fixed: 1}}},
	{Name: "truncate", Nr: abi.SysTruncate, gen: func(g *gen) []val { return args(g.path(true), g.offset()) }, // ENOSYS on SimpleOS
		bufs: []buf{{arg: 0, fixed: 1}}},
	// chmod, fchmodat and utimensat are stubs on SimpleOS (0 whatever the arguments: FAT keeps
	// neither permissions nor times set this way), so their paths are not judged.
	{Name: "chmod", Nr: abi.SysChmod, gen: func(g *gen) []val { return args(g.path(true), g.mode()) }},
	{Name: "fchmodat", Nr: abi.SysFchmodat, gen: func(g *gen) []val {
		return args(g.dirFD(true), g.path(true), g.mode(), g.flags(abi.AT_SYMLINK_NOFOLLOW))
	}},
	{Name: "utimensat", Nr: abi.SysUtimensat, gen: func(g *gen) []val { // a NULL path: the descriptor itself
		return args(g.dirFD(true), g.path(true), g.utimes(), g.flags(abi.AT_SYMLINK_NOFOLLOW, abi.AT_EMPTY_PATH))
	}},
	// The working directory: chdir resolves against it, getcwd reports it in the task's view
	// (its root is "/"); restore goes back to the first one after each batch.
	{Name: "getcwd", Nr: abi.SysGetcwd, gen: func(g *gen) []val {
		n := g.choose(0, 1, 2, 16, 255, 4096, 4097, 1<<31, ^uintptr(0))
		return args(g.ptr(min(n.v, 4096), true), n)
	}, bufs: []buf{{arg: 0, lenArg: 1, countResult: true}}, check: checkGetcwd},
	{Name: "chdir", Nr: abi.SysChdir, gen: func(g *gen) []val { return args(g.path(true)) }, bufs: []buf{{arg: 0, fixed: 1}},
		after: func(e *env, a []val, r uintptr) { e.cwdMoved = true }},
	{Name: "fchdir", Nr: abi.SysFchdir, gen: func(g *gen) []val { return args(g.fileFD(true)) }, check: liveFD(0),
		after: func(e *env, a []val, r uintptr) { e.cwdMoved = true }},
	{Name: "umask", Nr: abi.SysUmask, gen: func(g *gen) []val { // SimpleOS: 0o022 whatever is asked
		m := g.oneOf(0o022, 0, 0o077, 0o777, 0o7777, ^uintptr(0))
		if !g.e.simpleos { // the owner keeps rwx on what the fuzzer makes, for the test to remove
			m = num(m.v &^ 0o700)
		}
		return args(m)
	}, check: checkUmask},

	// Descriptors of files. Reads and writes of files go to the server with the buffer lent as
	// a page grant (a hostile one must fail before); pipes and the console have no offsets
	// (ESPIPE); a directory is EISDIR.
	{Name: "lseek", Nr: abi.SysLseek, gen: func(g *gen) []val { // never the console's: on Linux it may be the test's output file
		return args(g.fileFD(true), g.offset(), g.oneOf(0, 1, 2, 3, 4, 5))
	}, check: checks(liveFD(0), checkLseek)},
	{Name: "pread64", Nr: abi.SysPread64, gen: func(g *gen) []val {
		n := g.size()
		return args(g.fileFD(false), g.ptr(n.v, true), n, g.offset())
	}, bufs: []buf{{arg: 1, lenArg: 2, countResult: true}}, check: checks(liveFD(0), within(2))},
	{Name: "pwrite64", Nr: abi.SysPwrite64, gen: func(g *gen) []val {
		n := g.size()
		return args(g.fileFD(true), g.ptr(n.v, false), n, g.offset())
	}, bufs: []buf{{arg: 1, lenArg: 2, countResult: true}}, check: checks(liveFD(0), within(2))},
	// readv: SimpleOS reads into the first non-empty buffer only (a short read). The array
	// itself is read by any read of a byte.
	{Name: "readv", Nr: abi.SysReadv, gen: func(g *gen) []val {
		return args(g.readableFD(), g.iovecs(false, true), g.oneOf(0, 1, 2, 3, 16, 1024, 1025, 1<<31))
	}, bufs: []buf{{arg: 1, fixed: 16, countResult: true}}, check: liveFD(0)},
	{Name: "getdents64", Nr: abi.SysGetdents64, gen: func(g *gen) []val {
		n := g.size()
		return args(g.fileFD(false), g.ptr(n.v, true), n)
	}, bufs: []buf{{arg: 1, lenArg: 2, countResult: true}}, check: checks(liveFD(0), within(2))},
	{Name: "ftruncate", Nr: abi.SysFtruncate, gen: func(g *gen) []val { return args(g.fileFD(true), g.offset()) }, check: liveFD(0)},
	{Name: "fsync", Nr: abi.SysFsync, gen: func(g *gen) []val { return args(g.fileFD(false)) }, check: liveFD(0)},
	{Name: "fdatasync", Nr: abi.SysFdatasync, gen: func(g *gen) []val { return args(g.fileFD(false)) }, check: liveFD(0)},
	{Name: "sync", Nr: abi.SysSync, gen: func(g *gen) []val { return nil }, hostWide: true},
	// fchmod and fadvise64 are stubs on SimpleOS (0 for any descriptor); fallocate is
	// EOPNOTSUPP. On Linux fallocate reserves real blocks: never more than a MiB there.
	{Name: "fchmod", Nr: abi.SysFchmod, gen: func(g *gen) []val { return args(g.fileFD(true), g.mode()) }},
	{Name: "fadvise64", Nr: abi.SysFadvise64, gen: func(g *gen) []val {
		return args(g.fileFD(false), g.offset(), g.offset(), g.oneOf(0, 1, 2, 3, 4, 5, 6, 100))
	}},
	{Name: "fallocate", Nr: abi.SysFallocate, gen: func(g *gen) []val {
		off, n := g.offset(), g.offset()
		if !g.e.simpleos && n.v > 1<<20 && n.v < 1<<63 && off.v < 1<<63 {
			n = num(n.v & (1<<20 - 1))
		}
		return args(g.fileFD(true), g.flags(1, 2, 0x8, 0x10, 0x20), off, n)
	}},
	// dup, dup2 and dup3 make descriptors of the kind they copy (SimpleOS: files, pipes and
	// the console; EINVAL for epoll and eventfd), sharing its description; dup2 and dup3
	// close the new one first if it is open.
	{Name: "dup", Nr: abi.SysDup, gen: func(g *gen) []val { return args(g.dupFD()) }, check: checks(liveFD(0), checkDup),
		after: func(e *env, a []val, r uintptr) { e.dupMade(int(a[0].v), int(r)) }},
	{Name: "dup2", Nr: abi.SysDup2, gen: func(g *gen) []val { return args(g.dupFD(), g.newFD()) },
		check: checks(liveFD(0), checkDupTo(false)), after: dupToMade},
	{Name: "dup3", Nr: abi.SysDup3, gen: func(g *gen) []val { return args(g.dupFD(), g.newFD(), g.flags(syscall.O_CLOEXEC)) },
		check: checks(liveFD(0), checkDupTo(true)), after: dupToMade},

	// Memory: valid addresses only inside the arena (the fuzzer's own Go heap is not its
	// victim); hostile ones anywhere.
	{Name: "mmap", Nr: syscall.SYS_MMAP, gen: func(g *gen) []val {
		flags := g.flags(syscall.MAP_PRIVATE, syscall.MAP_SHARED, syscall.MAP_ANON, syscall.MAP_ANON, syscall.MAP_FIXED, 0x100000)
		addr := g.mapAddr(flags.v&(syscall.MAP_FIXED|mapFixedNoreplace) != 0)
		return args(addr, g.mapLen(addr), g.flags(syscall.PROT_READ, syscall.PROT_WRITE, syscall.PROT_EXEC), flags, g.oneOf(^uintptr(0), 3), num(0))
	}, arena: true, after: func(e *env, a []val, r uintptr) { e.mappedAt(a, r) }, check: checkMmap},
	{Name: "munmap", Nr: syscall.SYS_MUNMAP, gen: func(g *gen) []val { a := g.mapAddr(true); return args(a, g.mapLen(a)) }, arena: true, check: checkRange,
		after: func(e *env, a []val, r uintptr) { e.unmapped(a[0].v, a[1].v) }},
	{Name: "mprotect", Nr: syscall.SYS_MPROTECT, gen: func(g *gen) []val {
		a := g.mapAddr(true)
		return args(a, g.mapLen(a), g.flags(syscall.PROT_READ, syscall.PROT_WRITE, syscall.PROT_EXEC))
	}, arena: true, check: checkRange},
	{Name: "madvise", Nr: syscall.SYS_MADVISE, gen: func(g *gen) []val {
		a := g.mapAddr(true)
		advice := g.oneOf(4, 8, 0, 1, 2, 3, 100, 101)
		if !g.e.simpleos { // never MADV_HWPOISON or MADV_SOFT_OFFLINE on a Linux host (as root they take frames out of use)
			advice = g.choose(4, 8, 0, 1, 2, 3, 9, 10, 11)
		}
		return args(a, g.mapLen(a), advice)
	}, arena: true, check: checkRange},
	{Name: "brk", Nr: syscall.SYS_BRK, gen: func(g *gen) []val { return args(g.ptr(0, false)) }},

	// Threads and futexes.
	{Name: "clone", Nr: syscall.SYS_CLONE, gen: func(g *gen) []val { return g.clone() }},
	{Name: "futex", Nr: syscall.SYS_FUTEX, gen: func(g *gen) []val { return g.futex() }},
	{Name: "sched_yield", Nr: syscall.SYS_SCHED_YIELD, gen: func(g *gen) []val { return nil }},
	{Name: "gettid", Nr: syscall.SYS_GETTID, gen: func(g *gen) []val { return nil }},
	{Name: "set_tid_address", Nr: syscall.SYS_SET_TID_ADDRESS, gen: func(g *gen) []val { return args(g.hostileOrNil()) }},
	{Name: "set_robust_list", Nr: syscall.SYS_SET_ROBUST_LIST, gen: func(g *gen) []val { return args(g.ptr(24, false), g.oneOf(24, 0, 1)) }},

	// Time.
	{Name: "clock_gettime", Nr: syscall.SYS_CLOCK_GETTIME, gen: func(g *gen) []val { return args(g.clock(), g.ptr(16, true)) },
		bufs: []buf{{arg: 1, fixed: 16}}},
	{Name: "clock_getres", Nr: syscall.SYS_CLOCK_GETRES, gen: func(g *gen) []val { return args(g.clock(), g.ptr(16, true)) },
		bufs: []buf{{arg: 1, fixed: 16, optional: true}}},
	{Name: "gettimeofday", Nr: syscall.SYS_GETTIMEOFDAY, gen: func(g *gen) []val { return args(g.ptr(16, true), g.ptr(8, true)) },
		bufs: []buf{{arg: 0, fixed: 16, optional: true}}},
	{Name: "time", Nr: syscall.SYS_TIME, gen: func(g *gen) []val { return args(g.ptr(8, true)) }},
	{Name: "nanosleep", Nr: syscall.SYS_NANOSLEEP, gen: func(g *gen) []val { return args(g.timespec(1_000_000), g.ptr(16, true)) }},
	{Name: "clock_nanosleep", Nr: syscall.SYS_CLOCK_NANOSLEEP, gen: func(g *gen) []val {
		return args(g.clock(), g.oneOf(0, 1, 2), g.timespec(1_000_000), g.ptr(16, true))
	}},

	// Signals: only ones that do not end the task; handlers only SIG_DFL and SIG_IGN.
	{Name: "rt_sigaction", Nr: syscall.SYS_RT_SIGACTION, gen: func(g *gen) []val { return g.sigaction() }, guard: keepAction,
		bufs: []buf{{arg: 2, fixed: 32, optional: true}}},
	{Name: "rt_sigprocmask", Nr: syscall.SYS_RT_SIGPROCMASK, gen: func(g *gen) []val {
		return args(g.oneOf(0, 1, 2, 3), g.sigset(), g.ptr(8, true), g.oneOf(8, 8, 0, 16))
	}, bufs: []buf{{arg: 2, fixed: 8, optional: true}}, guard: keepMask},
	{Name: "sigaltstack", Nr: syscall.SYS_SIGALTSTACK, gen: func(g *gen) []val { return args(g.hostileOrNil(), g.ptr(24, true)) },
		bufs: []buf{{arg: 1, fixed: 24, optional: true}}},
	{Name: "kill", Nr: syscall.SYS_KILL, gen: func(g *gen) []val { return args(g.pid(), g.signal()) }},
	{Name: "tkill", Nr: syscall.SYS_TKILL, gen: func(g *gen) []val { return args(g.tid(), g.signal()) }},
	{Name: "tgkill", Nr: syscall.SYS_TGKILL, gen: func(g *gen) []val { return args(g.pid(), g.tid(), g.signal()) }},

	// Process and machine.
	{Name: "getpid", Nr: syscall.SYS_GETPID, gen: func(g *gen) []val { return nil }},
	{Name: "getppid", Nr: syscall.SYS_GETPPID, gen: func(g *gen) []val { return nil }},
	{Name: "getuid", Nr: syscall.SYS_GETUID, gen: func(g *gen) []val { return nil }},
	{Name: "geteuid", Nr: syscall.SYS_GETEUID, gen: func(g *gen) []val { return nil }},
	{Name: "getgid", Nr: syscall.SYS_GETGID, gen: func(g *gen) []val { return nil }},
	{Name: "getegid", Nr: syscall.SYS_GETEGID, gen: func(g *gen) []val { return nil }},
	{Name: "uname", Nr: syscall.SYS_UNAME, gen: func(g *gen) []val { return args(g.ptr(390, true)) }, bufs: []buf{{arg: 0, fixed: 390}}},
	{Name: "arch_prctl", Nr: syscall.SYS_ARCH_PRCTL, gen: func(g *gen) []val {
		code := g.oneOf(0x1003, 0x1002, 0x1001, 0x1004, 0)
		if code.v == 0x1002 { // ARCH_SET_FS only with addresses the kernel must refuse
			return args(code, g.kernelAddr())
		}
		return args(code, g.ptr(8, true))
	}},
	{Name: "sched_getaffinity", Nr: syscall.SYS_SCHED_GETAFFINITY, gen: func(g *gen) []val {
		return args(g.pid(), g.oneOf(8, 128, 0, 4, 1<<31), g.ptr(128, true))
	}},
	{Name: "getrlimit", Nr: syscall.SYS_GETRLIMIT, gen: func(g *gen) []val { return args(g.oneOf(7, 3, 0, 100), g.ptr(16, true)) },
		bufs: []buf{{arg: 1, fixed: 16}}},
	{Name: "prlimit64", Nr: syscall.SYS_PRLIMIT64, gen: func(g *gen) []val {
		return args(g.pid(), g.oneOf(7, 3, 0, 100), g.hostileOrNil(), g.ptr(16, true))
	}, bufs: []buf{{arg: 3, fixed: 16, optional: true}}},
	{Name: "prctl", Nr: syscall.SYS_PRCTL, gen: func(g *gen) []val {
		return args(g.oneOf(15, 16, 38, 0x53564d41, 0), g.ptr(16, false), g.size(), g.ptr(16, false), num(0))
	}},
	{Name: "getrandom", Nr: abi.SysGetrandom, gen: func(g *gen) []val {
		n := g.size()
		return args(g.ptr(n.v, true), n, g.flags(1, 2, 4))
	}, bufs: []buf{{arg: 0, lenArg: 1, countResult: true}}},

	// SimpleOS's own.
	{Name: "wait_event", Nr: abi.SysWaitEvent, gen: func(g *gen) []val { return args(g.oneOf(0, 1, 2), g.timeout(true)) }, check: never("the core's own call")},
	{Name: "heartbeat", Nr: abi.SysHeartbeat, gen: func(g *gen) []val { return nil }},
	{Name: "files_reap", Nr: abi.SysFilesReap, gen: func(g *gen) []val { return nil }, check: never("the core's own call")},
	// ready snapshots the fuzzer at a random point (or says why not: pipes, files, loans).
	{Name: "ready", Nr: abi.SysReady, gen: func(g *gen) []val { return nil }},
	{Name: "ipc_register", Nr: abi.SysIPCRegister, gen: func(g *gen) []val { p, n := g.name(g.e.cfg.Serves); return args(p, n) },
		names: func(c *Config) []string { return c.Serves },
		after: func(e *env, a []val, r uintptr) { e.handles = append(e.handles, uint64(r)) }},
	{Name: "ipc_lookup", Nr: abi.SysIPCLookup, gen: func(g *gen) []val { p, n := g.name(g.e.cfg.Calls); return args(p, n) },
		names: func(c *Config) []string { return c.Calls },
		after: func(e *env, a []val, r uintptr) {
			if len(e.handles) < 16 {
				e.handles = append(e.handles, uint64(r))
			}
		}},
	{Name: "ipc_call", Nr: abi.SysIPCCall, gen: func(g *gen) []val { return args(g.handle(), g.message(), g.timeout(false)) }},
	{Name: "ipc_recv", Nr: abi.SysIPCRecv, gen: func(g *gen) []val { return args(g.handle(), g.ptr(abi.MessageSize, true), g.timeout(false)) },
		bufs: []buf{{arg: 1, fixed: abi.MessageSize}}},
	{Name: "ipc_reply", Nr: abi.SysIPCReply, gen: func(g *gen) []val { return args(num(0), g.message()) }},
	{Name: "ipc_replyrecv", Nr: abi.SysIPCReplyRecv, gen: func(g *gen) []val { return args(g.handle(), g.message(), g.timeout(false)) }},
	// The register path: the message in registers both ways, never through memory.
	{Name: "ipc_call_regs", Nr: abi.SysIPCCallRegs, regs: true, gen: func(g *gen) []val { return g.regsMessage() }},
	{Name: "ipc_recv_regs", Nr: abi.SysIPCRecvRegs, regs: true, gen: func(g *gen) []val {
		a := g.regsMessage() // only the handle and the timeout count
		return append(args(a[0], num(0), num(0), num(0), num(0), num(0)), a[6:]...)
	}},
	{Name: "ipc_replyrecv_regs", Nr: abi.SysIPCReplyRecvRegs, regs: true, gen: func(g *gen) []val { return g.regsMessage() }},
	{Name: "ipc_buffer", Nr: abi.SysIPCBuffer, gen: func(g *gen) []val { return args(g.ipcBuffer()) }},
	{Name: "ipc_await_regs", Nr: abi.SysIPCAwaitRegs, regs: true, gen: func(g *gen) []val {
		return args(num(0), num(0), num(0), num(0), num(0), num(0), g.regsTimeout()) // the timeout alone counts
	}},
	{Name: "notify_wait", Nr: abi.SysNotifyWait, gen: func(g *gen) []val {
		return args(g.oneOf(1<<63, 1<<62, 1<<4, 0, ^uintptr(0)), g.choose(1, 1, 1000, 100_000))
	}},
	{Name: "console_attach", Nr: abi.SysConsoleAttach, gen: func(g *gen) []val { return nil }, check: never("no fuzzer serves the console")},
	{Name: "console_fetch", Nr: abi.SysConsoleFetch, gen: func(g *gen) []val { n := g.size(); return args(g.ptr(n.v, true), n) }},
	{Name: "console_commit", Nr: abi.SysConsoleCommit, gen: func(g *gen) []val { return args(g.size()) }},
	{Name: "mmio_map", Nr: abi.SysMMIOMap, gen: func(g *gen) []val { return g.mmio() }, check: checkMMIO,
		after: func(e *env, a []val, r uintptr) {
			if len(e.mmio) < 16 {
				e.mmio = append(e.mmio, r)
			}
		}},
	// No fuzzer's policy grants a PCI device: every device call must be refused.
	{Name: "device_info", Nr: abi.SysDeviceInfo, gen: func(g *gen) []val {
		n := g.size()
		return args(g.ptr(n.v, true), n)
	}, check: never("no fuzzer owns a device")},
	{Name: "device_config", Nr: abi.SysDeviceConfig, gen: func(g *gen) []val {
		return args(g.oneOf(0, 4, 0x10, 0x34, 0x40, 0xfff, 4096, ^uintptr(0)), g.oneOf(1, 2, 4, 0, 3, 8), g.oneOf(0, 4, 0xffff_ffff), g.oneOf(0, 1, 2))
	}, check: never("no fuzzer owns a device")},
	{Name: "dma_alloc", Nr: abi.SysDMAAlloc, gen: func(g *gen) []val {
		return args(g.oneOf(pageSize, 16*pageSize, 0, 1, 1<<30), g.ptr(8, true))
	}, check: never("no fuzzer owns a device")},
	{Name: "dma_free", Nr: abi.SysDMAFree, gen: func(g *gen) []val {
		return args(g.oneOf(dmaWindow, dmaWindow+pageSize, 0, mmioWindow), g.oneOf(pageSize, 0, 1<<20))
	}, check: never("no fuzzer owns a device")},
	{Name: "event_subscribe", Nr: abi.SysEventSubscribe, gen: func(g *gen) []val { p, n := g.name(g.e.cfg.Events); return args(p, n) },
		names: func(c *Config) []string { return c.Events }},
	{Name: "event_post", Nr: abi.SysEventPost, gen: func(g *gen) []val {
		p, n := g.name(g.e.cfg.Publish)
		return args(p, n, g.ptr(eventArgsSize, false))
	}, bufs: []buf{{arg: 2, fixed: eventArgsSize}}, names: func(c *Config) []string { return c.Publish }},
	{Name: "event_recv", Nr: abi.SysEventRecv, gen: func(g *gen) []val { return args(g.ptr(abi.EventSize, true), g.choose(1, 1000, 100_000)) },
		bufs: []buf{{arg: 0, fixed: abi.EventSize}}},
	{Name: "content_read", Nr: abi.SysContentRead, gen: func(g *gen) []val {
		p, n := g.name(g.e.cfg.Content)
		size := g.size()
		return args(p, n, g.ptr(size.v, true), size)
	}, bufs: []buf{{arg: 2, lenArg: 3, countResult: true}}, names: func(c *Config) []string { return c.Content }},
	{Name: "content_write", Nr: abi.SysContentWrite, gen: func(g *gen) []val {
		p, n := g.name(g.e.cfg.Content)
		size := g.small()
		if g.r.chance(4) {
			size = g.size()
		}
		return args(p, n, g.ptr(size.v, false), size)
	}, bufs: []buf{{arg: 2, lenArg: 3}}, names: func(c *Config) []string { return c.Content }},
	{Name: "inject_report", Nr: abi.SysInjectReport, gen: func(g *gen) []val { return args(g.oneOf(0, 1, 2, 3)) }},
	{Name: "inject_wait", Nr: abi.SysInjectWait, gen: func(g *gen) []val { // nothing is armed: it times out
		return args(g.ptr(128, true), g.oneOf(0, 8, 128, 1<<20), g.choose(1, 1000, 100_000))
	}},
	{Name: "fuzz_report", Nr: abi.SysFuzzReport, gen: func(g *gen) []val { // the truth again: the core reads these
		return args(num(uintptr(g.e.batch)), num(uintptr(g.e.calls)), num(uintptr(g.e.found)))
	}},

	// Numbers nobody serves.
	{Name: "unknown", Nr: ^uintptr(0), gen: func(g *gen) []val {
		return args(g.ptr(64, false), g.size(), g.ptr(64, true), g.size(), num(uintptr(g.r.next())), num(0))
	}},
}
