package abi

// Linux x86-64 system-call numbers the core serves (core/kernel/syscall.go has the table).
const (
	SysRead             = 0
	SysWrite            = 1
	SysOpen             = 2
	SysClose            = 3
	SysStat             = 4
	SysFstat            = 5
	SysLstat            = 6
	SysLseek            = 8
	SysMmap             = 9
	SysMprotect         = 10
	SysMunmap           = 11
	SysBrk              = 12
	SysRtSigaction      = 13
	SysRtSigprocmask    = 14
	SysRtSigreturn      = 15
	SysIoctl            = 16
	SysPread64          = 17
	SysPwrite64         = 18
	SysReadv            = 19
	SysWritev           = 20
	SysAccess           = 21
	SysPipe             = 22
	SysSchedYield       = 24
	SysMadvise          = 28
	SysDup              = 32
	SysDup2             = 33
	SysNanosleep        = 35
	SysGetpid           = 39
	SysClone            = 56
	SysExit             = 60
	SysKill             = 62
	SysUname            = 63
	SysFcntl            = 72
	SysFsync            = 74
	SysFdatasync        = 75
	SysTruncate         = 76
	SysFtruncate        = 77
	SysGetcwd           = 79
	SysChdir            = 80
	SysFchdir           = 81
	SysRename           = 82
	SysMkdir            = 83
	SysRmdir            = 84
	SysCreat            = 85
	SysUnlink           = 87
	SysReadlink         = 89
	SysChmod            = 90
	SysFchmod           = 91
	SysUmask            = 95
	SysGettimeofday     = 96
	SysGetrlimit        = 97
	SysGetuid           = 102
	SysGetgid           = 104
	SysGeteuid          = 107
	SysGetegid          = 108
	SysGetppid          = 110
	SysSigaltstack      = 131
	SysPrctl            = 157
	SysSync             = 162
	SysArchPrctl        = 158
	SysGettid           = 186
	SysTkill            = 200
	SysTime             = 201
	SysFutex            = 202
	SysSchedGetaffinity = 204
	SysEpollCreate      = 213
	SysGetdents64       = 217
	SysSetTidAddress    = 218
	SysFadvise64        = 221
	SysClockGettime     = 228
	SysClockGetres      = 229
	SysClockNanosleep   = 230
	SysExitGroup        = 231
	SysEpollWait        = 232
	SysEpollCtl         = 233
	SysTgkill           = 234
	SysOpenat           = 257
	SysMkdirat          = 258
	SysNewfstatat       = 262
	SysUnlinkat         = 263
	SysRenameat         = 264
	SysReadlinkat       = 267
	SysFchmodat         = 268
	SysFaccessat        = 269
	SysSetRobustList    = 273
	SysUtimensat        = 280
	SysEpollPwait       = 281
	SysEventfd          = 284
	SysFallocate        = 285
	SysEventfd2         = 290
	SysEpollCreate1     = 291
	SysDup3             = 292
	SysPipe2            = 293
	SysPrlimit64        = 302
	SysRenameat2        = 316
	SysGetrandom        = 318
	SysStatx            = 332
	SysFaccessat2       = 439

	// LinuxSyscalls bounds the Linux numbers the table holds.
	LinuxSyscalls = 440
)

// What ready returns: whether the core took a snapshot of the caller now, or the caller is an
// instance restored from one (it returns there, in every thread of the snapshot).
const (
	ReadyCold     = 0 // no snapshot: none asked for (the policy), or the core refused (it says why)
	ReadySnapshot = 1 // the core took the snapshot; later restarts resume from here
	ReadyRestored = 2 // this instance was restored from the snapshot
)

// SimpleOS's own system calls, outside Linux's numbering (0x400-0x4ff).
const (
	SysWaitEvent = 0x400 // the core's supervisor waits for a task event (core only)
	SysHeartbeat = 0x401 // a task tells the watchdog it is alive
	SysFilesReap = 0x402 // the core closes the server handles of files left open by ended tasks (core only)
	SysReady     = 0x403 // a module has initialised: the core may snapshot it (-> Ready*)

	// IPC (core/kernel/ipc.go; the user side is package ipc).
	SysIPCRegister  = 0x410 // (name, len) -> handle
	SysIPCLookup    = 0x411 // (name, len) -> handle
	SysIPCCall      = 0x412 // (handle, msg, timeout ns)
	SysIPCRecv      = 0x413 // (handle, msg, timeout ns)
	SysIPCReply     = 0x414 // (0, msg)
	SysIPCReplyRecv = 0x415 // (handle, msg, timeout ns)
	// The register path (docs/ipc.md): the message in RSI (label), RDX R10 R8 R9 (words), R12
	// R13 (grant address, pages); RDI the handle in, the badge out; RBX the timeout ns.
	SysIPCCallRegs      = 0x416 // the reply comes back in the same registers
	SysIPCReplyRecvRegs = 0x417 // the reply goes from them; the next call comes back in them
	SysIPCRecvRegs      = 0x418 // (handle in RDI, timeout in RBX): the next call comes back in them
	SysIPCAwaitRegs     = 0x419 // (timeout in RBX): the reply to the thread's kept call (IPCKeep) comes back in them
	SysIPCBuffer        = 0x41a // (addr): the calling thread's IPC buffer (abi.GrantBuffer), a page of its own; 0: none

	// IPCKeep, or'd into ipc_call_regs' or ipc_await_regs' timeout (RBX), keeps the call past
	// the wait: if the wait ends (its deadline, a signal) once a server has taken the call, the
	// system call returns EINPROGRESS and the call stays the server's to answer; the thread
	// collects the reply with ipc_await_regs. Without it, a wait that ends ends the call.
	IPCKeep = 1 << 63

	// Notifications, the console driver and device memory.
	SysNotifyWait    = 0x420 // (mask, timeout ns; 1 = poll) -> bits
	SysConsoleAttach = 0x421 // the caller becomes the console driver (policy: serves console)
	SysConsoleFetch  = 0x422 // (buf, len) -> bytes of buffered output, not consumed
	SysConsoleCommit = 0x423 // (n) consumes n bytes written out
	SysMMIOMap       = 0x424 // (phys, length) -> address of granted device memory

	// A ring-1 driver's PCI device and its DMA memory (abi/device.go).
	SysDeviceInfo   = 0x425 // (buf *DeviceInfo, size) -> 0: the device the caller's policy grants
	SysDeviceConfig = 0x426 // (offset, width 1|2|4, value, write 0|1) -> value read: its config space, mediated
	SysDMAAlloc     = 0x427 // (length, iova *uint64) -> address: memory mapped in the caller and in its device's IOMMU domain
	SysDMAFree      = 0x428 // (address, length): gone from both, the IOTLB invalidated

	// System events.
	SysEventSubscribe = 0x430 // (name, len) -> subscription index (ring 2, policy: events)
	SysEventPost      = 0x431 // (name, len, args *[4]u64) -> deliveries (policy: publishes)
	SysEventRecv      = 0x432 // (buf *event, timeout ns)

	// Content files and fault injection.
	SysContentRead  = 0x440 // (name, len, buf, size) -> file length
	SysContentWrite = 0x441 // (name, len, buf, n)
	SysInjectReport = 0x442 // (outcome: 1 handled, 2 breach)
	SysFuzzReport   = 0x443 // (batch, calls): a fuzzer's progress, for the core's canary checks
	SysInjectWait   = 0x444 // (buf, size, timeout ns) -> length: a module's fault agent waits for the fault the campaign arms in it

	// SimpleOSFirst and SimpleOSLast bound SimpleOS's own numbers.
	SimpleOSFirst = 0x400
	SimpleOSLast  = 0x4ff
)
