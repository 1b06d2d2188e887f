package main

// Bounded work per system call (flood, ticker): writev of 1024 iovecs over one 32 MiB buffer
// must not hold the CPU for long; a ticker in another task measures the largest gap.

import (
	"syscall"
	"time"
	"unsafe"
)

func flood(args []string) {
	const size = 32 << 20
	buf, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON, ^uintptr(0), 0)
	if e != 0 {
		say("flood: mmap: %v", e)
		failed = true
		return
	}
	var iov [1024][2]uint64
	for i := range iov {
		iov[i] = [2]uint64{uint64(buf), size}
	}
	start := time.Now()
	var total uint64
	for i := 0; i < 5; i++ {
		n, _, e := syscall.Syscall(syscall.SYS_WRITEV, 1, uintptr(unsafe.Pointer(&iov)), uintptr(len(iov)))
		if e != 0 {
			say("flood: writev: %v", e)
			break
		}
		total += uint64(n)
	}
	say("flood: wrote %d bytes in 5 calls, %v", total, time.Since(start).Round(time.Millisecond))
}

func ticker(args []string) {
	d := time.Duration(number(args, 0)) * time.Millisecond
	start := time.Now()
	last, worst := start, time.Duration(0)
	for time.Since(start) < d {
		time.Sleep(20 * time.Millisecond)
		now := time.Now()
		if g := now.Sub(last); g > worst {
			worst = g
		}
		last = now
	}
	say("ticker: largest gap %d ms", worst.Milliseconds())
}
