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

	"github.com/simpleos/simpleos/inject/fault"
)

const (
	maxNr       = 470 // Linux amd64 syscalls are 0..469 (6.18)
	scratchSize = 64 << 10
	guardSize   = 64 << 10
)

// skip lists the syscall numbers that are never made: the fault-injection storm's list
// (package inject/fault), which also keeps a storm run directly on Linux from harming the host.
var skip = fault.StormSkips

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
