package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/bench/measure"
	"github.com/simpleos/simpleos/bench/result"
)

// Pipe round trips: one byte goes out over one pipe and comes back over another. The peer
// echoes until it reads end of file. Hot loops use raw system calls on blocking pipes from
// OS-thread-locked goroutines, so every round trip is two kernel thread switches, not Go
// scheduler work.

// peerArg as the first argument makes the program the echoing peer of pipe/roundtrip/process
// (fd 3 in, fd 4 out).
const peerArg = "-internal-pipe-peer"

// The one-byte buffers, one per side: globals so that the kernel gets an address that never
// moves.
var pingByte, echoByte [1]byte

// pingPong sends n bytes on out, each time waiting for the byte to come back on in.
func pingPong(in, out, n int) error {
	for range n {
		if err := rawIO(syscall.SYS_WRITE, out, &pingByte[0]); err != nil {
			return err
		}
		if err := rawIO(syscall.SYS_READ, in, &pingByte[0]); err != nil {
			return err
		}
	}
	return nil
}

// echo copies single bytes from in to out until end of file, then closes out.
func echo(in, out int) error {
	defer syscall.Close(out)
	for {
		err := rawIO(syscall.SYS_READ, in, &echoByte[0])
		if errors.Is(err, errEOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := rawIO(syscall.SYS_WRITE, out, &echoByte[0]); err != nil {
			return err
		}
	}
}

var errEOF = errors.New("peer closed its pipe")

// rawIO reads or writes one byte without telling the Go scheduler (no entersyscall).
func rawIO(nr uintptr, fd int, b *byte) error {
	for {
		n, _, e := syscall.RawSyscall(nr, uintptr(fd), uintptr(unsafe.Pointer(b)), 1)
		switch {
		case e == syscall.EINTR:
			continue
		case e != 0:
			return e
		case n == 0:
			return errEOF
		}
		return nil
	}
}

// pipes makes the two pipes: to the peer and back.
func pipes() (to, back [2]int, err error) {
	if err = syscall.Pipe2(to[:], syscall.O_CLOEXEC); err != nil {
		return to, back, fmt.Errorf("pipe2: %w", err)
	}
	if err = syscall.Pipe2(back[:], syscall.O_CLOEXEC); err != nil {
		syscall.Close(to[0])
		syscall.Close(to[1])
		return to, back, fmt.Errorf("pipe2: %w", err)
	}
	return to, back, nil
}

func pipeThread(name string, count, n int) (result.Result, error) {
	to, back, err := pipes()
	if err != nil {
		return result.Result{}, err
	}
	defer measure.MoreProcs()()
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer syscall.Close(to[0])
		close(ready)
		done <- echo(to[0], back[1])
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	<-ready
	r, err := measure.Batches(name, count, n, func(n int) error { return pingPong(back[0], to[1], n) })
	syscall.Close(to[1]) // the peer reads end of file
	peerErr := <-done
	syscall.Close(back[0])
	return r, errors.Join(err, peerErr)
}

func pipeProcess(name string, count, n int) (result.Result, error) {
	to, back, err := pipes()
	if err != nil {
		return result.Result{}, err
	}
	exe := executable()
	pid, err := syscall.ForkExec(exe, []string{exe, peerArg}, &syscall.ProcAttr{
		Env:   []string{},
		Files: []uintptr{0, 1, 2, uintptr(to[0]), uintptr(back[1])},
	})
	syscall.Close(to[0]) // the peer's ends
	syscall.Close(back[1])
	if err != nil {
		syscall.Close(to[1])
		syscall.Close(back[0])
		return result.Result{}, skipError{fmt.Sprintf("cannot start a process (fork/exec %s: %v)", exe, err)}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, err := measure.Batches(name, count, n, func(n int) error { return pingPong(back[0], to[1], n) })
	syscall.Close(to[1]) // the peer reads end of file and exits
	var ws syscall.WaitStatus
	if _, werr := syscall.Wait4(pid, &ws, 0, nil); werr != nil {
		err = errors.Join(err, fmt.Errorf("wait for peer: %w", werr))
	} else if ws.ExitStatus() != 0 {
		err = errors.Join(err, fmt.Errorf("peer: %v", ws))
	}
	syscall.Close(back[0])
	return r, err
}

// pipePeer is main for the peer process.
func pipePeer() int {
	runtime.LockOSThread()
	if err := echo(3, 4); err != nil {
		fmt.Fprintln(os.Stderr, "guest peer:", err)
		return 1
	}
	return 0
}

// executable is the path to re-execute (a variable for tests).
var executable = self

// self is the program's own path: os.Executable needs /proc, which Linux's init does not
// have, so fall back to argv[0] ("/init" there).
func self() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return os.Args[0]
}
