package fault

import (
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

// SimpleOS's IPC system calls (package ipc; core/kernel/ipc.go checks their arguments).
const (
	sysIPCRegister  = abi.SysIPCRegister  // (name, len) -> handle
	sysIPCLookup    = abi.SysIPCLookup    // (name, len) -> handle
	sysIPCCall      = abi.SysIPCCall      // (handle, msg, timeout ns)
	sysIPCRecv      = abi.SysIPCRecv      // (handle, msg, timeout ns)
	sysIPCReply     = abi.SysIPCReply     // (0, msg)
	sysIPCReplyRecv = abi.SysIPCReplyRecv // (handle, msg, timeout ns)
)

// Addresses no task may pass the core.
const (
	kernelHalf   = 0xffff_8000_0000_0000
	nonCanonical = 0x0000_8000_0000_0000
	lastUserByte = 0x0000_7fff_ffff_ffff // a name starting here runs off the user half
	ipcTimeout   = uintptr(time.Millisecond)
)

// Buffers for the calls. Package variables never move, so their addresses may be kept as
// uintptrs. ipcMsg is an aligned message; ipcJunk is all ones, so a message read from it at
// an unaligned address asks for 2^64-1 granted pages.
var (
	ipcName [40]byte
	ipcMsg  abi.Message
	ipcJunk [16]uint64
)

// ipcTally counts the calls made and those the core accepted (returned >= 0).
type ipcTally struct{ calls, accepted int }

func (t *ipcTally) do(nr, a1, a2, a3 uintptr) {
	t.calls++
	if _, _, e := syscall.RawSyscall(nr, a1, a2, a3); e == 0 {
		t.accepted++
	}
}

// badIPC makes about 200 malformed IPC calls. Every one should fail with an errno; one that
// does not is counted, not treated as a breach. It never registers a readable name (it must
// not steal an endpoint), never sends a message the core could deliver (every readable message
// carries a bad page grant), and every call that could block has a 1 ms timeout.
//
// recv and reply-recv use only handles that cannot name an endpoint (generation 0, index 64 or
// more, or a generation above 32 bits), so they never take a call meant for the task's own
// server threads. reply clears a pending reply of the calling thread; the modules' servers run
// on locked threads (ipc.Endpoint.Serve), which this goroutine never shares.
func badIPC(seed uint64) ipcTally {
	var t ipcTally
	rng := newXorshift(seed)
	for i := range ipcName {
		ipcName[i] = 0xfe
	}
	for i := range ipcJunk {
		ipcJunk[i] = ^uint64(0)
	}
	name := uintptr(unsafe.Pointer(&ipcName[0]))
	msg := uintptr(unsafe.Pointer(&ipcMsg))
	junk := uintptr(unsafe.Pointer(&ipcJunk[0])) + 1

	// Names: bad pointers with any length, a readable name with a bad length.
	badPtrs := []uintptr{0, kernelHalf, nonCanonical, lastUserByte, defaultTaskAddr}
	for _, nr := range []uintptr{sysIPCLookup, sysIPCRegister} {
		for _, p := range badPtrs {
			for _, n := range []uintptr{0, 1, 8, 32, 33, 1 << 40} {
				t.do(nr, p, n, 0)
			}
		}
		for _, n := range []uintptr{0, 33, 1 << 40, ^uintptr(0)} {
			t.do(nr, name, n, 0)
		}
	}
	// A lookup of a readable name nobody registers: ENOENT or EPERM.
	t.do(sysIPCLookup, name, 1, 0)
	t.do(sysIPCLookup, name, 32, 0)

	// Calls: bad handles, some perhaps valid, with bad messages and bad grants.
	handles := []uintptr{^uintptr(0), 0x7fffffff, 0, 0xffff}
	for range 4 {
		handles = append(handles, uintptr(1+rng.next()%4)<<16|uintptr(rng.next()%64))
	}
	handles = append(handles, uintptr(rng.next()), uintptr(rng.next()))
	grants := [][2]uint64{
		{0x1001, 1},            // unaligned
		{kernelHalf, 1},        // kernel half
		{0x10000, 17},          // more pages than a call may lend
		{0x10000, 1 << 20},     // far more
		{0, 1},                 // page 0
		{0x7fff_ffff_f000, 16}, // runs off the user half
	}
	for _, h := range handles {
		for _, m := range []uintptr{0, kernelHalf, nonCanonical, junk} {
			t.do(sysIPCCall, h, m, ipcTimeout)
		}
		for _, g := range grants {
			ipcMsg = abi.Message{Label: rng.next(), Words: [4]uint64{rng.next(), rng.next(), rng.next(), rng.next()}, GrantAddr: g[0], GrantPages: g[1]}
			t.do(sysIPCCall, h, msg, ipcTimeout)
		}
	}

	// Receives on handles that name no endpoint.
	noEndpoint := []uintptr{^uintptr(0), 0x7fffffff, 0, 63, 64, 0xffff,
		uintptr(rng.next() | 1<<63), uintptr(rng.next() | 1<<63)}
	for _, nr := range []uintptr{sysIPCRecv, sysIPCReplyRecv} {
		for _, h := range noEndpoint {
			for _, m := range []uintptr{0, kernelHalf, msg} {
				t.do(nr, h, m, ipcTimeout)
			}
		}
	}

	// Replies with no call to answer, from bad buffers.
	for _, first := range []uintptr{0, ^uintptr(0)} {
		for _, m := range []uintptr{0, kernelHalf, nonCanonical, junk, msg} {
			t.do(sysIPCReply, first, m, 0)
		}
	}
	return t
}
