package kernel

// epoll and eventfd: enough for the Go runtime's netpoller, which sleeps in epoll_pwait with
// its timer deadline and is woken early by a write to its eventfd. Eventfd reads never block
// (the runtime opens its eventfd EFD_NONBLOCK): an empty counter is EAGAIN.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const (
	maxEpolls   = 64
	maxEventfds = 64
	maxInterest = 16

	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3

	epollIn  = 0x1
	epollOut = 0x4
	epollErr = 0x8
	epollHup = 0x10
)

type epollInterest struct {
	fd     int32
	events uint32
	data   uint64
}

type epollInstance struct {
	used     bool
	owner    int32 // process
	interest [maxInterest]epollInterest
	n        int
}

type eventfdObj struct {
	used  bool
	owner int32
	count uint64
}

var epolls [maxEpolls]epollInstance
var eventfds [maxEventfds]eventfdObj

//go:nosplit
func sysEpollCreate(tf *TrapFrame) int64 {
	for i := range epolls {
		if !epolls[i].used {
			n := allocFD(fdEpoll, int32(i))
			if n < 0 {
				return -EMFILE
			}
			epolls[i] = epollInstance{used: true, owner: cur().proc}
			return int64(n)
		}
	}
	return -EMFILE
}

//go:nosplit
func sysEpollCtl(tf *TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil || d.kind != fdEpoll {
		return -EBADF
	}
	ep := &epolls[d.obj]
	op, target, ev := tf.RSI, int32(tf.RDX), uintptr(tf.R10)
	if fd(uint64(target)) == nil {
		return -EBADF
	}
	var events uint32
	var data uint64
	if op != epollCtlDel {
		as := curSpace()
		e, ok1 := as.read32(ev)
		dt, ok2 := as.read64(ev + 4)
		if !ok1 || !ok2 {
			return -EFAULT
		}
		events, data = e, dt
	}
	idx := -1
	for i := 0; i < ep.n; i++ {
		if ep.interest[i].fd == target {
			idx = i
		}
	}
	switch op {
	case epollCtlAdd:
		if idx >= 0 {
			return -EEXIST
		}
		if ep.n == maxInterest {
			return -ENOMEM
		}
		ep.interest[ep.n] = epollInterest{target, events, data}
		ep.n++
	case epollCtlMod:
		if idx < 0 {
			return -ENOENT
		}
		ep.interest[idx] = epollInterest{target, events, data}
	case epollCtlDel:
		if idx < 0 {
			return -ENOENT
		}
		ep.n--
		ep.interest[idx] = ep.interest[ep.n]
	default:
		return -EINVAL
	}
	return 0
}

// epollCollect writes up to max ready events to user address out and returns how many.
//
//go:nosplit
func epollCollect(ep *epollInstance, out uintptr, max int) (int, bool) {
	as := curSpace()
	n := 0
	for i := 0; i < ep.n && n < max; i++ {
		in := &ep.interest[i]
		d := fd(uint64(in.fd))
		if d == nil {
			continue
		}
		var ready uint32
		switch d.kind {
		case fdEventfd:
			if eventfds[d.obj].count > 0 {
				ready |= epollIn
			}
			ready |= epollOut
		case fdConsole:
			ready |= epollOut
		case fdPipeRead, fdPipeWrite:
			ready |= pipeReady(d)
		}
		ready &= in.events | epollErr | epollHup
		if ready == 0 {
			continue
		}
		// struct epoll_event is packed on x86-64: 4-byte events, 8-byte data.
		if !as.write32(out+uintptr(n)*12, ready) || !as.write64(out+uintptr(n)*12+4, in.data) {
			return 0, false
		}
		n++
	}
	return n, true
}

//go:nosplit
func sysEpollWait(tf *TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil || d.kind != fdEpoll {
		return -EBADF
	}
	out, max, timeout := uintptr(tf.RSI), int(int32(tf.RDX)), int64(int32(tf.R10))
	if max <= 0 {
		return -EINVAL
	}
	var deadline int64
	if timeout > 0 {
		deadline = nanotime() + timeout*1_000_000
	}
	for {
		n, ok := epollCollect(&epolls[d.obj], out, max)
		if !ok {
			return -EFAULT
		}
		if n > 0 || timeout == 0 {
			return int64(n)
		}
		if deadline != 0 && nanotime() >= deadline {
			return 0
		}
		if r := block(waitEpoll, uintptr(d.obj), deadline); r == -EINTR {
			return r
		}
	}
}

//go:nosplit
func sysEventfd(tf *TrapFrame) int64 {
	for i := range eventfds {
		if !eventfds[i].used {
			n := allocFD(fdEventfd, int32(i))
			if n < 0 {
				return -EMFILE
			}
			eventfds[i] = eventfdObj{used: true, owner: cur().proc, count: uint64(uint32(tf.RDI))}
			return int64(n)
		}
	}
	return -EMFILE
}

//go:nosplit
func eventfdWrite(obj int32, buf, n uintptr) int64 {
	if n < 8 {
		return -EINVAL
	}
	v, ok := curSpace().read64(buf)
	if !ok {
		return -EFAULT
	}
	if v == ^uint64(0) {
		return -EINVAL
	}
	eventfds[obj].count += v
	// Wake every thread waiting in epoll; each re-checks its own interest list.
	for i := 1; i < maxThreads; i++ {
		if threads[i].state == threadBlocked && threads[i].waitOn == waitEpoll {
			wake(i, 0)
		}
	}
	return 8
}

//go:nosplit
func eventfdRead(obj int32, buf, n uintptr) int64 {
	if n < 8 {
		return -EINVAL
	}
	e := &eventfds[obj]
	if e.count == 0 {
		return -EAGAIN
	}
	if !curSpace().write64(buf, e.count) {
		return -EFAULT
	}
	e.count = 0
	return 8
}
