// Package sys is the system-call layer: one table, number -> name, handler, how much of the
// call is implemented and a note where that is not all of it, for Linux's calls (the ones the
// Go runtime and static C programs make) and SimpleOS's own (abi/syscall.go has the numbers);
// the dispatcher, where a handler's "what happens next" is carried out; and the Linux
// families no service owns, one file each: mem.go, thread.go, futex.go, time.go, misc.go. The
// services' calls are theirs (package files, signal, ipc, notify, event, console, content,
// mmio, inject).
//
// SYSCALL enters at the trampoline's trampSyscall (core/kernel/arch), which builds a trap frame
// with vector arch.VectorSyscall; the kernel's trap handler passes it to Dispatch. Arguments
// are in RDI, RSI, RDX, R10, R8, R9 (task.Call's Arg and its typed cousins); the result (or
// -errno) goes back in RAX.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.
package sys

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/content"
	"github.com/simpleos/simpleos/core/kernel/event"
	"github.com/simpleos/simpleos/core/kernel/files"
	"github.com/simpleos/simpleos/core/kernel/inject"
	"github.com/simpleos/simpleos/core/kernel/ipc"
	"github.com/simpleos/simpleos/core/kernel/mmio"
	"github.com/simpleos/simpleos/core/kernel/notify"
	"github.com/simpleos/simpleos/core/kernel/pcidev"
	"github.com/simpleos/simpleos/core/kernel/signal"
	"github.com/simpleos/simpleos/core/kernel/snapshot"
	"github.com/simpleos/simpleos/core/kernel/task"
	"github.com/simpleos/simpleos/core/kernel/vfs"
)

// Support says how much of a system call the core implements.
type Support uint8

const (
	Full    Support = iota + 1 // as Linux specifies it
	Partial                    // what the programs SimpleOS runs use; the rest fails (see the note)
	Stub                       // answers without doing anything (see the note)
	Own                        // SimpleOS's own call (abi/syscall.go)
)

// Entry is one row of the table. core/trapcheck reads the table from the built core with this
// layout (EntrySize, HandlerOffset).
type Entry struct {
	Name    string
	Handler task.Handler
	Support Support
	Note    string
}

// Table maps each system-call number to its entry. It is static data: it must work before the
// Go runtime has run any initialisation code.
var Table = [abi.SimpleOSLast + 1]Entry{
	// memory (mem.go; mmio)
	abi.SysMmap:     {"mmap", mmap, Partial, "anonymous memory only (ENODEV for files); demand-zero"},
	abi.SysMunmap:   {"munmap", munmap, Full, ""},
	abi.SysMprotect: {"mprotect", mprotect, Full, ""},
	abi.SysMadvise:  {"madvise", madvise, Partial, "MADV_DONTNEED and MADV_FREE drop pages; other advice is ignored"},
	abi.SysBrk:      {"brk", brk, Stub, "no program break: returns 0, callers fall back to mmap"},
	abi.SysMMIOMap:  {"mmio_map", mmio.SysMap, Own, "(phys, length) -> address of device memory the policy grants (ring 1)"},

	// a driver's PCI device (pcidev)
	abi.SysDeviceInfo:   {"device_info", pcidev.SysInfo, Own, "(buf, size): the PCI device the policy grants"},
	abi.SysDeviceConfig: {"device_config", pcidev.SysConfig, Own, "(offset, width, value, write): its config space, writes mediated"},
	abi.SysDMAAlloc:     {"dma_alloc", pcidev.SysDMAAlloc, Own, "(length, iova *u64) -> address: memory in its IOMMU domain"},
	abi.SysDMAFree:      {"dma_free", pcidev.SysDMAFree, Own, "(address, length)"},

	// threads (thread.go) and futexes (futex.go)
	abi.SysClone:         {"clone", clone, Partial, "threads only (CLONE_VM|CLONE_THREAD): no fork"},
	abi.SysExit:          {"exit", exit, Full, ""},
	abi.SysExitGroup:     {"exit_group", exitGroup, Full, ""},
	abi.SysSchedYield:    {"sched_yield", schedYield, Full, ""},
	abi.SysGettid:        {"gettid", gettid, Full, ""},
	abi.SysSetTidAddress: {"set_tid_address", setTidAddress, Full, ""},
	abi.SysFutex:         {"futex", futex, Partial, "WAIT, WAKE and their BITSET forms (bitsets ignored); every futex is process-private"},

	// time (time.go)
	abi.SysClockGettime:   {"clock_gettime", clockGettime, Full, ""},
	abi.SysClockGetres:    {"clock_getres", clockGetres, Full, ""},
	abi.SysGettimeofday:   {"gettimeofday", gettimeofday, Full, ""},
	abi.SysTime:           {"time", timeNow, Full, ""},
	abi.SysNanosleep:      {"nanosleep", nanosleep, Full, ""},
	abi.SysClockNanosleep: {"clock_nanosleep", clockNanosleep, Full, ""},

	// signals (package signal)
	abi.SysRtSigaction:   {"rt_sigaction", signal.SysAction, Full, ""},
	abi.SysRtSigprocmask: {"rt_sigprocmask", signal.SysProcmask, Full, ""},
	abi.SysRtSigreturn:   {"rt_sigreturn", signal.SysReturn, Full, ""},
	abi.SysSigaltstack:   {"sigaltstack", signal.SysAltstack, Full, ""},
	abi.SysKill:          {"kill", signal.SysKill, Partial, "the caller's own process only"},
	abi.SysTkill:         {"tkill", signal.SysTkill, Partial, "threads of the caller's process only"},
	abi.SysTgkill:        {"tgkill", signal.SysTgkill, Partial, "threads of the caller's process only"},

	// files (package files) and the console driver's calls (package console)
	abi.SysRead:          {"read", files.Read, Partial, "files (one request moves at most 64 KiB), pipes, eventfds; the console reads end of file"},
	abi.SysWrite:         {"write", files.Write, Partial, "files (64 KiB per request), the console (4 KiB per call), pipes, eventfds"},
	abi.SysPread64:       {"pread64", files.Pread64, Full, "files (64 KiB per request)"},
	abi.SysPwrite64:      {"pwrite64", files.Pwrite64, Full, "files (64 KiB per request)"},
	abi.SysReadv:         {"readv", files.Readv, Partial, "files and pipes: the first non-empty buffer (a short read)"},
	abi.SysWritev:        {"writev", files.Writev, Partial, "the console; files and pipes: the first non-empty buffer (a short write)"},
	abi.SysOpen:          {"open", vfs.Open, Full, "through the file-system server; ENOENT when there is none"},
	abi.SysOpenat:        {"openat", vfs.Openat, Full, "O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_CLOEXEC; O_NOFOLLOW ignored (no links)"},
	abi.SysCreat:         {"creat", vfs.Creat, Full, ""},
	abi.SysClose:         {"close", files.Close, Full, ""},
	abi.SysLseek:         {"lseek", files.Lseek, Partial, "SEEK_SET, SEEK_CUR, SEEK_END (no SEEK_DATA/SEEK_HOLE)"},
	abi.SysFstat:         {"fstat", files.Fstat, Full, "files through the server; the console and pipes: type and block size"},
	abi.SysStat:          {"stat", vfs.Stat, Full, ""},
	abi.SysLstat:         {"lstat", vfs.Stat, Full, "no symbolic links: stat"},
	abi.SysNewfstatat:    {"newfstatat", files.Newfstatat, Full, "AT_SYMLINK_NOFOLLOW has nothing to do (no links)"},
	abi.SysStatx:         {"statx", files.Statx, Full, "the basic stats; btime is mtime"},
	abi.SysAccess:        {"access", vfs.Access, Full, "no permissions but FAT's read-only attribute and the policy's grants"},
	abi.SysFaccessat:     {"faccessat", vfs.Faccessat, Full, ""},
	abi.SysFaccessat2:    {"faccessat2", vfs.Faccessat, Full, "flags ignored"},
	abi.SysReadlink:      {"readlink", vfs.Readlink, Full, "no symbolic links: EINVAL for anything that exists"},
	abi.SysReadlinkat:    {"readlinkat", vfs.Readlinkat, Full, "no symbolic links: EINVAL for anything that exists"},
	abi.SysGetdents64:    {"getdents64", files.Getdents64, Full, ""},
	abi.SysMkdir:         {"mkdir", vfs.Mkdir, Full, ""},
	abi.SysMkdirat:       {"mkdirat", vfs.Mkdirat, Full, ""},
	abi.SysUnlink:        {"unlink", vfs.Unlink, Full, ""},
	abi.SysRmdir:         {"rmdir", vfs.Rmdir, Full, ""},
	abi.SysUnlinkat:      {"unlinkat", vfs.Unlinkat, Full, ""},
	abi.SysRename:        {"rename", vfs.Rename, Full, ""},
	abi.SysRenameat:      {"renameat", vfs.Renameat, Full, ""},
	abi.SysRenameat2:     {"renameat2", vfs.Renameat2, Partial, "RENAME_NOREPLACE; RENAME_EXCHANGE and RENAME_WHITEOUT are EINVAL"},
	abi.SysFtruncate:     {"ftruncate", files.Ftruncate, Full, ""},
	abi.SysTruncate:      {"truncate", enosys, Stub, "ENOSYS: open and ftruncate"},
	abi.SysFsync:         {"fsync", files.Fsync, Full, "durable when it returns"},
	abi.SysFdatasync:     {"fdatasync", files.Fsync, Full, "as fsync"},
	abi.SysSync:          {"sync", vfs.Sync, Full, ""},
	abi.SysGetcwd:        {"getcwd", vfs.Getcwd, Full, "the path in the task's view (its root is /)"},
	abi.SysChdir:         {"chdir", vfs.Chdir, Full, ""},
	abi.SysFchdir:        {"fchdir", files.Fchdir, Full, ""},
	abi.SysDup:           {"dup", files.Dup, Partial, "files, pipes and the console (EINVAL for epoll and eventfd)"},
	abi.SysDup2:          {"dup2", files.Dup2, Partial, "as dup"},
	abi.SysDup3:          {"dup3", files.Dup3, Partial, "as dup"},
	abi.SysFcntl:         {"fcntl", files.Fcntl, Partial, "F_DUPFD(_CLOEXEC), F_GETFD, F_SETFD, F_GETFL, F_SETFL (O_APPEND, O_NONBLOCK); no locks"},
	abi.SysChmod:         {"chmod", zero, Stub, "FAT has no permissions: 0"},
	abi.SysFchmod:        {"fchmod", zero, Stub, "FAT has no permissions: 0"},
	abi.SysFchmodat:      {"fchmodat", zero, Stub, "FAT has no permissions: 0"},
	abi.SysUtimensat:     {"utimensat", zero, Stub, "times are not set: 0"},
	abi.SysUmask:         {"umask", umask, Stub, "0o022, whatever is asked"},
	abi.SysFadvise64:     {"fadvise64", zero, Stub, "advice ignored"},
	abi.SysFallocate:     {"fallocate", eopnotsupp, Stub, "EOPNOTSUPP"},
	abi.SysIoctl:         {"ioctl", files.Ioctl, Stub, "ENOTTY"},
	abi.SysPipe:          {"pipe", files.Pipe, Full, ""},
	abi.SysPipe2:         {"pipe2", files.Pipe2, Partial, "O_NONBLOCK; other flags ignored"},
	abi.SysEpollCreate:   {"epoll_create", files.EpollCreate, Full, ""},
	abi.SysEpollCreate1:  {"epoll_create1", files.EpollCreate, Full, ""},
	abi.SysEpollCtl:      {"epoll_ctl", files.EpollCtl, Partial, "level-triggered; 16 descriptors per instance"},
	abi.SysEpollWait:     {"epoll_wait", files.EpollWait, Full, ""},
	abi.SysEpollPwait:    {"epoll_pwait", files.EpollWait, Partial, "the signal mask is ignored"},
	abi.SysEventfd:       {"eventfd", files.Eventfd, Full, ""},
	abi.SysEventfd2:      {"eventfd2", files.Eventfd, Partial, "reads never block (EAGAIN when zero)"},
	abi.SysConsoleAttach: {"console_attach", console.SysAttach, Own, "the caller becomes the console driver (policy: serves console)"},
	abi.SysConsoleFetch:  {"console_fetch", console.SysFetch, Own, "(buf, len) -> buffered output, not consumed"},
	abi.SysConsoleCommit: {"console_commit", console.SysCommit, Own, "(n) consumes n bytes written out"},

	// process and machine (misc.go)
	abi.SysArchPrctl:        {"arch_prctl", archPrctl, Partial, "ARCH_SET_FS and ARCH_GET_FS"},
	abi.SysGetpid:           {"getpid", getpid, Full, ""},
	abi.SysGetppid:          {"getppid", zero, Stub, "0: no parent"},
	abi.SysGetuid:           {"getuid", zero, Stub, "0"},
	abi.SysGeteuid:          {"geteuid", zero, Stub, "0"},
	abi.SysGetgid:           {"getgid", zero, Stub, "0"},
	abi.SysGetegid:          {"getegid", zero, Stub, "0"},
	abi.SysUname:            {"uname", uname, Full, ""},
	abi.SysSchedGetaffinity: {"sched_getaffinity", schedGetaffinity, Full, "one CPU"},
	abi.SysPrlimit64:        {"prlimit64", prlimit64, Partial, "reads fixed limits; setting is ignored"},
	abi.SysGetrlimit:        {"getrlimit", getrlimit, Partial, "fixed limits"},
	abi.SysPrctl:            {"prctl", einval, Stub, "EINVAL"},
	abi.SysGetrandom:        {"getrandom", getrandom, Full, "4 KiB per call"},
	abi.SysSetRobustList:    {"set_robust_list", zero, Stub, "ignored"},
	abi.SysWaitEvent:        {"wait_event", waitEvent, Own, "(kind) the core's goroutines wait for a task's end or a content write; the core only"},
	abi.SysHeartbeat:        {"heartbeat", heartbeat, Own, "the caller tells the watchdog it is alive"},
	abi.SysFilesReap:        {"files_reap", vfs.Reap, Own, "closes one file left open by an ended task -> 1, or 0 (the core only)"},
	abi.SysReady:            {"ready", snapshot.SysReady, Own, "the caller has initialised: the core may snapshot it -> ReadyCold, ReadySnapshot or ReadyRestored"},

	// IPC (package ipc), notifications (notify), events (event)
	abi.SysIPCRegister:      {"ipc_register", ipc.SysRegister, Own, "(name, len) -> handle (policy: serves)"},
	abi.SysIPCLookup:        {"ipc_lookup", ipc.SysLookup, Own, "(name, len) -> handle (policy: calls)"},
	abi.SysIPCCall:          {"ipc_call", ipc.SysCall, Own, "(handle, msg, timeout ns)"},
	abi.SysIPCRecv:          {"ipc_recv", ipc.SysRecv, Own, "(handle, msg, timeout ns)"},
	abi.SysIPCReply:         {"ipc_reply", ipc.SysReply, Own, "(0, msg)"},
	abi.SysIPCReplyRecv:     {"ipc_replyrecv", ipc.SysReplyRecv, Own, "(handle, msg, timeout ns)"},
	abi.SysIPCCallRegs:      {"ipc_call_regs", ipc.SysCall, Own, "ipc_call with the message in registers (RDI handle, RSI label, RDX R10 R8 R9 words, R12 R13 grant, RBX timeout ns)"},
	abi.SysIPCReplyRecvRegs: {"ipc_replyrecv_regs", ipc.SysReplyRecv, Own, "ipc_replyrecv with the reply and the next call in registers"},
	abi.SysIPCRecvRegs:      {"ipc_recv_regs", ipc.SysRecvRegs, Own, "ipc_recv with the call in registers"},
	abi.SysIPCBuffer:        {"ipc_buffer", ipc.SysBuffer, Own, "the calling thread's IPC buffer: a page of its own anonymous, writable memory, pinned (0: none); messages with GrantPages = abi.GrantBuffer carry GrantAddr bytes of it"},
	abi.SysIPCAwaitRegs:     {"ipc_await_regs", ipc.SysAwaitRegs, Own, "the reply to the thread's kept call (abi.IPCKeep) in registers (RBX timeout ns)"},
	abi.SysNotifyWait:       {"notify_wait", notify.SysWait, Own, "(mask, timeout ns; 1 = poll) -> bits"},
	abi.SysEventSubscribe:   {"event_subscribe", event.SysSubscribe, Own, "(name, len) -> subscription (ring 2, policy: events)"},
	abi.SysEventPost:        {"event_post", event.SysPost, Own, "(name, len, args *[4]u64) -> deliveries (policy: publishes)"},
	abi.SysEventRecv:        {"event_recv", event.SysRecv, Own, "(buf *Event, timeout ns)"},

	// content files (package content) and the fault-injection and fuzzing reports (inject)
	abi.SysContentRead:  {"content_read", content.SysRead, Own, "(name, len, buf, size) -> file length (policy: content)"},
	abi.SysContentWrite: {"content_write", content.SysWrite, Own, "(name, len, buf, n), decided by the core's content service"},
	abi.SysInjectReport: {"inject_report", inject.SysReport, Own, "(outcome) what an injected fault did"},
	abi.SysFuzzReport:   {"fuzz_report", inject.SysFuzzReport, Own, "(batch, calls, findings) a fuzzer's progress"},
	abi.SysInjectWait:   {"inject_wait", inject.SysWait, Own, "(buf, size, timeout ns) -> length: a fault agent waits for the fault the campaign arms in its task"},
}

// EntrySize and HandlerOffset are the table's layout, for core/trapcheck.
const (
	EntrySize     = 48
	HandlerOffset = 16
)
