package main

// Device memory is not a buffer (mmio-buf PHYS): a driver that passes its mapping of a device
// to a system call gets EFAULT; the kernel neither faults on it (above the direct map's end)
// nor touches it through a cached alias (below).

import (
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

func mmioBuf(args []string) {
	phys := number(args, 0)
	va, _, e := syscall.RawSyscall(abi.SysMMIOMap, uintptr(phys), 4096, 0)
	if e != 0 {
		say("mmio-buf: map %#x: %v", phys, e)
		return
	}
	say("mmio-buf: %#x mapped at %#x", phys, va)
	var fds [2]int32
	syscall.RawSyscall(syscall.SYS_PIPE2, uintptr(unsafe.Pointer(&fds)), syscall.O_NONBLOCK, 0)
	iov := [2]uint64{uint64(va), 16}
	for _, c := range []struct {
		name string
		nr   uintptr
		args [3]uintptr
	}{
		{"write", syscall.SYS_WRITE, [3]uintptr{1, va, 16}},
		{"writev", syscall.SYS_WRITEV, [3]uintptr{1, uintptr(unsafe.Pointer(&iov)), 1}},
		{"pipe write", syscall.SYS_WRITE, [3]uintptr{uintptr(fds[1]), va, 16}},
		{"getrandom into it", abi.SysGetrandom, [3]uintptr{va, 16, 0}},
		{"clock_gettime into it", syscall.SYS_CLOCK_GETTIME, [3]uintptr{1, va, 0}},
		{"uname into it", syscall.SYS_UNAME, [3]uintptr{va, 0, 0}},
	} {
		r, _, e := syscall.RawSyscall(c.nr, c.args[0], c.args[1], c.args[2])
		if e == 0 {
			breach("mmio-buf: %s with device memory as the buffer returned %d", c.name, r)
		} else {
			say("mmio-buf: %s: %v", c.name, e)
		}
	}
}
