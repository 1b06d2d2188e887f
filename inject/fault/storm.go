package fault

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/inject/fuzz"
)

// The syscall storm. On SimpleOS it is the system-call fuzzer's (package inject/fuzz): every
// call SimpleOS serves, with the fuzzer's hostile arguments and racing threads, skipping only
// the calls that end the task (and the two that report to the campaign); a result no correct
// kernel gives is a breach. On Linux (the host tests), where a storm must not reach beyond the
// process, it is the older one below, after tests/testdata/apps/sysstorm: random numbers with
// random arguments, skipping the calls that would legitimately end, wedge or corrupt the
// caller or harm the host. Errors are fine; the task must survive.

const (
	stormCalls  = 250
	maxNr       = 470 // Linux amd64 system calls are 0..469
	scratchSize = 16 << 10
	guardSize   = 64 << 10
)

// StormSkips lists the system-call numbers a storm never makes, with their names: the calls
// that would legitimately end, wedge or corrupt the caller, and those that could harm a Linux
// host when a storm runs there. tests/testdata/apps/sysstorm uses the same list. Do not
// modify it.
//
// It lists the numbers never called (sysstorm's list, and a few more that reach beyond the
// task when the storm runs directly on Linux). SimpleOS's own calls, 0x400-0x4ff, are skipped
// as well (see stormNr): bad-ipc covers IPC, and the others can block forever (notify_wait,
// event_recv), take over the console or write content files.
var StormSkips = map[uint64]string{
	// They end, replace or block the caller, or wreck its memory, signal or thread state.
	0: "read", 7: "poll", 9: "mmap", 10: "mprotect", 11: "munmap", 12: "brk",
	13: "rt_sigaction", 14: "rt_sigprocmask", 15: "rt_sigreturn",
	23: "select", 28: "madvise", 34: "pause", 35: "nanosleep", 56: "clone",
	57: "fork", 58: "vfork", 59: "execve", 60: "exit", 61: "wait4", 62: "kill",
	130: "rt_sigsuspend", 131: "sigaltstack", 157: "prctl", 158: "arch_prctl",
	200: "tkill", 202: "futex", 218: "set_tid_address", 230: "clock_nanosleep",
	231: "exit_group", 232: "epoll_wait", 234: "tgkill", 270: "pselect6",
	271: "ppoll", 281: "epoll_pwait", 322: "execveat",
	// They close or replace the runtime's descriptors, write garbage to stdout, block on
	// objects the storm made, change the memory map or limits, or kill the caller outright.
	1: "write", 3: "close", 19: "readv", 20: "writev", 25: "mremap",
	33: "dup2", 40: "sendfile", 42: "connect", 43: "accept", 44: "sendto",
	45: "recvfrom", 46: "sendmsg", 47: "recvmsg", 73: "flock",
	128: "rt_sigtimedwait", 151: "mlockall", 160: "setrlimit",
	216: "remap_file_pages", 222: "timer_create", 275: "splice", 276: "tee",
	278: "vmsplice", 288: "accept4", 292: "dup3", 299: "recvmmsg",
	302: "prlimit64", 307: "sendmmsg", 317: "seccomp", 327: "preadv2",
	328: "pwritev2", 329: "pkey_mprotect", 334: "rseq", 335: "uretprobe", 435: "clone3",
	436: "close_range", 441: "epoll_pwait2", 449: "futex_waitv",
	454: "futex_wake", 455: "futex_wait", 456: "futex_requeue", 462: "mseal",
	// Host safety on Linux: system-wide state, other processes, persistent objects, devices,
	// and the metadata of files behind inherited descriptors (as root, fchmod on a stdin of
	// /dev/null changes /dev/null for everyone). On Linux, run a storm only in a process whose
	// descriptors are its own, in a scratch directory (see TestSyscallStorm).
	77: "ftruncate", 91: "fchmod", 93: "fchown", 190: "fsetxattr", 199: "fremovexattr",
	29: "shmget", 30: "shmat", 31: "shmctl", 64: "semget", 65: "semop",
	66: "semctl", 67: "shmdt", 68: "msgget", 69: "msgsnd", 70: "msgrcv",
	71: "msgctl", 101: "ptrace", 103: "syslog", 133: "mknod",
	141: "setpriority", 142: "sched_setparam", 144: "sched_setscheduler", 153: "vhangup",
	155: "pivot_root", 159: "adjtimex", 161: "chroot", 162: "sync", 163: "acct",
	164: "settimeofday", 165: "mount", 166: "umount2", 167: "swapon",
	168: "swapoff", 169: "reboot", 170: "sethostname", 171: "setdomainname",
	172: "iopl", 173: "ioperm", 175: "init_module", 176: "delete_module", 179: "quotactl",
	203: "sched_setaffinity", 220: "semtimedop", 227: "clock_settime", 240: "mq_open",
	241: "mq_unlink", 242: "mq_timedsend", 243: "mq_timedreceive", 244: "mq_notify",
	245: "mq_getsetattr", 246: "kexec_load", 248: "add_key", 249: "request_key",
	250: "keyctl", 251: "ioprio_set", 256: "migrate_pages", 259: "mknodat",
	279: "move_pages", 285: "fallocate", 297: "rt_tgsigqueueinfo", 129: "rt_sigqueueinfo",
	298: "perf_event_open", 300: "fanotify_init", 301: "fanotify_mark", 304: "open_by_handle_at",
	305: "clock_adjtime", 310: "process_vm_readv", 311: "process_vm_writev",
	313: "finit_module", 314: "sched_setattr", 320: "kexec_file_load", 321: "bpf",
	424: "pidfd_send_signal", 428: "open_tree", 429: "move_mount", 430: "fsopen",
	431: "fsconfig", 432: "fsmount", 433: "fspick", 434: "pidfd_open", 438: "pidfd_getfd",
	440: "process_madvise", 442: "mount_setattr", 443: "quotactl_fd", 467: "open_tree_attr",
}

// xorshift is xorshift64: small, allocation-free and the same everywhere for a seed.
type xorshift struct{ s uint64 }

func newXorshift(seed uint64) *xorshift {
	// splitmix64 spreads the seed and never leaves a zero state.
	z := seed + 0x9e37_79b9_7f4a_7c15
	z = (z ^ z>>30) * 0xbf58_476d_1ce4_e5b9
	z = (z ^ z>>27) * 0x94d0_49bb_1331_11eb
	z ^= z >> 31
	if z == 0 {
		z = 1
	}
	return &xorshift{z}
}

func (x *xorshift) next() uint64 {
	x.s ^= x.s << 13
	x.s ^= x.s >> 7
	x.s ^= x.s << 17
	return x.s
}

func (x *xorshift) intn(n int) int { return int(x.next() % uint64(n)) }

// syscallStorm makes n random calls on a goroutine locked to its OS thread and never unlocked:
// raw calls may change per-thread state (credentials, affinity, signal masks), so the thread
// ends with the goroutine. It returns how many calls failed.
func syscallStorm(seed uint64, n int) (errs int) {
	done := make(chan int)
	go func() {
		runtime.LockOSThread()
		done <- storm(seed, n)
	}()
	return <-done
}

func storm(seed uint64, n int) (errs int) {
	rng := newXorshift(seed)
	buf, unmap := scratch()
	defer unmap()
	for i := range buf {
		if rng.intn(8) == 0 {
			buf[i] = 0 // short strings
		} else {
			buf[i] = byte(1 + rng.intn(255))
		}
	}
	clean(buf)
	base := uintptr(unsafe.Pointer(&buf[0]))
	arg := func() uintptr {
		switch r := rng.intn(100); {
		case r < 30:
			return uintptr(rng.intn(65)) // small int: fd, flag, count
		case r < 40:
			return ^uintptr(0) // -1
		case r < 60:
			return uintptr(rng.next())
		case r < 65:
			return 1 << rng.intn(64) // sizes and flag bits
		case r < 75:
			return base + uintptr(rng.intn(scratchSize/4096))*4096 // page-aligned
		default:
			return base + uintptr(rng.intn(scratchSize))
		}
	}
	for range n {
		nr := stormNr(rng)
		a1, a2, a3, a4, a5, a6 := arg(), arg(), arg(), arg(), arg(), arg()
		if _, _, e := syscall.RawSyscall6(nr, a1, a2, a3, a4, a5, a6); e != 0 {
			errs++
		}
		clean(buf)
	}
	return errs
}

// stormNr picks a number: mostly a Linux call, sometimes a large or random one (ENOSYS).
func stormNr(rng *xorshift) uintptr {
	for {
		var v uint64
		switch r := rng.intn(100); {
		case r < 85:
			v = uint64(rng.intn(maxNr))
		case r < 95:
			v = 1000 + uint64(rng.intn(1<<20-1000))
		default:
			v = rng.next()
		}
		// Linux looks only at the low 32 bits (and the x32 bit): keep big numbers big there,
		// and out of SimpleOS's own range.
		if lo := uint32(v) &^ 0x4000_0000; v >= maxNr && lo < 0x500 {
			continue
		}
		if _, bad := StormSkips[v]; !bad {
			return uintptr(v)
		}
	}
}

// scratch returns the buffer the pointer arguments point into, with inaccessible guard pages
// on both sides so oversized lengths end in EFAULT instead of overwriting the Go heap (a heap
// slice if the system cannot map them), and the function that releases it.
func scratch() ([]byte, func()) {
	const size = guardSize + scratchSize + guardSize
	all, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, size, syscall.PROT_NONE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON, ^uintptr(0), 0)
	if e == 0 {
		mid := all + guardSize
		p, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, mid, scratchSize, syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_FIXED, ^uintptr(0), 0)
		if e == 0 && p == mid {
			b := unsafe.Slice((*byte)(unsafe.Add(nil, mid)), scratchSize)
			return b, func() { syscall.RawSyscall(syscall.SYS_MUNMAP, all, size, 0) }
		}
		syscall.RawSyscall(syscall.SYS_MUNMAP, all, size, 0)
	}
	return make([]byte, scratchSize), func() {}
}

// clean replaces '/' and '.' (which calls like getcwd may have written), so the buffer never
// names a path outside the current directory.
func clean(b []byte) {
	for i, c := range b {
		if c == '/' || c == '.' {
			b[i] = 'x'
		}
	}
}

// stormOnSimpleOS is the storm on SimpleOS: the fuzzer's descriptions (package inject/fuzz).
func stormOnSimpleOS(seed uint64, n int) Outcome {
	r, err := fuzz.Storm(seed, n, os.Stdout)
	if err != nil {
		fmt.Printf("fault: syscall-storm: %v\n", err)
		return Handled
	}
	if len(r.Findings) > 0 {
		return Breach
	}
	return Handled
}
