package main

// One name type, one comparison (names-serve, names-call, post): 32-byte names are compared
// byte by byte, and publishing an event is a policy grant.

import (
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/ipc"
)

func namesServe(args []string) {
	for _, n := range args {
		if _, err := ipc.Register(n); err != nil {
			say("names-serve: register %s: %v", n, err)
			failed = true
		} else {
			say("names-serve: serving %s", n)
		}
	}
	time.Sleep(3 * time.Second)
}

func namesCall(args []string) {
	time.Sleep(time.Second)
	for _, n := range args {
		if _, err := ipc.Lookup(n); err == nil {
			say("names-call: %s: found", n)
		} else {
			say("names-call: %s: %v", n, err)
		}
	}
}

func post(args []string) {
	if len(args) == 0 {
		say("post: want an event name")
		failed = true
		return
	}
	name := []byte(args[0])
	ev := [4]uint64{1, 2, 3, 4}
	n, _, e := syscall.RawSyscall(abi.SysEventPost, uintptr(unsafe.Pointer(&name[0])), uintptr(len(name)), uintptr(unsafe.Pointer(&ev)))
	if e == 0 {
		say("post: %s delivered to %d subscribers", args[0], n)
	} else {
		say("post: %s: %v", args[0], e)
	}
}
