package kernel

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

// allocFD claims the lowest free descriptor number, or -1.
//
//go:nosplit
func allocFD(kind uint32, obj int32) int {
	p := curProc()
	for i := range p.fds {
		if p.fds[i].kind == fdNone {
			p.fds[i] = fileDesc{kind: kind, obj: obj}
			return i
		}
	}
	return -1
}

// writeConsole prints n bytes of user memory at va.
//
//go:nosplit
func writeConsole(as *AddressSpace, va, n uintptr) int64 {
	if !rangeOK(va, n) {
		return -EFAULT
	}
	done := uintptr(0)
	for done < n {
		k, ok := as.userPage(va+done, false)
		if !ok {
			if done == 0 {
				return -EFAULT
			}
			break
		}
		chunk := pageSize - (va+done)&(pageSize-1)
		if chunk > n-done {
			chunk = n - done
		}
		consoleWrite(k, int(chunk))
		done += chunk
	}
	return int64(done)
}

//go:nosplit
func sysWrite(tf *TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -EBADF
	}
	switch d.kind {
	case fdConsole:
		return writeConsole(curSpace(), uintptr(tf.RSI), uintptr(tf.RDX))
	case fdEventfd:
		return eventfdWrite(d.obj, uintptr(tf.RSI), uintptr(tf.RDX))
	case fdPipeWrite:
		return pipeWrite(d, uintptr(tf.RSI), uintptr(tf.RDX))
	}
	return -EBADF
}

//go:nosplit
func sysWritev(tf *TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -EBADF
	}
	if d.kind != fdConsole {
		return -EINVAL
	}
	as := curSpace()
	iov, cnt := uintptr(tf.RSI), tf.RDX
	if cnt > 1024 {
		return -EINVAL
	}
	var total int64
	for i := uint64(0); i < cnt; i++ {
		base, ok1 := as.read64(iov + uintptr(i)*16)
		n, ok2 := as.read64(iov + uintptr(i)*16 + 8)
		if !ok1 || !ok2 {
			return -EFAULT
		}
		r := writeConsole(as, uintptr(base), uintptr(n))
		if r < 0 {
			return r
		}
		total += r
	}
	return total
}

//go:nosplit
func sysRead(tf *TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -EBADF
	}
	switch d.kind {
	case fdConsole:
		return 0 // no console input yet: end of file
	case fdEventfd:
		return eventfdRead(d.obj, uintptr(tf.RSI), uintptr(tf.RDX))
	case fdPipeRead:
		return pipeRead(d, uintptr(tf.RSI), uintptr(tf.RDX))
	}
	return -EBADF
}

//go:nosplit
func sysOpen(tf *TrapFrame) int64 { return -ENOENT }

//go:nosplit
func sysOpenat(tf *TrapFrame) int64 { return -ENOENT }

//go:nosplit
func sysClose(tf *TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -EBADF
	}
	switch d.kind {
	case fdEpoll:
		epolls[d.obj].used = false
	case fdEventfd:
		eventfds[d.obj].used = false
	case fdPipeRead, fdPipeWrite:
		closePipeEnd(d)
	}
	*d = fileDesc{}
	return 0
}

//go:nosplit
func sysFstat(tf *TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -EBADF
	}
	// struct stat is 144 bytes; report a character device for the console.
	as := curSpace()
	st := uintptr(tf.RSI)
	if !as.zeroOut(st, 144) {
		return -EFAULT
	}
	mode := uint32(0o600)
	if d.kind == fdConsole {
		mode |= 0o020000
	}
	as.write32(st+24, mode)
	as.write64(st+16, 1) // nlink
	as.write64(st+56, 4096)
	return 0
}

// sysNewfstatat serves fstatat(fd, "", buf, AT_EMPTY_PATH), which C libraries use as fstat;
// there are no paths to look up.
//
//go:nosplit
func sysNewfstatat(tf *TrapFrame) int64 {
	const atEmptyPath = 0x1000
	if tf.R10&atEmptyPath == 0 {
		return -ENOENT
	}
	tf.RSI = tf.RDX // fstat(fd, buf)
	return sysFstat(tf)
}

//go:nosplit
func sysFcntl(tf *TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil {
		return -EBADF
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
	return -EINVAL
}

//go:nosplit
func sysIoctl(tf *TrapFrame) int64 {
	if fd(tf.RDI) == nil {
		return -EBADF
	}
	return -ENOTTY
}
