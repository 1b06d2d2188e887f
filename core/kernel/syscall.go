package kernel

// The system-call table: one entry per number the core serves, Linux's and SimpleOS's own
// (abi/syscall.go has the numbers), each with its handler, how much of the call is
// implemented, and a note where that is not all of it. SYSCALL enters at trampSyscall
// (trampoline_amd64.s), which builds a trap frame with vector 0x100; handleTrap passes it to
// handleSyscall. Arguments are in RDI, RSI, RDX, R10, R8, R9; the result (or -errno) goes back
// in RAX. The handlers live in one file per family: sys_mem.go, sys_thread.go, sys_futex.go,
// sys_time.go, sys_signal.go, sys_file.go, sys_pipe.go, sys_epoll.go, sys_misc.go, and the
// services' own files (ipc.go, events.go, notify.go, console_buffer.go, sys_mmio.go,
// content.go, inject_api.go).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

// Support says how much of a system call the core implements.
type Support uint8

const (
	Full    Support = iota + 1 // as Linux specifies it
	Partial                    // what the programs SimpleOS runs use; the rest fails (see the note)
	Stub                       // answers without doing anything (see the note)
	Own                        // SimpleOS's own call (abi/syscall.go)
)

type syscallHandler func(tf *arch.TrapFrame) int64

// syscallEntry is one row of the table.
type syscallEntry struct {
	name    string
	fn      syscallHandler
	support Support
	note    string
}

// syscallTable maps each system-call number to its entry. It is static data: it must work
// before the Go runtime has run any initialisation code.
var syscallTable = [abi.SimpleOSLast + 1]syscallEntry{
	// memory (sys_mem.go, sys_mmio.go)
	abi.SysMmap:     {"mmap", sysMmap, Partial, "anonymous memory only (ENODEV for files); demand-zero"},
	abi.SysMunmap:   {"munmap", sysMunmap, Full, ""},
	abi.SysMprotect: {"mprotect", sysMprotect, Full, ""},
	abi.SysMadvise:  {"madvise", sysMadvise, Partial, "MADV_DONTNEED and MADV_FREE drop pages; other advice is ignored"},
	abi.SysBrk:      {"brk", sysBrk, Stub, "no program break: returns 0, callers fall back to mmap"},
	abi.SysMMIOMap:  {"mmio_map", sysMMIOMap, Own, "(phys, length) -> address of device memory the policy grants (ring 1)"},

	// threads (sys_thread.go) and futexes (sys_futex.go)
	abi.SysClone:         {"clone", sysClone, Partial, "threads only (CLONE_VM|CLONE_THREAD): no fork"},
	abi.SysExit:          {"exit", sysExit, Full, ""},
	abi.SysExitGroup:     {"exit_group", sysExitGroup, Full, ""},
	abi.SysSchedYield:    {"sched_yield", sysSchedYield, Full, ""},
	abi.SysGettid:        {"gettid", sysGettid, Full, ""},
	abi.SysSetTidAddress: {"set_tid_address", sysSetTidAddress, Full, ""},
	abi.SysFutex:         {"futex", sysFutex, Partial, "WAIT, WAKE and their BITSET forms (bitsets ignored); every futex is process-private"},

	// time (sys_time.go)
	abi.SysClockGettime:   {"clock_gettime", sysClockGettime, Full, ""},
	abi.SysClockGetres:    {"clock_getres", sysClockGetres, Full, ""},
	abi.SysGettimeofday:   {"gettimeofday", sysGettimeofday, Full, ""},
	abi.SysTime:           {"time", sysTime, Full, ""},
	abi.SysNanosleep:      {"nanosleep", sysNanosleep, Full, ""},
	abi.SysClockNanosleep: {"clock_nanosleep", sysClockNanosleep, Full, ""},

	// signals (sys_signal.go; delivery in signal.go)
	abi.SysRtSigaction:   {"rt_sigaction", sysRtSigaction, Full, ""},
	abi.SysRtSigprocmask: {"rt_sigprocmask", sysRtSigprocmask, Full, ""},
	abi.SysRtSigreturn:   {"rt_sigreturn", sysRtSigreturn, Full, ""},
	abi.SysSigaltstack:   {"sigaltstack", sysSigaltstack, Full, ""},
	abi.SysKill:          {"kill", sysKill, Partial, "the caller's own process only"},
	abi.SysTkill:         {"tkill", sysTkill, Partial, "threads of the caller's process only"},
	abi.SysTgkill:        {"tgkill", sysTgkill, Partial, "threads of the caller's process only"},

	// files (sys_file.go, sys_pipe.go, sys_epoll.go)
	abi.SysRead:          {"read", sysRead, Partial, "pipes, eventfds; the console reads end of file"},
	abi.SysWrite:         {"write", sysWrite, Partial, "the console (4 KiB per call), pipes, eventfds"},
	abi.SysWritev:        {"writev", sysWritev, Partial, "the console only"},
	abi.SysOpen:          {"open", sysOpen, Stub, "no file system: ENOENT"},
	abi.SysOpenat:        {"openat", sysOpenat, Stub, "no file system: ENOENT"},
	abi.SysClose:         {"close", sysClose, Full, ""},
	abi.SysFstat:         {"fstat", sysFstat, Partial, "mode, nlink and block size only"},
	abi.SysNewfstatat:    {"newfstatat", sysNewfstatat, Partial, "AT_EMPTY_PATH (fstat) only"},
	abi.SysFcntl:         {"fcntl", sysFcntl, Partial, "F_GETFD, F_SETFD, F_GETFL, F_SETFL (O_NONBLOCK)"},
	abi.SysIoctl:         {"ioctl", sysIoctl, Stub, "ENOTTY"},
	abi.SysPipe:          {"pipe", sysPipe, Full, ""},
	abi.SysPipe2:         {"pipe2", sysPipe2, Partial, "O_NONBLOCK; other flags ignored"},
	abi.SysEpollCreate:   {"epoll_create", sysEpollCreate, Full, ""},
	abi.SysEpollCreate1:  {"epoll_create1", sysEpollCreate, Full, ""},
	abi.SysEpollCtl:      {"epoll_ctl", sysEpollCtl, Partial, "level-triggered; 16 descriptors per instance"},
	abi.SysEpollWait:     {"epoll_wait", sysEpollWait, Full, ""},
	abi.SysEpollPwait:    {"epoll_pwait", sysEpollWait, Partial, "the signal mask is ignored"},
	abi.SysEventfd:       {"eventfd", sysEventfd, Full, ""},
	abi.SysEventfd2:      {"eventfd2", sysEventfd, Partial, "reads never block (EAGAIN when zero)"},
	abi.SysConsoleAttach: {"console_attach", sysConsoleAttach, Own, "the caller becomes the console driver (policy: serves console)"},
	abi.SysConsoleFetch:  {"console_fetch", sysConsoleFetch, Own, "(buf, len) -> buffered output, not consumed"},
	abi.SysConsoleCommit: {"console_commit", sysConsoleCommit, Own, "(n) consumes n bytes written out"},

	// process and machine (sys_misc.go)
	abi.SysArchPrctl:        {"arch_prctl", sysArchPrctl, Partial, "ARCH_SET_FS and ARCH_GET_FS"},
	abi.SysGetpid:           {"getpid", sysGetpid, Full, ""},
	abi.SysGetppid:          {"getppid", sysGetppid, Stub, "0: no parent"},
	abi.SysGetuid:           {"getuid", sysGetuid, Stub, "0"},
	abi.SysGeteuid:          {"geteuid", sysGetuid, Stub, "0"},
	abi.SysGetgid:           {"getgid", sysGetuid, Stub, "0"},
	abi.SysGetegid:          {"getegid", sysGetuid, Stub, "0"},
	abi.SysUname:            {"uname", sysUname, Full, ""},
	abi.SysSchedGetaffinity: {"sched_getaffinity", sysSchedGetaffinity, Full, "one CPU"},
	abi.SysPrlimit64:        {"prlimit64", sysPrlimit64, Partial, "reads fixed limits; setting is ignored"},
	abi.SysGetrlimit:        {"getrlimit", sysGetrlimit, Partial, "fixed limits"},
	abi.SysPrctl:            {"prctl", sysPrctl, Stub, "EINVAL"},
	abi.SysGetrandom:        {"getrandom", sysGetrandom, Full, "4 KiB per call"},
	abi.SysSetRobustList:    {"set_robust_list", sysSetRobustList, Stub, "ignored"},
	abi.SysWaitEvent:        {"wait_event", sysWaitEvent, Own, "(kind) the core's goroutines wait for a task end or a content write; the core only"},
	abi.SysHeartbeat:        {"heartbeat", sysHeartbeat, Own, "the caller tells the watchdog it is alive"},

	// IPC (ipc.go, ipc_fast.go), notifications (notify.go), events (events.go)
	abi.SysIPCRegister:    {"ipc_register", sysIPCRegister, Own, "(name, len) -> handle (policy: serves)"},
	abi.SysIPCLookup:      {"ipc_lookup", sysIPCLookup, Own, "(name, len) -> handle (policy: calls)"},
	abi.SysIPCCall:        {"ipc_call", sysIPCCall, Own, "(handle, msg, timeout ns)"},
	abi.SysIPCRecv:        {"ipc_recv", sysIPCRecv, Own, "(handle, msg, timeout ns)"},
	abi.SysIPCReply:       {"ipc_reply", sysIPCReply, Own, "(0, msg)"},
	abi.SysIPCReplyRecv:   {"ipc_replyrecv", sysIPCReplyRecv, Own, "(handle, msg, timeout ns)"},
	abi.SysNotifyWait:     {"notify_wait", sysNotifyWait, Own, "(mask, timeout ns; 1 = poll) -> bits"},
	abi.SysEventSubscribe: {"event_subscribe", sysEventSubscribe, Own, "(name, len) -> subscription (ring 2, policy: events)"},
	abi.SysEventPost:      {"event_post", sysEventPost, Own, "(name, len, args *[4]u64) -> deliveries (policy: publishes)"},
	abi.SysEventRecv:      {"event_recv", sysEventRecv, Own, "(buf *Event, timeout ns)"},

	// content files (content.go) and the fault-injection and fuzzing reports (inject_api.go)
	abi.SysContentRead:  {"content_read", sysContentRead, Own, "(name, len, buf, size) -> file length (policy: content)"},
	abi.SysContentWrite: {"content_write", sysContentWrite, Own, "(name, len, buf, n), decided by the core's content service"},
	abi.SysInjectReport: {"inject_report", sysInjectReport, Own, "(outcome) what an injected fault did"},
	abi.SysFuzzReport:   {"fuzz_report", sysFuzzReport, Own, "(batch, calls, findings) a fuzzer's progress"},
}

// traceSyscalls prints every system call (kernel command line: trace=syscalls).
var traceSyscalls bool

// unknownLogged has a bit per number logged once as unsupported (numbers past the table
// share the last bit).
var unknownLogged [(abi.SimpleOSLast + 1 + 63) / 64]uint64

// syscallCount counts system calls served, for statistics.
var syscallCount uint64

//go:nosplit
func handleSyscall(tf *arch.TrapFrame) {
	if tf.FromKernel() {
		crashFrame("system call from kernel code", tf)
	}
	syscallCount++
	nr := tf.RAX
	if traceSyscalls {
		traceSyscall(tf)
	}
	var r int64
	if nr < uint64(len(syscallTable)) && syscallTable[nr].fn != nil {
		r = syscallTable[nr].fn(tf)
	} else {
		r = unknownSyscall(nr)
	}
	if nr != abi.SysRtSigreturn {
		// As on Linux: RAX the result, RCX and R11 what SYSCALL left in them (the return
		// address and RFLAGS), never the trampoline's scratch values.
		tf.RAX = uint64(r)
		tf.RCX, tf.R11 = tf.RIP, tf.RFLAGS
	}
}

//go:nosplit
func traceSyscall(tf *arch.TrapFrame) {
	arch.Puts("trace: tid ")
	arch.PutDec(uint64(cur().tid))
	arch.Puts(" syscall ")
	arch.PutDec(tf.RAX)
	arch.Puts(" ")
	arch.PutHex(tf.RDI)
	arch.Puts(" ")
	arch.PutHex(tf.RSI)
	arch.Puts(" ")
	arch.PutHex(tf.RDX)
	arch.Putc('\n')
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
		arch.Puts("kernel: unsupported system call ")
		arch.PutDec(nr)
		arch.Puts(" from tid ")
		arch.PutDec(uint64(cur().tid))
		arch.Puts(": ENOSYS\n")
	}
	return -abi.ENOSYS
}

// SyscallCount returns the number of system calls served since boot.
func SyscallCount() uint64 { return syscallCount }
