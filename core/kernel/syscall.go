package kernel

// The Linux system-call layer: SYSCALL enters at trampSyscall (trampoline_amd64.s), which
// builds a trap frame with vector 0x100; handleTrap passes it to handleSyscall. Arguments are in RDI, RSI, RDX, R10, R8, R9; the result
// (or -errno) goes back in RAX. The handlers live in one file per family: sys_mem.go,
// sys_thread.go, sys_futex.go, sys_time.go, sys_signal.go, sys_file.go, sys_epoll.go,
// sys_misc.go.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// Linux x86-64 system-call numbers served here.
const (
	SYS_read              = 0
	SYS_write             = 1
	SYS_open              = 2
	SYS_close             = 3
	SYS_fstat             = 5
	SYS_mmap              = 9
	SYS_mprotect          = 10
	SYS_munmap            = 11
	SYS_brk               = 12
	SYS_rt_sigaction      = 13
	SYS_rt_sigprocmask    = 14
	SYS_rt_sigreturn      = 15
	SYS_ioctl             = 16
	SYS_writev            = 20
	SYS_pipe              = 22
	SYS_sched_yield       = 24
	SYS_madvise           = 28
	SYS_nanosleep         = 35
	SYS_getpid            = 39
	SYS_clone             = 56
	SYS_exit              = 60
	SYS_kill              = 62
	SYS_uname             = 63
	SYS_fcntl             = 72
	SYS_gettimeofday      = 96
	SYS_getrlimit         = 97
	SYS_getuid            = 102
	SYS_getgid            = 104
	SYS_geteuid           = 107
	SYS_getegid           = 108
	SYS_getppid           = 110
	SYS_sigaltstack       = 131
	SYS_prctl             = 157
	SYS_arch_prctl        = 158
	SYS_gettid            = 186
	SYS_tkill             = 200
	SYS_time              = 201
	SYS_futex             = 202
	SYS_sched_getaffinity = 204
	SYS_epoll_create      = 213
	SYS_set_tid_address   = 218
	SYS_clock_gettime     = 228
	SYS_clock_getres      = 229
	SYS_clock_nanosleep   = 230
	SYS_exit_group        = 231
	SYS_epoll_wait        = 232
	SYS_epoll_ctl         = 233
	SYS_tgkill            = 234
	SYS_openat            = 257
	SYS_newfstatat        = 262
	SYS_set_robust_list   = 273
	SYS_epoll_pwait       = 281
	SYS_eventfd           = 284
	SYS_eventfd2          = 290
	SYS_epoll_create1     = 291
	SYS_pipe2             = 293
	SYS_prlimit64         = 302
	SYS_getrandom         = 318

	maxSyscall = 335

	// SimpleOS's own calls, outside Linux's numbering.
	SYS_simpleos_wait_event = 0x400 // the core's supervisor waits for a task event
	SYS_simpleos_heartbeat  = 0x401 // a task tells the watchdog it is alive

	// IPC (ipc.go): the user side is package ipc.
	SYS_ipc_register  = 0x410 // (name, len) -> handle
	SYS_ipc_lookup    = 0x411 // (name, len) -> handle
	SYS_ipc_call      = 0x412 // (handle, msg, timeout ns)
	SYS_ipc_recv      = 0x413 // (handle, msg, timeout ns)
	SYS_ipc_reply     = 0x414 // (0, msg)
	SYS_ipc_replyrecv = 0x415 // (handle, msg, timeout ns)

	// Notifications and the console driver (notify.go, console_buffer.go).
	SYS_notify_wait    = 0x420 // (mask, timeout ns; 1 = poll) -> bits
	SYS_console_attach = 0x421 // the caller becomes the console driver (policy: serves console)
	SYS_console_fetch  = 0x422 // (buf, len) -> bytes of buffered output, not consumed
	SYS_console_commit = 0x423 // (n) consumes n bytes written out
	SYS_mmio_map       = 0x424 // (phys, length) -> address of granted device memory

	// System events (events.go).
	SYS_event_subscribe = 0x430 // (name, len) -> subscription index (ring 2, policy: events)
	SYS_event_post      = 0x431 // (name, len, args *[4]u64) -> deliveries
	SYS_event_recv      = 0x432 // (buf *event, timeout ns)

	// Content files (content.go) and fault-injection reports.
	SYS_content_read  = 0x440 // (name, len, buf, size) -> file length
	SYS_content_write = 0x441 // (name, len, buf, n)
	SYS_inject_report = 0x442 // (outcome: 1 handled, 2 breach)
	SYS_fuzz_report   = 0x443 // (batch, calls)
)

var ipcCalls = [...]syscallDef{
	{"ipc_register", sysIPCRegister},
	{"ipc_lookup", sysIPCLookup},
	{"ipc_call", sysIPCCall},
	{"ipc_recv", sysIPCRecv},
	{"ipc_reply", sysIPCReply},
	{"ipc_replyrecv", sysIPCReplyRecv},
}

type syscallHandler func(tf *TrapFrame) int64

type syscallDef struct {
	name string
	fn   syscallHandler
}

// syscallTable maps each system-call number to its handler. It is static data: it must work
// before the Go runtime has run any initialisation code.
var syscallTable = [maxSyscall]syscallDef{
	// memory (sys_mem.go)
	SYS_mmap:     {"mmap", sysMmap},
	SYS_munmap:   {"munmap", sysMunmap},
	SYS_mprotect: {"mprotect", sysMprotect},
	SYS_madvise:  {"madvise", sysMadvise},
	SYS_brk:      {"brk", sysBrk},

	// threads (sys_thread.go) and futexes (sys_futex.go)
	SYS_clone:           {"clone", sysClone},
	SYS_exit:            {"exit", sysExit},
	SYS_exit_group:      {"exit_group", sysExitGroup},
	SYS_sched_yield:     {"sched_yield", sysSchedYield},
	SYS_gettid:          {"gettid", sysGettid},
	SYS_set_tid_address: {"set_tid_address", sysSetTidAddress},
	SYS_futex:           {"futex", sysFutex},

	// time (sys_time.go)
	SYS_clock_gettime:   {"clock_gettime", sysClockGettime},
	SYS_clock_getres:    {"clock_getres", sysClockGetres},
	SYS_gettimeofday:    {"gettimeofday", sysGettimeofday},
	SYS_time:            {"time", sysTime},
	SYS_nanosleep:       {"nanosleep", sysNanosleep},
	SYS_clock_nanosleep: {"clock_nanosleep", sysClockNanosleep},

	// signals (sys_signal.go)
	SYS_rt_sigaction:   {"rt_sigaction", sysRtSigaction},
	SYS_rt_sigprocmask: {"rt_sigprocmask", sysRtSigprocmask},
	SYS_rt_sigreturn:   {"rt_sigreturn", sysRtSigreturn},
	SYS_sigaltstack:    {"sigaltstack", sysSigaltstack},
	SYS_kill:           {"kill", sysKill},
	SYS_tkill:          {"tkill", sysTkill},
	SYS_tgkill:         {"tgkill", sysTgkill},

	// files (sys_file.go) and epoll/eventfd (sys_epoll.go)
	SYS_read:          {"read", sysRead},
	SYS_write:         {"write", sysWrite},
	SYS_writev:        {"writev", sysWritev},
	SYS_open:          {"open", sysOpen},
	SYS_openat:        {"openat", sysOpenat},
	SYS_close:         {"close", sysClose},
	SYS_fstat:         {"fstat", sysFstat},
	SYS_newfstatat:    {"newfstatat", sysNewfstatat},
	SYS_fcntl:         {"fcntl", sysFcntl},
	SYS_ioctl:         {"ioctl", sysIoctl},
	SYS_epoll_create:  {"epoll_create", sysEpollCreate},
	SYS_epoll_create1: {"epoll_create1", sysEpollCreate},
	SYS_epoll_ctl:     {"epoll_ctl", sysEpollCtl},
	SYS_epoll_wait:    {"epoll_wait", sysEpollWait},
	SYS_epoll_pwait:   {"epoll_pwait", sysEpollWait},
	SYS_eventfd:       {"eventfd", sysEventfd},
	SYS_eventfd2:      {"eventfd2", sysEventfd},
	SYS_pipe:          {"pipe", sysPipe},
	SYS_pipe2:         {"pipe2", sysPipe2},

	// process and machine (sys_misc.go)
	SYS_arch_prctl:        {"arch_prctl", sysArchPrctl},
	SYS_getpid:            {"getpid", sysGetpid},
	SYS_getppid:           {"getppid", sysGetppid},
	SYS_getuid:            {"getuid", sysGetuid},
	SYS_geteuid:           {"geteuid", sysGetuid},
	SYS_getgid:            {"getgid", sysGetuid},
	SYS_getegid:           {"getegid", sysGetuid},
	SYS_uname:             {"uname", sysUname},
	SYS_sched_getaffinity: {"sched_getaffinity", sysSchedGetaffinity},
	SYS_prlimit64:         {"prlimit64", sysPrlimit64},
	SYS_getrlimit:         {"getrlimit", sysGetrlimit},
	SYS_prctl:             {"prctl", sysPrctl},
	SYS_getrandom:         {"getrandom", sysGetrandom},
	SYS_set_robust_list:   {"set_robust_list", sysSetRobustList},
}

// traceSyscalls prints every system call (kernel command line: trace=syscalls).
var traceSyscalls bool

var unknownLogged [(maxSyscall + 63) / 64 * 2]uint64

// SyscallCount counts system calls served, for statistics.
var syscallCount uint64

//go:nosplit
func handleSyscall(tf *TrapFrame) {
	if tf.fromKernel() {
		crashFrame("system call from kernel code", tf)
	}
	syscallCount++
	nr := tf.RAX
	if traceSyscalls {
		puts("trace: tid ")
		putDec(uint64(cur().tid))
		puts(" syscall ")
		putDec(nr)
		puts(" ")
		putHex(tf.RDI)
		puts(" ")
		putHex(tf.RSI)
		puts(" ")
		putHex(tf.RDX)
		putc('\n')
	}
	var r int64
	if nr < maxSyscall && syscallTable[nr].fn != nil {
		r = syscallTable[nr].fn(tf)
	} else if nr == SYS_simpleos_wait_event {
		r = sysWaitEvent(tf)
	} else if nr == SYS_simpleos_heartbeat {
		r = sysHeartbeat(tf)
	} else if nr == SYS_notify_wait {
		r = sysNotifyWait(tf)
	} else if nr == SYS_console_attach {
		r = sysConsoleAttach(tf)
	} else if nr == SYS_console_fetch {
		r = sysConsoleFetch(tf)
	} else if nr == SYS_console_commit {
		r = sysConsoleCommit(tf)
	} else if nr == SYS_mmio_map {
		r = sysMMIOMap(tf)
	} else if nr == SYS_event_subscribe {
		r = sysEventSubscribe(tf)
	} else if nr == SYS_event_post {
		r = sysEventPost(tf)
	} else if nr == SYS_event_recv {
		r = sysEventRecv(tf)
	} else if nr == SYS_content_read {
		r = sysContentRead(tf)
	} else if nr == SYS_content_write {
		r = sysContentWrite(tf)
	} else if nr == SYS_inject_report {
		r = sysInjectReport(tf)
	} else if nr == SYS_fuzz_report {
		r = sysFuzzReport(tf)
	} else if nr >= SYS_ipc_register && nr <= SYS_ipc_replyrecv {
		r = ipcCalls[nr-SYS_ipc_register].fn(tf)
	} else {
		r = unknownSyscall(nr)
	}
	if nr != SYS_rt_sigreturn {
		// As on Linux: RAX the result, RCX and R11 what SYSCALL left in them (the return
		// address and RFLAGS), never the trampoline's scratch values.
		tf.RAX = uint64(r)
		tf.RCX, tf.R11 = tf.RIP, tf.RFLAGS
	}
}

// unknownSyscall returns -ENOSYS and logs the number once.
//
//go:nosplit
func unknownSyscall(nr uint64) int64 {
	i := nr
	if i >= uint64(len(unknownLogged)*64) {
		i = uint64(len(unknownLogged)*64) - 1
	}
	w := &unknownLogged[(i/64)%uint64(len(unknownLogged))]
	if *w&(1<<(i%64)) == 0 {
		*w |= 1 << (i % 64)
		puts("kernel: unsupported system call ")
		putDec(nr)
		puts(" from tid ")
		putDec(uint64(cur().tid))
		puts(": ENOSYS\n")
	}
	return -ENOSYS
}

// SyscallCount returns the number of system calls served since boot.
func SyscallCount() uint64 { return syscallCount }
