package fuzz

import (
	"fmt"
	"strings"
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

// checks is the check of a call judged by each of cs: the first complaint is the call's.
func checks(cs ...func(*env, []val, uintptr) string) func(*env, []val, uintptr) string {
	return func(e *env, a []val, r uintptr) string {
		for _, c := range cs {
			if why := c(e, a, r); why != "" {
				return why
			}
		}
		return ""
	}
}

// liveFD: a call on descriptor argument arg never succeeds when it names nothing at all (a
// bad-fd: past the table, negative, not a number the kernel ever gives). Not for the stubs
// that answer without looking (fchmod, fadvise64 on SimpleOS), nor for a closed descriptor,
// whose number the kernel may have given out again.
func liveFD(arg int) func(*env, []val, uintptr) string {
	return func(e *env, a []val, r uintptr) string {
		if strings.HasPrefix(a[arg].label, "bad-fd") {
			return fmt.Sprintf("succeeded on %s, which names no descriptor", a[arg].label)
		}
		return ""
	}
}

// within: a call that fills a buffer never reports more bytes than the buffer holds (the
// value of argument lenArg).
func within(lenArg int) func(*env, []val, uintptr) string {
	return func(e *env, a []val, r uintptr) string {
		if r > a[lenArg].v {
			return fmt.Sprintf("returned %#x bytes for a buffer of %#x", r, a[lenArg].v)
		}
		return ""
	}
}

// checkLseek: SEEK_SET puts a file's offset where it was asked to, or fails. (Only for the
// files the fuzzer opened: Linux answers 0 for an eventfd or an epoll, which never move.)
func checkLseek(e *env, a []val, r uintptr) string {
	if fd := a[0].v; fd < maxFD && e.own[fd] == kFile && a[2].v == 0 && r != a[1].v {
		return fmt.Sprintf("SEEK_SET to %#x left the offset at %#x", a[1].v, r)
	}
	return ""
}

// checkDup: a new descriptor is in the table (SimpleOS's has maxFD entries).
func checkDup(e *env, a []val, r uintptr) string {
	if e.simpleos && r >= maxFD {
		return fmt.Sprintf("descriptor %d, past the table", r)
	}
	return ""
}

// checkDupTo: dup2 and dup3 make the descriptor they were asked for (Linux reads it as an
// unsigned int); dup3 never onto the same descriptor (EINVAL).
func checkDupTo(dup3 bool) func(*env, []val, uintptr) string {
	return func(e *env, a []val, r uintptr) string {
		old, nfd := a[0].v, a[1].v
		if r != nfd && (e.simpleos || r != uintptr(uint32(nfd))) {
			return fmt.Sprintf("asked for descriptor %#x, made %#x", nfd, r)
		}
		if dup3 && old == nfd {
			return "dup3 of a descriptor onto itself succeeded"
		}
		return ""
	}
}

// checkGetcwd: the working directory is at least "/" and its NUL, within the buffer.
func checkGetcwd(e *env, a []val, r uintptr) string {
	if r < 2 {
		return fmt.Sprintf("a working directory of %d bytes with its NUL", r)
	}
	return within(1)(e, a, r)
}

// checkUmask: the old mask is a mask (permission bits only).
func checkUmask(e *env, a []val, r uintptr) string {
	if r&^0o777 != 0 {
		return fmt.Sprintf("an old umask of %#o", r)
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
