package fuzz

import (
	"fmt"
	"syscall"
)

// Oracles for particular calls: results no correct kernel gives, and the guards that keep a
// call's effect on the fuzzer's own thread from outliving it.

// checkMmap: a mapping the kernel placed must be page-aligned, in the lower half below the
// kernel-managed windows and clear of the arena; a MAP_FIXED one must be where it was asked
// for, and never at an address no task may map.
func checkMmap(e *env, a []val, r uintptr) string {
	addr, n, flags := a[0], a[1].v, a[3].v
	switch {
	case r&(pageSize-1) != 0:
		return "a mapping at a misaligned address"
	case flags&syscall.MAP_FIXED != 0 && r != addr.v:
		return fmt.Sprintf("MAP_FIXED at %#x placed the mapping at %#x", addr.v, r)
	case addr.hostile && (flags&(syscall.MAP_FIXED|mapFixedNoreplace) != 0 || r == addr.v):
		return "mapped at " + addr.label
	case !e.simpleos:
		return ""
	case r < pageSize || r+n < r || r+pageUp(n) > mmioWindow:
		return fmt.Sprintf("a mapping [%#x, +%#x) outside the task's part of the address space", r, n)
	case flags&(syscall.MAP_FIXED|mapFixedNoreplace) == 0 && r < e.arena+arenaSize+guardSize && r+n > e.arena-guardSize:
		return fmt.Sprintf("a new mapping at %#x overlaps the arena, which is mapped", r)
	}
	return ""
}

const mapFixedNoreplace = 0x100000

func pageUp(n uintptr) uintptr { return (n + pageSize - 1) &^ (pageSize - 1) }

// checkRange: munmap, mprotect and madvise never change the kernel half or the windows the
// kernel manages (device memory, grants).
func checkRange(e *env, a []val, r uintptr) string {
	addr, n := a[0].v, a[1].v
	if n == 0 {
		return "" // an empty range changes nothing (Linux and SimpleOS return 0)
	}
	if addr >= userTop || addr+n < addr {
		return fmt.Sprintf("changed [%#x, +%#x), which is not the task's", addr, n)
	}
	if e.simpleos && addr < windowsEnd && addr+n > mmioWindow {
		return fmt.Sprintf("changed [%#x, +%#x), in the windows the kernel manages", addr, n)
	}
	return ""
}

// checkMMIO: device memory is mapped only for a granted range, into the device window.
func checkMMIO(e *env, a []val, r uintptr) string {
	if !e.granted(a[0].v, a[1].v) {
		return fmt.Sprintf("mapped physical memory [%#x, +%#x), which the policy does not grant", a[0].v, a[1].v)
	}
	if r < mmioWindow || r >= dmaWindow {
		return fmt.Sprintf("device memory mapped at %#x, outside the device window", r)
	}
	return ""
}

// never is the check of a call that must never succeed for a fuzzer.
func never(why string) func(*env, []val, uintptr) string {
	return func(*env, []val, uintptr) string { return "succeeded: " + why }
}

// keepAction saves the handler of the signal a call may change and puts it back after.
func keepAction(e *env, a []val) func() {
	sig := a[0].v
	if a[1].v == 0 || a[1].hostile || sig < 1 || sig > 64 {
		return nil
	}
	var old [4]uint64
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, sig, 0, uintptr(ptrOf(&old)), 8, 0, 0); errno != 0 {
		return nil
	}
	return func() { syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, sig, uintptr(ptrOf(&old)), 0, 8, 0, 0) }
}

// keepMask saves the thread's signal mask and puts it back after the call.
func keepMask(e *env, a []val) func() {
	var old uint64
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 0, 0, uintptr(ptrOf(&old)), 8, 0, 0); errno != 0 {
		return nil
	}
	return func() { syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, uintptr(ptrOf(&old)), 0, 8, 0, 0) }
}
