package main

// Shared tables one task must not exhaust (exhaust, after-exhaust), and descriptors closed
// under a blocking call (pipe-reuse, epoll-reuse).

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// Implemented in thread_amd64.s.
func rawThread(stack uintptr) int64

// hour is the timespec rawThread's threads sleep for, again and again.
var hour = [2]int64{3600, 0}

// exhaust takes every pipe, eventfd and epoll instance the core gives it (in turns, so that
// its descriptor table does not run out on one kind first), then every thread, and holds
// them for three seconds.
func exhaust(args []string) {
	time.Sleep(time.Millisecond) // the runtime's netpoller first: its own epoll and eventfd
	pipes, eventfds, epolls := 0, 0, 0
	for more := true; more; {
		more = false
		var fds [2]int32
		if _, _, e := syscall.RawSyscall(syscall.SYS_PIPE2, uintptr(unsafe.Pointer(&fds)), 0, 0); e == 0 {
			pipes++
			more = true
		}
		if _, _, e := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, 0, 0); e == 0 {
			eventfds++
			more = true
		}
		if _, _, e := syscall.RawSyscall(syscall.SYS_EPOLL_CREATE1, 0, 0, 0); e == 0 {
			epolls++
			more = true
		}
	}
	// Threads outside the Go runtime (a failed clone would kill the runtime's own).
	threads := 0
	for ; threads < 256; threads++ {
		stack, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON, ^uintptr(0), 0)
		if e != 0 || rawThread(stack+4096) < 0 {
			break
		}
	}
	say("exhaust: holding %d pipes, %d eventfds, %d epoll instances, %d more threads", pipes, eventfds, epolls, threads)
	time.Sleep(3 * time.Second)
	say("exhaust: done")
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
}

// afterExhaust creates a pipe, an eventfd, an epoll instance and a thread once another task
// has taken all it could.
func afterExhaust(args []string) {
	time.Sleep(1500 * time.Millisecond)
	var fds [2]int32
	if _, _, e := syscall.RawSyscall(syscall.SYS_PIPE2, uintptr(unsafe.Pointer(&fds)), 0, 0); e != 0 {
		breach("after-exhaust: pipe2: %v", e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, 0, 0); e != 0 {
		breach("after-exhaust: eventfd2: %v", e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_EPOLL_CREATE1, 0, 0, 0); e != 0 {
		breach("after-exhaust: epoll_create1: %v", e)
	}
	done := make(chan bool)
	go func() {
		runtime.LockOSThread()
		done <- true
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		breach("after-exhaust: no new thread")
	}
	say("after-exhaust: done")
}

// pipeReuse: a thread blocks reading a pipe; a sibling closes both ends and creates a new
// pipe (likely in the same slot of the core's table) holding other data. The reader must
// not read the new pipe's data.
func pipeReuse(args []string) {
	var fds [2]int32
	syscall.RawSyscall(syscall.SYS_PIPE2, uintptr(unsafe.Pointer(&fds)), 0, 0)
	got := make(chan string)
	go func() {
		runtime.LockOSThread()
		var b [16]byte
		n, _, e := syscall.Syscall(syscall.SYS_READ, uintptr(fds[0]), uintptr(unsafe.Pointer(&b)), uintptr(len(b)))
		if e != 0 {
			got <- e.Error()
			return
		}
		got <- string(b[:n])
	}()
	time.Sleep(300 * time.Millisecond)
	var other [2]int32
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fds[0]), 0, 0)
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fds[1]), 0, 0)
	syscall.RawSyscall(syscall.SYS_PIPE2, uintptr(unsafe.Pointer(&other)), 0, 0)
	msg := []byte("OTHER-PIPE")
	syscall.RawSyscall(syscall.SYS_WRITE, uintptr(other[1]), uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)))
	select {
	case s := <-got:
		if s == string(msg) {
			breach("pipe-reuse: the reader of a closed pipe read another pipe's data %q", s)
		} else {
			say("pipe-reuse: the reader got %q", s)
		}
	case <-time.After(3 * time.Second):
		say("pipe-reuse: the reader is still blocked")
	}
}

// epollReuse: a thread waits on an epoll instance; a sibling closes its descriptor and wakes
// every epoll waiter. The waiter must not report events of another instance.
func epollReuse(args []string) {
	ep, _, _ := syscall.RawSyscall(syscall.SYS_EPOLL_CREATE1, 0, 0, 0)
	efd, _, _ := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, 0, 0)
	ev := [12]byte{1} // EPOLLIN, data = 0x1111
	*(*uint64)(unsafe.Pointer(&ev[4])) = 0x1111
	syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, ep, 1, efd, uintptr(unsafe.Pointer(&ev)), 0, 0)
	type result struct {
		n    uintptr
		e    syscall.Errno
		data [8]uint64
	}
	got := make(chan result)
	go func() {
		runtime.LockOSThread()
		var out [8 * 12]byte
		n, _, e := syscall.Syscall6(syscall.SYS_EPOLL_PWAIT, ep, uintptr(unsafe.Pointer(&out)), 8, 3000, 0, 0)
		r := result{n: n, e: e}
		for i := 0; i < 8 && e == 0 && i < int(n); i++ {
			r.data[i] = *(*uint64)(unsafe.Pointer(&out[i*12+4]))
		}
		got <- r
	}()
	time.Sleep(300 * time.Millisecond)
	syscall.RawSyscall(syscall.SYS_CLOSE, ep, 0, 0)
	one := uint64(1)
	for fd := uintptr(3); fd < 64; fd++ { // every eventfd it has: each write wakes epoll waiters
		syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&one)), 8)
	}
	r := <-got
	if r.e != 0 {
		r.n = 0
	}
	if r.e == 0 && r.n > 0 {
		for i := 0; i < int(r.n) && i < 8; i++ {
			if r.data[i] != 0x1111 {
				breach("epoll-reuse: epoll_wait on a closed descriptor returned an event of another instance, data %#x", r.data[i])
			}
		}
	}
	say("epoll-reuse: epoll_wait after close: %d events, %v", r.n, r.e)
}

// alloc waits, then allocates and touches memory: a bystander that must get what it was
// promised while others hog the rest.
func alloc(args []string) {
	time.Sleep(time.Duration(number(args, 0)) * time.Millisecond)
	var keep [][]byte
	for i := uint64(0); i < number(args, 1); i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		keep = append(keep, b)
	}
	say("alloc: %d MiB allocated and touched", len(keep))
}
