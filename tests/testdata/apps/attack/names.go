package main

// One name type, one comparison (names-serve, names-call, post): 32-byte names are compared
// byte by byte, and publishing an event is a policy grant.

import (
	"strconv"
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

// denyFlood makes N lookups the policy denies, then, after a second, one more: the core
// writes a limited number of audit lines about them, and then how many it left out.
func denyFlood(args []string) {
	n := 2000
	if len(args) > 0 {
		n, _ = strconv.Atoi(args[0])
	}
	for i := 0; i < n; i++ {
		ipc.Lookup("not-granted")
	}
	time.Sleep(1200 * time.Millisecond)
	_, err := ipc.Lookup("not-granted")
	say("deny-flood: %d denied lookups, the last: %v", n+1, err)
}
