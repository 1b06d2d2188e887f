package main

// Page grants must not outlive the call that lends them (grant-serve / grant-call): a caller
// that gives up (timeout, EINTR) or unmaps the lent pages under the call takes them back, and
// the server can never make them writable or map over them.

import (
	"bytes"
	"errors"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/ipc"
)

const grantEndpoint = "grant-test"

// mapPage returns a fresh page of the task's memory holding text.
func mapPage(text string) uintptr {
	p, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON, ^uintptr(0), 0)
	if e != 0 {
		say("mmap: %v", e)
		failed = true
		return 0
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(p)), 4096), text)
	return p
}

// fillPages maps n pages full of text: after an munmap they are likely to get the frame the
// server might still see.
func fillPages(n int, text string) {
	for i := 0; i < n; i++ {
		p := mapPage("")
		b := unsafe.Slice((*byte)(unsafe.Pointer(p)), 4096)
		for j := 0; j+len(text) <= len(b); j += len(text) {
			copy(b[j:], text)
		}
	}
}

// peek reads 8 bytes at addr; ok=false if the read faulted.
func peek(addr uintptr) (b []byte, ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(addr)), 8)...), true
}

// poke writes a byte at addr; ok=false if the write faulted.
func poke(addr uintptr) (ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	*(*byte)(unsafe.Pointer(addr)) = 'X'
	return true
}

func grantServe(args []string) {
	runtime.LockOSThread()
	ep, err := ipc.Register(grantEndpoint)
	if err != nil {
		say("grant-serve: register: %v", err)
		failed = true
		return
	}
	say("grant-serve: serving")
	for call := 1; call <= 3; call++ {
		m, err := ep.Recv(0)
		if err != nil || m.GrantPages != 1 {
			say("grant-serve: call %d: %v, %d pages", call, err, m.GrantPages)
			failed = true
			return
		}
		g := uintptr(m.GrantAddr)
		if b, ok := peek(g); !ok || !bytes.HasPrefix(b, []byte("PAGE-")) {
			say("grant-serve: call %d: the grant does not show the lent page: %q %v", call, b, ok)
			failed = true
		}
		if call == 1 {
			attackWindow(g)
		}
		time.Sleep(1500 * time.Millisecond) // the caller gives up (1, 2) or unmaps the page (3) meanwhile
		if b, ok := peek(g); ok {
			breach("grant-serve: call %d: the lent page is still mapped after the caller took it back: %q", call, b)
		} else {
			say("grant-serve: call %d: the grant is gone", call)
		}
		err = ep.Reply(ipc.Msg{Label: uint64(call)})
		say("grant-serve: call %d: reply: %v", call, err)
	}
}

// attackWindow tries to make a live grant writable or to replace it.
func attackWindow(g uintptr) {
	if _, _, e := syscall.RawSyscall(syscall.SYS_MPROTECT, g, 4096, syscall.PROT_READ|syscall.PROT_WRITE); e == 0 {
		breach("grant-serve: mprotect made the grant writable")
	} else {
		say("grant-serve: mprotect of the grant: %v", e)
	}
	if poke(g) {
		breach("grant-serve: wrote to the lent page")
	}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, g, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_FIXED, ^uintptr(0), 0); e == 0 {
		breach("grant-serve: mmap(MAP_FIXED) replaced the grant")
	} else {
		say("grant-serve: mmap over the grant: %v", e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_MUNMAP, g, 4096, 0); e == 0 {
		breach("grant-serve: munmap removed the grant")
	} else {
		say("grant-serve: munmap of the grant: %v", e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_MADVISE, g, 4096, 4 /* MADV_DONTNEED */); e == 0 {
		if b, ok := peek(g); !ok || !bytes.HasPrefix(b, []byte("PAGE-")) {
			breach("grant-serve: madvise dropped the lent page")
		}
	}
}

func grantCall(args []string) {
	var ep *ipc.Endpoint
	for i := 0; i < 500; i++ {
		var err error
		if ep, err = ipc.Lookup(grantEndpoint); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ep == nil {
		say("grant-call: no server")
		failed = true
		return
	}
	// 1: give up by timeout, then keep the page and write a secret in it: the server must not
	// see it (the call has ended, and the loan with it), nor the frame once it is unmapped.
	p := mapPage("PAGE-ONE")
	_, err := ep.Call(ipc.Msg{Label: 1, GrantAddr: uint64(p), GrantPages: 1}, 300*time.Millisecond)
	say("grant-call: call 1: %v", err)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(p)), 4096), "SECRET-1")
	time.Sleep(2 * time.Second) // the server is done with call 1 and waits for the next
	syscall.RawSyscall(syscall.SYS_MUNMAP, p, 4096, 0)
	fillPages(64, "SECRET-1")

	// 2: give up because a signal interrupts the call.
	p = mapPage("PAGE-TWO")
	tids, done := make(chan int), make(chan error)
	go func() {
		runtime.LockOSThread()
		tids <- syscall.Gettid()
		_, err := ep.Call(ipc.Msg{Label: 2, GrantAddr: uint64(p), GrantPages: 1}, 5*time.Second)
		done <- err
	}()
	tid := <-tids
	time.Sleep(300 * time.Millisecond)
	syscall.RawSyscall(syscall.SYS_TGKILL, uintptr(syscall.Getpid()), uintptr(tid), uintptr(syscall.SIGURG))
	err = <-done
	say("grant-call: call 2: %v", err)
	if !errors.Is(err, syscall.EINTR) {
		say("grant-call: call 2 was not interrupted")
	}
	syscall.RawSyscall(syscall.SYS_MUNMAP, p, 4096, 0)
	fillPages(64, "SECRET-2")
	time.Sleep(2 * time.Second)

	// 3: a sibling thread unmaps the lent page while the call waits for its reply.
	p = mapPage("PAGE-TRI")
	go func() {
		time.Sleep(300 * time.Millisecond)
		syscall.RawSyscall(syscall.SYS_MUNMAP, p, 4096, 0)
		fillPages(64, "SECRET-3")
	}()
	_, err = ep.Call(ipc.Msg{Label: 3, GrantAddr: uint64(p), GrantPages: 1}, 10*time.Second)
	say("grant-call: call 3: %v", err)
	say("grant-call: done")
}
