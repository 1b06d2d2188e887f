package kernel

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

// epoll and eventfd: enough for the Go runtime's netpoller, which sleeps in epoll_pwait with
// its timer deadline and is woken early by a write to its eventfd. Eventfd reads never block
// (the runtime opens its eventfd EFD_NONBLOCK): an empty counter is EAGAIN.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const (
	maxEpolls   = 128
	maxEventfds = 128
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
	gen      uint32 // bumped on every allocation of the slot
	owner    int32  // process
	interest [maxInterest]epollInterest
	n        int
}

type eventfdObj struct {
	used  bool
	gen   uint32 // bumped on every allocation of the slot
	owner int32
	count uint64
}

var epolls [maxEpolls]epollInstance
var eventfds [maxEventfds]eventfdObj

//go:nosplit
func sysEpollCreate(tf *arch.TrapFrame) int64 {
	s := shareIn(&epollPool, cur().proc)
	if !epollPool.Take(s) {
		return -abi.EMFILE
	}
	for i := range epolls {
		if !epolls[i].used {
			epolls[i] = epollInstance{used: true, owner: cur().proc, gen: epolls[i].gen + 1}
			n := allocFD(fdEpoll, int32(i))
			if n < 0 {
				freeEpoll(int32(i))
				return -abi.EMFILE
			}
			return int64(n)
		}
	}
	epollPool.Give(s)
	return -abi.EMFILE
}

// freeEpoll frees epoll instance i and gives its entry back to its owner's share.
//
//go:nosplit
func freeEpoll(i int32) {
	if e := &epolls[i&(maxEpolls-1)]; e.used {
		e.used = false
		epollPool.Give(shareIn(&epollPool, e.owner))
	}
}

// freeEventfd frees eventfd i and gives its entry back to its owner's share.
//
//go:nosplit
func freeEventfd(i int32) {
	if e := &eventfds[i&(maxEventfds-1)]; e.used {
		e.used = false
		eventfdPool.Give(shareIn(&eventfdPool, e.owner))
	}
}

//go:nosplit
func sysEpollCtl(tf *arch.TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil || d.kind != fdEpoll {
		return -abi.EBADF
	}
	ep := &epolls[d.obj&(maxEpolls-1)]
	op, target, ev := tf.RSI, int32(tf.RDX), uintptr(tf.R10)
	if fd(uint64(target)) == nil {
		return -abi.EBADF
	}
	var events uint32
	var data uint64
	if op != epollCtlDel {
		as := curSpace()
		e, ok1 := as.Read32(ev)
		dt, ok2 := as.Read64(ev + 4)
		if !ok1 || !ok2 {
			return -abi.EFAULT
		}
		events, data = e, dt
	}
	idx := -1
	for i := 0; i < ep.n; i++ {
		if ep.interest[i&(maxInterest-1)].fd == target {
			idx = i
		}
	}
	switch op {
	case epollCtlAdd:
		if idx >= 0 {
			return -abi.EEXIST
		}
		if ep.n == maxInterest {
			return -abi.ENOMEM
		}
		ep.interest[ep.n&(maxInterest-1)] = epollInterest{target, events, data}
		ep.n++
	case epollCtlMod:
		if idx < 0 {
			return -abi.ENOENT
		}
		ep.interest[idx&(maxInterest-1)] = epollInterest{target, events, data}
	case epollCtlDel:
		if idx < 0 {
			return -abi.ENOENT
		}
		ep.n--
		ep.interest[idx&(maxInterest-1)] = ep.interest[ep.n&(maxInterest-1)]
	default:
		return -abi.EINVAL
	}
	return 0
}

// epollCollect writes up to max ready events to user address out and returns how many.
//
//go:nosplit
func epollCollect(ep *epollInstance, out uintptr, max int) (int, bool) {
	as := curSpace()
	n := 0
	if !ep.used || ep.owner != cur().proc {
		return 0, true // never another process's interests
	}
	for i := 0; i < ep.n && n < max; i++ {
		in := &ep.interest[i&(maxInterest-1)]
		d := fd(uint64(in.fd))
		if d == nil {
			continue
		}
		var ready uint32
		switch d.kind {
		case fdEventfd:
			if eventfds[d.obj&(maxEventfds-1)].count > 0 {
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
		if !as.Write32(out+uintptr(n)*12, ready) || !as.Write64(out+uintptr(n)*12+4, in.data) {
			return 0, false
		}
		n++
	}
	return n, true
}

//go:nosplit
func sysEpollWait(tf *arch.TrapFrame) int64 {
	d := fd(tf.RDI)
	if d == nil || d.kind != fdEpoll {
		return -abi.EBADF
	}
	out, max, timeout := uintptr(tf.RSI), int(int32(tf.RDX)), int64(int32(tf.R10))
	if max <= 0 {
		return -abi.EINVAL
	}
	var deadline int64
	if timeout > 0 {
		deadline = arch.Nanotime() + timeout*1_000_000
	}
	held := *d
	for {
		n, ok := epollCollect(&epolls[held.obj&(maxEpolls-1)], out, max)
		if !ok {
			return -abi.EFAULT
		}
		if n > 0 || timeout == 0 {
			return int64(n)
		}
		if deadline != 0 && arch.Nanotime() >= deadline {
			return 0
		}
		if r := block(waitEpoll, uintptr(held.obj), deadline); r == -abi.EINTR {
			return r
		}
		if !stillOpen(tf.RDI, held) {
			return -abi.EBADF
		}
	}
}

//go:nosplit
func sysEventfd(tf *arch.TrapFrame) int64 {
	s := shareIn(&eventfdPool, cur().proc)
	if !eventfdPool.Take(s) {
		return -abi.EMFILE
	}
	for i := range eventfds {
		if !eventfds[i].used {
			eventfds[i] = eventfdObj{used: true, owner: cur().proc, count: uint64(uint32(tf.RDI)), gen: eventfds[i].gen + 1}
			n := allocFD(fdEventfd, int32(i))
			if n < 0 {
				freeEventfd(int32(i))
				return -abi.EMFILE
			}
			return int64(n)
		}
	}
	eventfdPool.Give(s)
	return -abi.EMFILE
}

//go:nosplit
func eventfdWrite(obj int32, buf, n uintptr) int64 {
	if n < 8 {
		return -abi.EINVAL
	}
	v, ok := curSpace().Read64(buf)
	if !ok {
		return -abi.EFAULT
	}
	if v == ^uint64(0) {
		return -abi.EINVAL
	}
	eventfds[obj&(maxEventfds-1)].count += v
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
		return -abi.EINVAL
	}
	e := &eventfds[obj&(maxEventfds-1)]
	if e.count == 0 {
		return -abi.EAGAIN
	}
	if !curSpace().Write64(buf, e.count) {
		return -abi.EFAULT
	}
	e.count = 0
	return 8
}
