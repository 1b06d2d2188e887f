package ipc

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

// System events (core/kernel/events.go).
const (
	sysEventSubscribe = abi.SysEventSubscribe
	sysEventPost      = abi.SysEventPost
	sysEventRecv      = abi.SysEventRecv
)

// Event is a system event as a subscriber receives it. Subject is the publisher's pid, set by
// the core.
type Event = abi.Event

// Subscribe asks for the events called name (ring-2 modules whose policy lists the event).
func Subscribe(name string) (int, error) {
	h, err := nameCall(sysEventSubscribe, name)
	return int(h), err
}

// Publish sends an event to its subscribers and returns how many received it.
func Publish(name string, args [4]uint64) (int, error) {
	b := []byte(name)
	if err := abi.CheckName(name); err != nil {
		return 0, fmt.Errorf("ipc: %w", err)
	}
	n, _, e := syscall.RawSyscall(sysEventPost, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&args)))
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(n), nil
}

// NextEvent waits for the next event delivered to this task (timeout 0 = forever).
func NextEvent(timeout time.Duration) (Event, error) {
	var ev Event
	_, _, e := syscall.Syscall(sysEventRecv, uintptr(unsafe.Pointer(&ev)), timeoutNs(timeout), 0)
	return ev, errnoErr(e)
}
