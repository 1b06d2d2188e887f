// Package fault is the in-task half of SimpleOS's fault-injection framework: it executes one
// fault of a named class in the calling context. It is linked into modules (the sensor, the
// pipe service, the console driver) and into the ring-0 core, so the same fault can be run in a
// task in ring 1, 2 or 3 and in the core, and the two outcomes compared.
//
// # Classes
//
//	null-deref            read through a nil pointer, not recovered: the task dies (SIGSEGV)
//	null-deref-recovered  the same under debug.SetPanicOnFault(true) and recover: Handled
//	oob-read              the CF291 class: content.Fixtures' bad file screened by MatchNative
//	                      over content.DemoEvents reads past its input and faults at 0xdead0000
//	wild-write-core       write a word to Targets.CoreAddr, inside the core image: must fault
//	wild-write-task       write a word to Targets.TaskAddr, another task's memory as seen through
//	                      the core's direct map: must fault
//	div-zero              integer division by a zero the compiler cannot see: Go panic
//	invalid-opcode        UD2: SIGILL
//	privileged            HLT, then CLI: #GP in rings 1 to 3
//	port-io               IN from port 0x60, OUT to port 0x80: #GP unless the port is granted
//	stack-overflow        unbounded recursion: the Go runtime's "stack exceeds limit" fatal error
//	endless-loop          a call-free loop that never ends: the watchdog has to kill the task
//	mem-exhaust           allocate and touch 1 MiB blocks forever: the core's quota (or the
//	                      runtime) stops the task
//	thread-bomb           goroutines that LockOSThread and block, forever: the core caps the
//	                      task's threads and the runtime dies
//	bad-ipc               about 200 malformed IPC system calls (bad name and message pointers,
//	                      lengths, handles, page grants); each must fail with an errno: Handled
//	syscall-storm         5,000 random system calls with random arguments: Handled if the task
//	                      survives
//	panic                 panic("fault injected"), not recovered
//	bitflip-code          EXTERNAL: the core flips a bit in the task's text
//	bitflip-data          EXTERNAL: the core flips a bit in the task's data
//	kill                  EXTERNAL: the core kills the task
//
// File-system classes (fs.go: fs-crash-mid-write, fs-corrupt-read, fs-hang) are committed the
// same way by the file-system server (ring3/fs/fsfault).
//
// Driver classes (driver.go: dma-wild, dma-stale, device-hang, crash-mid-write) are about a
// device: only its driver can commit them, in its request path. Arm hands their Spec back to
// the module instead of running Inject, and Inject refuses them; tier1/blk/blkfault commits
// them in the virtio-blk driver (ring 1, or the core's copy in the monolithic deployment).
//
// EXTERNAL classes are executed by the core, from outside the task: Inject does nothing for
// them and returns External. For the others, Inject runs the fault at once in the calling
// goroutine. Classes meant to end the task never return when the fault is contained; if
// execution continues past a fault that had to be stopped (a wild write or a privileged or I/O
// instruction that completed, as it does in ring 0), Inject returns Breach. Handled means the
// fault ran and the task is still alive and well. The one exception is oob-read, which returns
// Handled if MatchNative ever comes back (it should not).
//
// Two classes bound themselves so that the cause of death is the one named: stack-overflow
// first lowers the runtime's stack limit to 16 MiB (debug.SetMaxStack), so the recursion hits
// it before any memory quota; and the storm runs on a goroutine locked to its own OS thread,
// which ends with it, since raw system calls may change per-thread state. The storm never
// makes calls that would legitimately end or corrupt the caller (exit, kill, munmap, clone,
// rt_sigreturn and the like; see skip in storm.go), nor SimpleOS's own calls (0x400-0x4ff),
// which bad-ipc covers.
//
// # Arming a module
//
// The core passes a module one argument:
//
//	-inject=CLASS,DELAYMS,SEED,COREADDR,TASKADDR
//
// DELAYMS and SEED are decimal, the addresses hexadecimal with a 0x prefix; SEED, COREADDR and
// TASKADDR are optional (0, and 0 meaning the built-in default targets: 0x200000, the core
// image's link address, and 0xffff800000100000, in the core's direct map). ParseArg reads it
// into a Spec and Spec.Arg writes it back.
//
// A module calls Arm first thing in main. Arm removes the -inject= argument from os.Args (a
// malformed one is reported on stderr and ignored) and, if there was one, starts a goroutine
// that sleeps the delay, runs Inject and reports the outcome to the core with Report: the
// system call SYS_inject_report (0x442) with the Outcome in the first argument. Elsewhere
// (on Linux) the call fails with ENOSYS, which is ignored.
package fault
