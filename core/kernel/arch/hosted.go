package arch

// The machine on a host, for tests: the kernel's logic (queues, tables, page tables kept in
// ordinary memory) runs in a test binary on Linux when nothing privileged is done. Each
// package that would do something privileged has its own switch (mm's UseHostMemory, sched's
// UseHost); here, the kernel's own output goes to a buffer instead of the serial port.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (but UseHost,
// HostOutput and hostHalt, which run only on a host).

import "strconv"

// hosted says the kernel runs in a host's test binary.
var hosted bool

var host struct {
	out [64 << 10]byte
	n   uint
}

// UseHost sends the kernel's output to a buffer (HostOutput) and empties it: for host tests.
func UseHost() {
	hosted = true
	host.n = 0
}

//go:nosplit
func hostPut(c byte) {
	if host.n < uint(len(host.out)) {
		host.out[host.n%uint(len(host.out))] = c // never out of bounds: no panic path
		host.n++
	}
}

// Hosted reports whether the kernel runs in a host's test binary.
//
//go:nosplit
func Hosted() bool { return hosted }

// hostHalt is Halt on a host: the test binary panics with the status and what the kernel
// printed. core/trapcheck does not follow it (it never runs on the machine).
//
//go:noinline
func hostHalt(status int) {
	panic("kernel halted with status " + strconv.Itoa(status) + "; it printed:\n" + HostOutput())
}

// HostOutput returns what the kernel printed since UseHost.
func HostOutput() string { return string(host.out[:host.n]) }
