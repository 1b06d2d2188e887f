package files

// epoll and eventfd: enough for the Go runtime's netpoller, which sleeps in epoll_pwait with
// its timer deadline and is woken early by a write to its eventfd. Eventfd reads never wait
// (the runtime opens its eventfd EFD_NONBLOCK): an empty counter is EAGAIN.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const (
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
	owner    int32  // task slot
	interest [maxInterest]epollInterest
	n        int
}

type eventfd struct {
	used  bool
	gen   uint32 // bumped on every allocation of the slot
	owner int32
	count uint64
}

var epolls [maxEpolls]epollInstance
var eventfds [maxEventfds]eventfd

// epollWaiters are the threads in epoll_wait: any change of readiness wakes them all, and each
// collects its own instance's events again.
var epollWaiters sched.Queue

// EpollCreate is epoll_create and epoll_create1.
//
//go:nosplit
func EpollCreate(c task.Call) task.Result {
	t := c.Task()
	i := newEpoll(t)
	if i < 0 {
		return task.Err(abi.EMFILE)
	}
	n := alloc(t, task.FDEpoll, i)
	if n < 0 {
		freeEpoll(i)
		return task.Err(abi.EMFILE)
	}
	return task.Ret(int64(n))
}

// newEpoll makes an empty epoll instance owned by t, out of its share; -1 if it may not have
// one more or none is free.
//
//go:nosplit
func newEpoll(t *task.Task) int32 {
	s := share(t, &epollPool)
	if !epollPool.Take(s) {
		return -1
	}
	for i := range epolls {
		if !epolls[i].used {
			epolls[i] = epollInstance{used: true, owner: t.Slot(), gen: epolls[i].gen + 1}
			return int32(i)
		}
	}
	epollPool.Give(s)
	return -1
}

// freeEpoll frees epoll instance i and gives its entry back to its owner's share.
//
//go:nosplit
func freeEpoll(i int32) {
	if e := &epolls[i&(maxEpolls-1)]; e.used {
		e.used = false
		epollPool.Give(share(task.Get(e.owner), &epollPool))
	}
}

// freeEventfd frees eventfd i and gives its entry back to its owner's share.
//
//go:nosplit
func freeEventfd(i int32) {
	if e := &eventfds[i&(maxEventfds-1)]; e.used {
		e.used = false
		eventfdPool.Give(share(task.Get(e.owner), &eventfdPool))
	}
}

// EpollCtl is epoll_ctl(epfd, op, fd, event).
//
//go:nosplit
func EpollCtl(c task.Call) task.Result {
	d := lookup(c.Task(), c.FD(0))
	if d == nil || d.Kind != task.FDEpoll {
		return task.Err(abi.EBADF)
	}
	ep := &epolls[d.Obj&(maxEpolls-1)]
	op, target, ev := c.Arg(1), int32(c.Arg(2)), c.Ptr(3)
	td := lookup(c.Task(), uint64(uint32(target)))
	if td == nil {
		return task.Err(abi.EBADF)
	}
	if td.Kind == task.FDFile {
		return task.Err(abi.EPERM) // as Linux: a regular file is always ready, never polled
	}
	var events uint32
	var data uint64
	if op != epollCtlDel {
		as := c.Space()
		e, ok1 := as.Read32(ev)
		dt, ok2 := as.Read64(ev + 4)
		if !ok1 || !ok2 {
			return task.Err(abi.EFAULT)
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
			return task.Err(abi.EEXIST)
		}
		if ep.n == maxInterest {
			return task.Err(abi.ENOMEM)
		}
		ep.interest[ep.n&(maxInterest-1)] = epollInterest{target, events, data}
		ep.n++
	case epollCtlMod:
		if idx < 0 {
			return task.Err(abi.ENOENT)
		}
		ep.interest[idx&(maxInterest-1)] = epollInterest{target, events, data}
	case epollCtlDel:
		if idx < 0 {
			return task.Err(abi.ENOENT)
		}
		ep.n--
		ep.interest[idx&(maxInterest-1)] = ep.interest[ep.n&(maxInterest-1)]
	default:
		return task.Err(abi.EINVAL)
	}
	return task.Ret(0)
}

// epollCollect writes up to max ready events of ep to user address out and returns how many.
//
//go:nosplit
func epollCollect(c task.Call, ep *epollInstance, out uintptr, max int) (int, bool) {
	as := c.Space()
	n := 0
	if !ep.used || ep.owner != c.Task().Slot() {
		return 0, true // never another task's interests
	}
	for i := 0; i < ep.n && n < max; i++ {
		in := &ep.interest[i&(maxInterest-1)]
		d := lookup(c.Task(), uint64(uint32(in.fd)))
		if d == nil {
			continue
		}
		var ready uint32
		switch d.Kind {
		case task.FDEventfd:
			if eventfds[d.Obj&(maxEventfds-1)].count > 0 {
				ready |= epollIn
			}
			ready |= epollOut
		case task.FDConsole:
			ready |= epollOut
		case task.FDPipeRead, task.FDPipeWrite:
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

// EpollWait is epoll_wait and epoll_pwait(epfd, events, max, timeout ms).
//
//go:nosplit
func EpollWait(c task.Call) task.Result {
	d := lookupFor(c, c.FD(0))
	if d == nil || d.Kind != task.FDEpoll {
		return task.Err(abi.EBADF)
	}
	out, max, timeout := c.Ptr(1), c.Int(2), int64(c.Int(3))
	if max <= 0 {
		return task.Err(abi.EINVAL)
	}
	n, ok := epollCollect(c, &epolls[d.Obj&(maxEpolls-1)], out, max)
	if !ok {
		return task.Err(abi.EFAULT)
	}
	if n > 0 || timeout == 0 {
		return task.Ret(int64(n))
	}
	var deadline int64
	if timeout > 0 {
		deadline = c.Deadline(uint64(timeout) * 1_000_000)
		if arch.Nanotime() >= deadline {
			return task.Ret(0)
		}
	}
	return waitOn(c, c.FD(0), d, &epollWaiters, deadline)
}

// Eventfd is eventfd and eventfd2(initval, flags).
//
//go:nosplit
func Eventfd(c task.Call) task.Result {
	t := c.Task()
	i := newEventfd(t, uint64(uint32(c.Arg(0))))
	if i < 0 {
		return task.Err(abi.EMFILE)
	}
	n := alloc(t, task.FDEventfd, i)
	if n < 0 {
		freeEventfd(i)
		return task.Err(abi.EMFILE)
	}
	return task.Ret(int64(n))
}

// newEventfd makes an eventfd owned by t with counter count, out of its share; -1 if it may
// not have one more or none is free.
//
//go:nosplit
func newEventfd(t *task.Task, count uint64) int32 {
	s := share(t, &eventfdPool)
	if !eventfdPool.Take(s) {
		return -1
	}
	for i := range eventfds {
		if !eventfds[i].used {
			eventfds[i] = eventfd{used: true, owner: t.Slot(), count: count, gen: eventfds[i].gen + 1}
			return int32(i)
		}
	}
	eventfdPool.Give(s)
	return -1
}

//go:nosplit
func eventfdWrite(c task.Call, obj int32, buf, n uintptr) int64 {
	if n < 8 {
		return -abi.EINVAL
	}
	v, ok := c.Space().Read64(buf)
	if !ok {
		return -abi.EFAULT
	}
	if v == ^uint64(0) {
		return -abi.EINVAL
	}
	eventfds[obj&(maxEventfds-1)].count += v
	epollWaiters.WakeAll() // each looks at its own interest list again
	return 8
}

//go:nosplit
func eventfdRead(c task.Call, obj int32, buf, n uintptr) int64 {
	if n < 8 {
		return -abi.EINVAL
	}
	e := &eventfds[obj&(maxEventfds-1)]
	if e.count == 0 {
		return -abi.EAGAIN
	}
	if !c.Space().Write64(buf, e.count) {
		return -abi.EFAULT
	}
	e.count = 0
	return 8
}
