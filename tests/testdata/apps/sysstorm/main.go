// Command sysstorm makes many raw system calls with random numbers and random
// arguments, to check that the kernel survives arbitrary syscall input and
// keeps the task alive (errors are fine, faults and hangs are not).
//
// Usage: sysstorm [N] [seed=S] [trace]    (N default 100000, S default 1;
// "trace" prints every call before making it, to find the one that hurts)
//
// Output:
//
//	sysstorm: seed=<S> calls=<N>
//	sysstorm: 25000 calls          (every 25000 calls)
//	...
//	sysstorm: <N> calls, <errors> errors
//	sysstorm ok
//
// Exit status: 0 (2 on a bad argument).
//
// Numbers are mostly 0..469 (Linux amd64 syscalls), sometimes 1000..1<<20 or
// a random 64-bit value (ENOSYS). Arguments mix small ints, -1, random 64-bit
// values, sizes, and pointers into a scratch buffer that has inaccessible
// guard pages on both sides, so oversized lengths end in EFAULT instead of
// overwriting the Go heap. The same seed gives the same sequence.
//
// Skipped numbers: those that would legitimately end, wedge or corrupt this
// program (see skip). When run directly on Linux (perhaps as root) it also
// skips calls that could harm the host, works in a fresh temporary directory,
// and keeps '/' and '.' out of the scratch buffer, so every path it names is a
// single component inside that directory.
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

const (
	maxNr       = 470 // Linux amd64 syscalls are 0..469 (6.18)
	scratchSize = 64 << 10
	guardSize   = 64 << 10
)

// skip lists the syscall numbers that are never made.
var skip = map[uint64]string{
	// Required: they end, replace or block the program, or wreck its memory,
	// signal state or thread state.
	0: "read", 7: "poll", 9: "mmap", 10: "mprotect", 11: "munmap", 12: "brk",
	13: "rt_sigaction", 14: "rt_sigprocmask", 15: "rt_sigreturn",
	23: "select", 28: "madvise", 34: "pause", 35: "nanosleep", 56: "clone",
	57: "fork", 58: "vfork", 59: "execve", 60: "exit", 61: "wait4", 62: "kill",
	130: "rt_sigsuspend", 131: "sigaltstack", 157: "prctl", 158: "arch_prctl",
	200: "tkill", 202: "futex", 218: "set_tid_address", 230: "clock_nanosleep",
	231: "exit_group", 232: "epoll_wait", 234: "tgkill", 270: "pselect6",
	271: "ppoll", 281: "epoll_pwait", 322: "execveat",
	// Also end or wedge the program: closing/replacing stdout or the Go
	// runtime's epoll/eventfd descriptors (runtime throws), output garbage on
	// stdout, calls that can block forever on objects the storm created,
	// memory-map changes, limits that make the runtime fail to allocate,
	// seccomp strict mode, rseq with a garbage area, signals on timers.
	1: "write", 3: "close", 19: "readv", 20: "writev", 25: "mremap",
	33: "dup2", 40: "sendfile", 42: "connect", 43: "accept", 44: "sendto",
	45: "recvfrom", 46: "sendmsg", 47: "recvmsg", 73: "flock",
	128: "rt_sigtimedwait", 151: "mlockall", 160: "setrlimit",
	216: "remap_file_pages", 222: "timer_create", 275: "splice", 276: "tee",
	278: "vmsplice", 288: "accept4", 292: "dup3", 299: "recvmmsg",
	302: "prlimit64", 307: "sendmmsg", 317: "seccomp", 327: "preadv2",
	328: "pwritev2", 329: "pkey_mprotect", 334: "rseq", 435: "clone3",
	335: "uretprobe", // Linux ≥ 6.11 kills the caller with SIGILL unless it is called from a uretprobe trampoline
	436: "close_range", 441: "epoll_pwait2", 449: "futex_waitv",
	454: "futex_wake", 455: "futex_wait", 456: "futex_requeue", 462: "mseal",
	// Host safety when run directly on Linux: system-wide state, other
	// processes, persistent IPC objects, device nodes and FIFOs, unbounded
	// memory use.
	29: "shmget", 30: "shmat", 31: "shmctl", 64: "semget", 65: "semop",
	66: "semctl", 67: "shmdt", 68: "msgget", 69: "msgsnd", 70: "msgrcv",
	71: "msgctl", 101: "ptrace", 103: "syslog", 133: "mknod",
	141: "setpriority", 144: "sched_setscheduler", 153: "vhangup",
	155: "pivot_root", 159: "adjtimex", 161: "chroot", 163: "acct",
	164: "settimeofday", 165: "mount", 166: "umount2", 167: "swapon",
	168: "swapoff", 169: "reboot", 170: "sethostname", 171: "setdomainname",
	175: "init_module", 176: "delete_module", 179: "quotactl",
	220: "semtimedop", 227: "clock_settime", 240: "mq_open", 241: "mq_unlink",
	242: "mq_timedsend", 243: "mq_timedreceive", 244: "mq_notify",
	245: "mq_getsetattr", 246: "kexec_load", 251: "ioprio_set",
	256: "migrate_pages", 259: "mknodat", 279: "move_pages",
	285: "fallocate", 297: "rt_tgsigqueueinfo", 129: "rt_sigqueueinfo",
	300: "fanotify_init", 301: "fanotify_mark", 304: "open_by_handle_at",
	305: "clock_adjtime", 310: "process_vm_readv", 311: "process_vm_writev",
	313: "finit_module", 314: "sched_setattr", 320: "kexec_file_load",
	321: "bpf", 424: "pidfd_send_signal", 428: "open_tree",
	429: "move_mount", 430: "fsopen", 431: "fsconfig", 432: "fsmount",
	433: "fspick", 434: "pidfd_open", 438: "pidfd_getfd", 442: "mount_setattr",
	443: "quotactl_fd", 467: "open_tree_attr",
}

// scratchBuf returns a buffer with inaccessible guard pages on both sides
// (mmap'd PROT_NONE, then the middle re-mapped read-write in place), or a
// plain heap slice if the kernel does not support that.
func scratchBuf() []byte {
	all, err := syscall.Mmap(-1, 0, guardSize+scratchSize+guardSize, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err == nil {
		mid := uintptr(unsafe.Pointer(&all[guardSize]))
		p, _, errno := syscall.RawSyscall6(syscall.SYS_MMAP, mid, scratchSize,
			syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_FIXED, ^uintptr(0), 0)
		if errno == 0 && p == mid {
			return all[guardSize : guardSize+scratchSize]
		}
	}
	fmt.Println("sysstorm: no guard pages, using a heap buffer")
	return make([]byte, scratchSize)
}

// clean replaces '/' and '.' (which the kernel may have written, e.g. by
// getcwd or getdents) so the buffer never holds a path leaving the directory.
func clean(b []byte) {
	for i, c := range b {
		if c == '/' || c == '.' {
			b[i] = 'x'
		}
	}
}

func main() {
	n, seed, trace := 100000, uint64(1), false
	for _, a := range os.Args[1:] {
		var err error
		if a == "trace" {
			trace = true
		} else if v, ok := strings.CutPrefix(a, "seed="); ok {
			seed, err = strconv.ParseUint(v, 0, 64)
		} else {
			n, err = strconv.Atoi(strings.TrimPrefix(a, "n="))
		}
		if err != nil || n < 0 {
			fmt.Printf("sysstorm: bad argument %q\n", a)
			os.Exit(2)
		}
	}
	fmt.Printf("sysstorm: seed=%d calls=%d\n", seed, n)

	// Work in a private directory if there is a file system (on Linux).
	if dir, err := os.MkdirTemp("", "sysstorm"); err == nil {
		if os.Chdir(dir) == nil {
			defer func() {
				_ = os.Chmod(dir, 0o700)
				_ = os.RemoveAll(dir) // best effort
			}()
		}
	}

	rng := rand.New(rand.NewPCG(seed, 0x5157))
	buf := scratchBuf()
	for i := range buf {
		if rng.IntN(8) == 0 {
			buf[i] = 0 // short strings
		} else {
			buf[i] = byte(1 + rng.IntN(255))
		}
	}
	clean(buf)
	base := uintptr(unsafe.Pointer(&buf[0]))

	arg := func() uintptr {
		switch r := rng.IntN(100); {
		case r < 30:
			return uintptr(rng.IntN(65)) // small int (fd, flag, count, ...)
		case r < 40:
			return ^uintptr(0) // -1
		case r < 60:
			return uintptr(rng.Uint64())
		case r < 65:
			return uintptr(1) << rng.IntN(64) // sizes and flag bits
		case r < 75:
			return base + uintptr(rng.IntN(scratchSize/4096))*4096 // page-aligned
		default:
			return base + uintptr(rng.IntN(scratchSize))
		}
	}
	nr := func() uintptr {
		for {
			var v uint64
			switch r := rng.IntN(100); {
			case r < 85:
				v = uint64(rng.IntN(maxNr))
			case r < 95:
				v = 1000 + uint64(rng.IntN(1<<20-1000))
			default:
				v = rng.Uint64()
			}
			// Linux looks only at the low 32 bits (and the x32 bit); keep
			// big numbers big there as well.
			if lo := uint32(v) &^ 0x40000000; v >= 1000 && lo < 1000 {
				continue
			}
			if _, bad := skip[v]; !bad {
				return uintptr(v)
			}
		}
	}

	// The storm runs on a thread of its own (LockOSThread, never unlocked),
	// so per-thread state it changes (credentials via setuid & co., which raw
	// syscalls apply to one thread only) does not leak to the rest of the
	// program, e.g. to the cleanup above.
	done := make(chan int)
	go func() {
		runtime.LockOSThread()
		done <- storm(n, trace, rng, buf, nr, arg)
		select {} // keep the thread; it may be in no state to be reused
	}()
	errs := <-done
	fmt.Printf("sysstorm: %d calls, %d errors\n", n, errs)
	fmt.Println("sysstorm ok")
}

// storm makes n calls and returns how many failed.
func storm(n int, trace bool, rng *rand.Rand, buf []byte, nr, arg func() uintptr) int {
	errs := 0
	for i := 1; i <= n; i++ {
		num := nr()
		a1, a2, a3, a4, a5, a6 := arg(), arg(), arg(), arg(), arg(), arg()
		if trace {
			fmt.Printf("sysstorm: call %d nr=%d args=%#x %#x %#x %#x %#x %#x\n", i, num, a1, a2, a3, a4, a5, a6)
		}
		if _, _, e := syscall.RawSyscall6(num, a1, a2, a3, a4, a5, a6); e != 0 {
			errs++
		}
		clean(buf)
		if i%25000 == 0 {
			fmt.Printf("sysstorm: %d calls\n", i)
		}
	}
	return errs
}
