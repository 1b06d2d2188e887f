package abi

// Call names a system call the core serves.
type Call struct {
	Name string
	Nr   uintptr
}

// Calls lists every system call the core serves: the Linux ones (the kernel's table must
// agree, core/kernel/syscall_test.go) and SimpleOS's own. The fuzzer (inject/fuzz) has a
// description of each of them but the three that end or replace the caller's context: exit,
// exit_group and rt_sigreturn (the attacks of inject/attack forge rt_sigreturn frames).
var Calls = []Call{
	{"read", SysRead}, {"write", SysWrite}, {"open", SysOpen}, {"close", SysClose}, {"fstat", SysFstat},
	{"mmap", SysMmap}, {"mprotect", SysMprotect}, {"munmap", SysMunmap}, {"brk", SysBrk},
	{"rt_sigaction", SysRtSigaction}, {"rt_sigprocmask", SysRtSigprocmask}, {"rt_sigreturn", SysRtSigreturn},
	{"ioctl", SysIoctl}, {"writev", SysWritev}, {"pipe", SysPipe}, {"sched_yield", SysSchedYield},
	{"madvise", SysMadvise}, {"nanosleep", SysNanosleep}, {"getpid", SysGetpid}, {"clone", SysClone},
	{"exit", SysExit}, {"kill", SysKill}, {"uname", SysUname}, {"fcntl", SysFcntl},
	{"gettimeofday", SysGettimeofday}, {"getrlimit", SysGetrlimit}, {"getuid", SysGetuid}, {"getgid", SysGetgid},
	{"geteuid", SysGeteuid}, {"getegid", SysGetegid}, {"getppid", SysGetppid}, {"sigaltstack", SysSigaltstack},
	{"prctl", SysPrctl}, {"arch_prctl", SysArchPrctl}, {"gettid", SysGettid}, {"tkill", SysTkill},
	{"time", SysTime}, {"futex", SysFutex}, {"sched_getaffinity", SysSchedGetaffinity},
	{"epoll_create", SysEpollCreate}, {"set_tid_address", SysSetTidAddress}, {"clock_gettime", SysClockGettime},
	{"clock_getres", SysClockGetres}, {"clock_nanosleep", SysClockNanosleep}, {"exit_group", SysExitGroup},
	{"epoll_wait", SysEpollWait}, {"epoll_ctl", SysEpollCtl}, {"tgkill", SysTgkill}, {"openat", SysOpenat},
	{"newfstatat", SysNewfstatat}, {"set_robust_list", SysSetRobustList}, {"epoll_pwait", SysEpollPwait},
	{"eventfd", SysEventfd}, {"eventfd2", SysEventfd2}, {"epoll_create1", SysEpollCreate1}, {"pipe2", SysPipe2},
	{"prlimit64", SysPrlimit64}, {"getrandom", SysGetrandom},

	// files (core/kernel/vfs, forwarded to the file-system server)
	{"stat", SysStat}, {"lstat", SysLstat}, {"lseek", SysLseek}, {"pread64", SysPread64},
	{"pwrite64", SysPwrite64}, {"readv", SysReadv}, {"access", SysAccess}, {"dup", SysDup}, {"dup2", SysDup2},
	{"fsync", SysFsync}, {"fdatasync", SysFdatasync}, {"truncate", SysTruncate}, {"ftruncate", SysFtruncate},
	{"getcwd", SysGetcwd}, {"chdir", SysChdir}, {"fchdir", SysFchdir}, {"rename", SysRename},
	{"mkdir", SysMkdir}, {"rmdir", SysRmdir}, {"creat", SysCreat}, {"unlink", SysUnlink},
	{"readlink", SysReadlink}, {"chmod", SysChmod}, {"fchmod", SysFchmod}, {"umask", SysUmask},
	{"sync", SysSync}, {"getdents64", SysGetdents64}, {"fadvise64", SysFadvise64}, {"mkdirat", SysMkdirat},
	{"unlinkat", SysUnlinkat}, {"renameat", SysRenameat}, {"readlinkat", SysReadlinkat},
	{"fchmodat", SysFchmodat}, {"faccessat", SysFaccessat}, {"utimensat", SysUtimensat},
	{"fallocate", SysFallocate}, {"dup3", SysDup3}, {"renameat2", SysRenameat2}, {"statx", SysStatx},
	{"faccessat2", SysFaccessat2},

	{"wait_event", SysWaitEvent}, {"heartbeat", SysHeartbeat}, {"files_reap", SysFilesReap},
	{"ready", SysReady},
	{"ipc_register", SysIPCRegister}, {"ipc_lookup", SysIPCLookup}, {"ipc_call", SysIPCCall},
	{"ipc_recv", SysIPCRecv}, {"ipc_reply", SysIPCReply}, {"ipc_replyrecv", SysIPCReplyRecv},
	{"ipc_call_regs", SysIPCCallRegs}, {"ipc_replyrecv_regs", SysIPCReplyRecvRegs}, {"ipc_recv_regs", SysIPCRecvRegs},
	{"ipc_await_regs", SysIPCAwaitRegs}, {"ipc_buffer", SysIPCBuffer},
	{"notify_wait", SysNotifyWait}, {"console_attach", SysConsoleAttach}, {"console_fetch", SysConsoleFetch},
	{"console_commit", SysConsoleCommit}, {"mmio_map", SysMMIOMap},
	{"device_info", SysDeviceInfo}, {"device_config", SysDeviceConfig}, {"dma_alloc", SysDMAAlloc}, {"dma_free", SysDMAFree},
	{"event_subscribe", SysEventSubscribe}, {"event_post", SysEventPost}, {"event_recv", SysEventRecv},
	{"content_read", SysContentRead}, {"content_write", SysContentWrite}, {"inject_report", SysInjectReport},
	{"fuzz_report", SysFuzzReport}, {"inject_wait", SysInjectWait},
}
