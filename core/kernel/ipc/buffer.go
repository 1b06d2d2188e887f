package ipc

// IPC buffers, as seL4's: a page of a thread's own memory registered once (ipc_buffer), which
// the kernel keeps pinned (mm.Pin) and reaches through the direct map. A message whose
// GrantPages is abi.GrantBuffer carries its first GrantAddr bytes (at most a page): the kernel
// copies them from the sender's buffer to the receiver's, with one memmove and no page-table
// walk — where a page grant maps a page into the server for the call and unmaps it after. A
// pin ends when the task unmaps or protects the page, or is snapshotted; the next use pins it
// again through the page tables, and a page that is no longer the thread's to use ends the
// registration.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// ipcBuffer is a thread slot's registered IPC buffer.
type ipcBuffer struct {
	va     uintptr // in its space; 0: none
	serial uint64  // the thread that registered it (sched.Thread.Serial): no other thread's
	pin    mm.Loan // the page, pinned
}

var buffers sched.PerThread[ipcBuffer]

// SysBuffer is ipc_buffer(addr): the page at addr, of the task's own anonymous, writable
// memory, becomes the calling thread's IPC buffer (0: it has none). It returns the address of
// the buffer it replaces (0: none); EINVAL, and the thread keeps the one it had, if addr is
// not such a page.
//
//go:nosplit
func SysBuffer(c task.Call) task.Result {
	var pin mm.Loan
	va := c.Ptr(0)
	if va != 0 {
		p, ok := mm.Pin(c.Space(), va)
		if !ok {
			return task.Err(abi.EINVAL)
		}
		pin = p
	}
	old := BufferOf(c.Slot)
	b := buffers.Of(c.Slot)
	b.pin.End()
	*b = ipcBuffer{va: va, serial: c.Thread().Serial(), pin: pin}
	return task.Ret(int64(old))
}

// BufferOf is the address of thread i's IPC buffer in its space (0: none), for a snapshot.
//
//go:nosplit
func BufferOf(i int) uintptr {
	if b := buffers.Of(i); b.serial == sched.T(i).Serial() {
		return b.va
	}
	return 0
}

// SetBuffer makes va thread i's IPC buffer without pinning it yet (a thread restored from a
// snapshot: the page is pinned, and checked, at its first use).
//
//go:nosplit
func SetBuffer(i int, va uintptr) {
	b := buffers.Of(i)
	b.pin.End()
	*b = ipcBuffer{va: va, serial: sched.T(i).Serial()}
}

// bufferOf returns the kernel address of thread i's IPC buffer; ok=false if it has none.
//
//go:nosplit
func bufferOf(i int) (uintptr, bool) {
	b, t := buffers.Of(i), sched.T(i)
	if b.va == 0 || b.serial != t.Serial() {
		return 0, false
	}
	if a, ok := b.pin.Pinned(); ok {
		return a, true
	}
	pin, ok := mm.Pin(t.Space(), b.va)
	if !ok {
		*b = ipcBuffer{} // the page is gone or no longer writable: so is the buffer
		return 0, false
	}
	b.pin = pin
	return pin.Pinned()
}

// What copyBuffer did.
const (
	bufCopied     = iota
	bufBadSend    // the sender has no IPC buffer, or n is more than one holds: nothing copied
	bufNoReceiver // the receiver has no IPC buffer: nothing copied
)

// copyBuffer copies the first n bytes of thread from's IPC buffer to thread to's.
//
//go:nosplit
func copyBuffer(from, to int, n uint64) int {
	if n > abi.IPCBufferSize {
		return bufBadSend
	}
	src, ok := bufferOf(from)
	if !ok {
		return bufBadSend
	}
	dst, ok := bufferOf(to)
	if !ok {
		return bufNoReceiver
	}
	arch.Memmove(dst, src, uintptr(n))
	return bufCopied
}

// takeBuffer copies caller cl's IPC-buffer bytes to server s for takeCall. If the server has
// no IPC buffer (or the caller's went), the call fails — not the server, which goes on
// waiting. (A function of its own, kept out of takeCall's frame: the linker's nosplit check
// counts the loan chain under it.)
//
//go:nosplit
//go:noinline
func takeBuffer(cl, s int) bool {
	if copyBuffer(cl, s, calls.Of(cl).msg.GrantAddr) == bufCopied {
		return true
	}
	sched.WakeWith(cl, -abi.EFAULT)
	return false
}

// buffered reports whether m carries IPC-buffer bytes.
//
//go:nosplit
func buffered(m *abi.Message) bool { return m.GrantPages == abi.GrantBuffer }
