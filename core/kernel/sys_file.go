package kernel

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// File system calls. There is no file system: descriptors 0-2 are the console, and the rest
// are epoll instances and eventfds (sys_epoll.go), which the Go runtime's netpoller needs.
// open/openat fail with ENOENT, which the runtime tolerates.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const (
	fGetfd = 1
	fSetfd = 2
	fGetfl = 3
	fSetfl = 4

	oRdwr     = 2
	oNonblock = 0x800
)

// fd returns the descriptor entry for n, or nil.
//
//go:nosplit
func fd(n uint64) *fileDesc {
	if n >= maxFDs {
		return nil
	}
	d := &curProc().fds[n]
	if d.kind == fdNone {
		return nil
	}
	return d
}

// allocFD claims the lowest free descriptor number for object obj of kind, or -1.
//
//go:nosplit
func allocFD(kind uint32, obj int32) int {
	p := curProc()
	for i := range p.fds {
		if p.fds[i].kind == fdNone {
			p.fds[i] = fileDesc{kind: kind, obj: obj, gen: objectGen(kind, obj)}
			return i
		}
	}
	return -1
}

// objectGen returns the generation of object obj of kind: it changes every time the table
// slot is given to a new object.
//
//go:nosplit
func objectGen(kind uint32, obj int32) uint32 {
	switch kind {
	case fdPipeRead, fdPipeWrite:
		return pipes[obj&(maxPipes-1)].gen
	case fdEpoll:
		return epolls[obj&(maxEpolls-1)].gen
	case fdEventfd:
		return eventfds[obj&(maxEventfds-1)].gen
	}
	return 0
}

// stillOpen reports whether descriptor n still refers to the object held was taken from. A
// call that blocked checks it after every wake-up: a sibling thread may have closed the
// descriptor meanwhile, and its number or its object's slot may be someone else's now.
//
//go:nosplit
func stillOpen(n uint64, held fileDesc) bool {
	d := fd(n)
	return d != nil && d.kind == held.kind && d.obj == held.obj && d.gen == held.gen && objectGen(d.kind, d.obj) == held.gen
}

// maxConsoleWrite bounds the bytes one write or writev hands the console. The console path
// looks at every byte (line prefixes, the panic watch) with interrupts off, so a bigger call
// would hold the CPU for as long as the task likes; the caller gets a short count and writes
// the rest with its next call, as Linux's may.
const maxConsoleWrite = 4096

// writeConsole prints up to maxConsoleWrite of the n bytes of user memory at va.
//
//go:nosplit
func writeConsole(as *mm.AddressSpace, va, n uintptr) int64 {
	if !mm.RangeOK(va, n) {
		return -abi.EFAULT
	}
	if n > maxConsoleWrite {
		n = maxConsoleWrite
	}
	done := uintptr(0)
	for done < n {
		k, ok := as.UserPage(va+done, false)
		if !ok {
			if done == 0 {
				return -abi.EFAULT
			}
			break
		}
		chunk := mm.PageSize - (va+done)&(mm.PageSize-1)
		if chunk > n-done {
			chunk = n - done
		}
		consoleWrite(k, int(chunk))
		done += chunk
	}
	return int64(done)
}

//go:nosplit
func sysWrite(tf *arch.TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -abi.EBADF
	}
	switch d.kind {
	case fdConsole:
		return writeConsole(curSpace(), uintptr(tf.RSI), uintptr(tf.RDX))
	case fdEventfd:
		return eventfdWrite(d.obj, uintptr(tf.RSI), uintptr(tf.RDX))
	case fdPipeWrite:
		return pipeWrite(tf.RDI, uintptr(tf.RSI), uintptr(tf.RDX))
	}
	return -abi.EBADF
}

//go:nosplit
func sysWritev(tf *arch.TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -abi.EBADF
	}
	if d.kind != fdConsole {
		return -abi.EINVAL
	}
	as := curSpace()
	iov, cnt := uintptr(tf.RSI), tf.RDX
	if cnt > 1024 {
		return -abi.EINVAL
	}
	var total int64
	for i := uint64(0); i < cnt && total < maxConsoleWrite; i++ {
		base, ok1 := as.Read64(iov + uintptr(i)*16)
		n, ok2 := as.Read64(iov + uintptr(i)*16 + 8)
		if !ok1 || !ok2 {
			if total > 0 {
				break
			}
			return -abi.EFAULT
		}
		if left := uint64(maxConsoleWrite - total); n > left {
			n = left
		}
		r := writeConsole(as, uintptr(base), uintptr(n))
		if r < 0 {
			if total > 0 {
				break
			}
			return r
		}
		total += r
		if uint64(r) < n {
			break // a short write ends the call, as Linux's writev does
		}
	}
	return total
}

//go:nosplit
func sysRead(tf *arch.TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -abi.EBADF
	}
	switch d.kind {
	case fdConsole:
		return 0 // no console input yet: end of file
	case fdEventfd:
		return eventfdRead(d.obj, uintptr(tf.RSI), uintptr(tf.RDX))
	case fdPipeRead:
		return pipeRead(tf.RDI, uintptr(tf.RSI), uintptr(tf.RDX))
	}
	return -abi.EBADF
}

//go:nosplit
func sysOpen(tf *arch.TrapFrame) int64 { return -abi.ENOENT }

//go:nosplit
func sysOpenat(tf *arch.TrapFrame) int64 { return -abi.ENOENT }

//go:nosplit
func sysClose(tf *arch.TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -abi.EBADF
	}
	switch d.kind {
	case fdEpoll:
		freeEpoll(d.obj)
	case fdEventfd:
		freeEventfd(d.obj)
	case fdPipeRead, fdPipeWrite:
		closePipeEnd(d)
	}
	*d = fileDesc{}
	return 0
}

//go:nosplit
func sysFstat(tf *arch.TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -abi.EBADF
	}
	// struct stat is 144 bytes; report a character device for the console.
	as := curSpace()
	st := uintptr(tf.RSI)
	if !as.ZeroOut(st, 144) {
		return -abi.EFAULT
	}
	mode := uint32(0o600)
	if d.kind == fdConsole {
		mode |= 0o020000
	}
	as.Write32(st+24, mode)
	as.Write64(st+16, 1) // nlink
	as.Write64(st+56, 4096)
	return 0
}

// sysNewfstatat serves fstatat(fd, "", buf, AT_EMPTY_PATH), which C libraries use as fstat;
// there are no paths to look up.
//
//go:nosplit
func sysNewfstatat(tf *arch.TrapFrame) int64 {
	const atEmptyPath = 0x1000
	if tf.R10&atEmptyPath == 0 {
		return -abi.ENOENT
	}
	tf.RSI = tf.RDX // fstat(fd, buf)
	return sysFstat(tf)
}

//go:nosplit
func sysFcntl(tf *arch.TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -abi.EBADF
	}
	switch tf.RSI {
	case fGetfd, fSetfd:
		return 0
	case fSetfl:
		d.flags = uint32(tf.RDX) & oNonblock
		return 0
	case fGetfl:
		switch d.kind {
		case fdPipeRead:
			return int64(d.flags)
		case fdPipeWrite:
			return int64(d.flags) | 1 // O_WRONLY
		case fdEpoll, fdEventfd:
			return oRdwr | oNonblock
		}
		return oRdwr | int64(d.flags)
	}
	return -abi.EINVAL
}

//go:nosplit
func sysIoctl(tf *arch.TrapFrame) int64 {
	if fd(tf.RDI) == nil {
		return -abi.EBADF
	}
	return -abi.ENOTTY
}
