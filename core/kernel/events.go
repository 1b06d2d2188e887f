package kernel

// System events: a task whose policy lets it publish a name (publishes NAME) posts an event
// of that name with four words of arguments; the core stamps it with the publisher's pid
// (which the publisher cannot forge) and delivers it to every ring-2 security module whose
// policy lets it subscribe to that name — each delivery first
// screened by the subscriber's eBPF filter for that event, if its policy attaches one. A
// delivery sets notification bit abi.NotifyEvent; the module takes events with event_recv.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

const (
	maxSubs       = 4
	eventQueueLen = 32
)

type subscription struct {
	name   abi.Name
	filter int32 // 1 + filter index, 0 = none
}

// Per-process event state lives here, indexed like procs.
var evstate [maxProcs]struct {
	subs       [maxSubs]subscription
	nsubs      int
	queue      [eventQueueLen]abi.Event
	head, n    int
	dropped    uint64
	filtered   uint64
	delivered  uint64
	mayListen  nameList // from the policy: events it may subscribe to
	mayPost    nameList // from the policy: events it may publish
	eventFilts nameList // event names with a filter of this process's module
	filtIdx    [maxNames]int32
}

// sysEventSubscribe(name, len) subscribes the calling task to an event, if its policy allows.
//
//go:nosplit
func sysEventSubscribe(tf *arch.TrapFrame) int64 {
	var name abi.Name
	if !readName(uintptr(tf.RDI), uintptr(tf.RSI), &name) {
		return -abi.EINVAL
	}
	p := int(cur().proc)
	es := &evstate[p&(maxProcs-1)]
	if r := procs[p&(maxProcs-1)].ring; r != 0 && (r != 2 || !es.mayListen.has(&name)) {
		audit("subscribe to", &name, "events")
		return -abi.EPERM
	}
	if es.nsubs >= maxSubs {
		return -abi.ENOMEM
	}
	s := &es.subs[es.nsubs&(maxSubs-1)]
	s.name, s.filter = name, 0
	for i := 0; i < es.eventFilts.n && i < maxNames; i++ {
		if es.eventFilts.names[i].Equal(&name) {
			s.filter = es.filtIdx[i]
		}
	}
	es.nsubs++
	return int64(es.nsubs - 1)
}

// sysEventPost(name, len, args) publishes an event to its subscribers.
//
//go:nosplit
func sysEventPost(tf *arch.TrapFrame) int64 {
	var name abi.Name
	if !readName(uintptr(tf.RDI), uintptr(tf.RSI), &name) {
		return -abi.EINVAL
	}
	if p := int(cur().proc); procs[p&(maxProcs-1)].ring != 0 && !evstate[p&(maxProcs-1)].mayPost.has(&name) {
		audit("publish", &name, "publishes")
		return -abi.EPERM
	}
	var ev abi.Event
	if !curSpace().CopyIn(arch.Addr(&ev.Args[0]), uintptr(tf.RDX), 32) {
		return -abi.EFAULT
	}
	ev.Subject = uint64(curProc().pid)
	delivered := 0
	for p := 0; p < maxProcs; p++ { // 0: the core itself, when it runs a security module (sensor=monolithic)
		if !procs[p].live {
			continue
		}
		es := &evstate[p]
		for i := 0; i < es.nsubs && i < maxSubs; i++ {
			s := &es.subs[i]
			if !s.name.Equal(&name) {
				continue
			}
			ev.Subscription = uint64(i)
			if s.filter != 0 && !runEventFilter(int(s.filter-1), &ev) {
				es.filtered++
				continue
			}
			if es.n == eventQueueLen {
				es.dropped++
				continue
			}
			es.queue[(es.head+es.n)&(eventQueueLen-1)] = ev
			es.n++
			es.delivered++
			delivered++
			notify(p, abi.NotifyEvent)
		}
	}
	return int64(delivered)
}

// runEventFilter screens an event for one subscriber: ctx = kind (subscription index),
// subject (publisher pid), object (0), four arguments, flags (0).
//
//go:nosplit
func runEventFilter(f int, ev *abi.Event) bool {
	c := &filters.ctx
	c[0], c[1], c[2] = ev.Subscription, ev.Subject, 0
	c[3], c[4], c[5], c[6], c[7] = ev.Args[0], ev.Args[1], ev.Args[2], ev.Args[3], 0
	r0, n, ok := runFilterProgram(f, c)
	filters.insns += uint64(n)
	return ok && r0 == 0
}

// sysEventRecv(buf, timeout ns) takes the next event delivered to the calling task.
//
//go:nosplit
func sysEventRecv(tf *arch.TrapFrame) int64 {
	p := int(cur().proc)
	es := &evstate[p&(maxProcs-1)]
	for es.n == 0 {
		if r := sysNotifyWaitFor(1<<abi.NotifyEvent, tf.RSI); r <= 0 {
			if r == 0 {
				return -abi.ETIMEDOUT
			}
			return r
		}
	}
	ev := es.queue[es.head&(eventQueueLen-1)]
	es.head = (es.head + 1) % eventQueueLen
	es.n--
	if !curSpace().CopyOut(uintptr(tf.RDI), arch.Addr(&ev), abi.EventSize) {
		return -abi.EFAULT
	}
	return 0
}

// eventsEnded forgets the subscriptions and queue of an ended process.
//
//go:nosplit
func eventsEnded(p int) {
	es := &evstate[p&(maxProcs-1)]
	es.nsubs, es.head, es.n = 0, 0, 0
}
