// Package fuzz is SimpleOS's system-call fuzzer, in the manner of syzkaller: every system call
// the core serves — the Linux ones the Go runtime needs and SimpleOS's own (IPC, events,
// notifications, the console driver's, device memory, content files, fault injection) and the
// file calls the core forwards to the file-system server (paths under /tmp and /data,
// relative, climbing, overlong, unterminated; on Linux confined to the fuzzer's directory) — is
// described (calls.go), and each argument is generated from what breaks kernels (args.go):
// pointers into the task's own memory, one byte before or after it, across a page or region
// end, into its grant and device windows, the kernel half, the direct map, the entry area,
// the last page below 2^47 and non-canonical addresses; sizes 0, 1, page-1, page, page+1,
// 2^31-1, 2^32, 2^63 and ones that overflow an address; valid, closed, reused and foreign
// descriptors and IPC handles; flags with unknown bits. Calls pass resources along (the fds
// a pipe2 makes are read, written, polled and closed later), so generated programs get past
// the first EINVAL.
//
// A fuzzer task runs batches: each is a program of calls generated from a seed (the task's
// seed and the batch number), so any batch can be generated again exactly (Program,
// simpleos fuzz --repro). While the main thread runs the program, blocker threads sit in
// blocking calls (a pipe read, epoll_wait, futex, an IPC call lending pages, nanosleep) on the
// program's resources, and the program closes, unmaps and reuses those resources under them,
// and raw threads exit under them: the races where use-after-close and use-after-unmap live.
//
// Every call is also judged (Call.check): a result no correct kernel gives — success reading
// into or writing from a kernel address, mapping over a kernel-managed window — is a breach,
// reported with the batch's seed and program. The core's fuzz runner (core/fuzz.go) checks its
// own canaries and a bystander task's after every batch the fuzzer reports (fuzz_report).
//
// The fuzzer must survive its own program: calls that would end or wreck the task itself
// (exit, a signal whose default ends it, munmap of its Go heap, a new FS base, clone without
// a stack of its own) are generated only in forms that attack the kernel without that: their
// hostile arguments are the kernel's problem, their valid ones are confined to the fuzzer's
// arena.
package fuzz
