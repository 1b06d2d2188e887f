// Package event is system events: a task whose policy lets it publish a name (publishes NAME)
// posts an event of that name with four words of arguments; the kernel stamps it with the
// publisher's pid (which the publisher cannot forge) and delivers it to every ring-2 security
// module whose policy lets it subscribe to that name — each delivery first screened by the
// subscriber's eBPF filter for that event (package filter), if its policy attaches one. A
// delivery sets notification bit abi.NotifyEvent; the module takes events with event_recv.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (Attach runs in
// goroutine context).
package event

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/bpfvm"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/filter"
	"github.com/simpleos/simpleos/core/kernel/notify"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const (
	maxSubs  = 4
	queueLen = 32
)

type subscription struct {
	name   abi.Name
	filter filter.ID
}

// box is a task's subscriptions, its queue of delivered events, and its event filters.
type box struct {
	subs      [maxSubs]subscription
	nsubs     int
	queue     [queueLen]abi.Event
	head, n   int
	dropped   uint64
	filtered  uint64
	delivered uint64
	filtNames task.NameList // the events its policy module attaches a filter to
	filtIDs   [task.MaxNames]filter.ID
}

var boxes task.Attached[box]

// Filter is a verified program for the event hook, for one event a module subscribes to.
type Filter struct {
	Event string
	Raw   []byte
	Maps  []bpfvm.MapInfo
}

// Attach empties t's box and installs the event filters its policy module attaches (its start
// hook; interrupts off).
func Attach(t *task.Task, filters []Filter) error {
	b := boxes.Of(t)
	*b = box{}
	names := make([]string, 0, len(filters))
	for _, f := range filters {
		names = append(names, f.Event)
	}
	b.filtNames.Set(names)
	for i, f := range filters {
		name, ok := abi.MakeName(f.Event)
		if !ok || i >= task.MaxNames {
			return errorf("event filter for " + f.Event + ": too many filters, or not a name")
		}
		id, err := filter.Install(t.Slot(), false, name, f.Raw, f.Maps)
		if err != nil {
			return errorf("event filter: " + err.Error())
		}
		b.filtIDs[i] = id
	}
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

func errorf(s string) error { return errorString(s) }

// SysSubscribe is event_subscribe(name, len): the calling task subscribes to an event, if its
// policy allows (ring 2 only).
//
//go:nosplit
func SysSubscribe(c task.Call) task.Result {
	var name abi.Name
	if !task.ReadName(c.Space(), c.Ptr(0), c.Size(1), &name) {
		return task.Err(abi.EINVAL)
	}
	t := c.Task()
	if !t.IsCore() && (t.Ring() != 2 || !t.Grants.Listen.Has(&name)) {
		console.Deny(t, "subscribe to", &name, "events")
		return task.Err(abi.EPERM)
	}
	b := boxes.Of(t)
	if b.nsubs >= maxSubs {
		return task.Err(abi.ENOMEM)
	}
	return task.Ret(int64(subscribe(b, &name)))
}

// subscribe adds name to box b's subscriptions, with the filter its policy module attaches to
// it; b has room. It returns the subscription's index.
//
//go:nosplit
func subscribe(b *box, name *abi.Name) int {
	if b.nsubs >= maxSubs {
		return -1
	}
	s := &b.subs[b.nsubs&(maxSubs-1)]
	s.name, s.filter = *name, 0
	for i := 0; i < b.filtNames.Len() && i < task.MaxNames; i++ {
		if b.filtNames.At(i).Equal(name) {
			s.filter = b.filtIDs[i]
		}
	}
	b.nsubs++
	return b.nsubs - 1
}

// SysPost is event_post(name, len, args): it publishes an event to its subscribers and
// returns how many received it.
//
//go:nosplit
func SysPost(c task.Call) task.Result {
	var name abi.Name
	if !task.ReadName(c.Space(), c.Ptr(0), c.Size(1), &name) {
		return task.Err(abi.EINVAL)
	}
	if !c.Task().IsCore() && !c.Task().Grants.Publish.Has(&name) {
		console.Deny(c.Task(), "publish", &name, "publishes")
		return task.Err(abi.EPERM)
	}
	var ev abi.Event
	if !c.Space().CopyIn(arch.Addr(&ev.Args), c.Ptr(2), 32) {
		return task.Err(abi.EFAULT)
	}
	ev.Subject = uint64(c.Task().PID())
	delivered := 0
	for i := 0; i < task.Max; i++ { // 0: the core itself, when it runs a security module (sensor=monolithic)
		t := task.Get(i)
		if !t.Live() {
			continue
		}
		b := boxes.Of(t)
		for j := 0; j < b.nsubs && j < maxSubs; j++ {
			s := &b.subs[j]
			if !s.name.Equal(&name) {
				continue
			}
			ev.Subscription = uint64(j)
			if ok, _ := filter.Run(s.filter, ev.Subscription, ev.Subject, 0, ev.Args[0], ev.Args[1], ev.Args[2], ev.Args[3]); !ok {
				b.filtered++
				continue
			}
			if b.n == queueLen {
				b.dropped++
				continue
			}
			b.queue[(b.head+b.n)&(queueLen-1)] = ev
			b.n++
			b.delivered++
			delivered++
			notify.Signal(t, abi.NotifyEvent)
		}
	}
	return task.Ret(int64(delivered))
}

// SysRecv is event_recv(buf, timeout ns): it takes the next event delivered to the calling
// task, or waits for one.
//
//go:nosplit
func SysRecv(c task.Call) task.Result {
	b := boxes.Of(c.Task())
	if b.n == 0 {
		notify.Take(c.Task(), 1<<abi.NotifyEvent)
		if c.Arg(1) == abi.NotifyPoll {
			return task.Err(abi.ETIMEDOUT)
		}
		return task.Waiting(notify.Block(c.Task(), c.Deadline(c.Arg(1)), -abi.ETIMEDOUT))
	}
	ev := b.queue[b.head&(queueLen-1)]
	b.head = (b.head + 1) % queueLen
	b.n--
	if !c.Space().CopyOut(c.Ptr(0), arch.Addr(&ev), abi.EventSize) {
		return task.Err(abi.EFAULT)
	}
	return task.Ret(0)
}

// TaskEnded forgets the subscriptions and queue of an ended task (its filters go with package
// filter's hook).
//
//go:nosplit
func TaskEnded(t *task.Task) {
	b := boxes.Of(t)
	b.nsubs, b.head, b.n = 0, 0, 0
}
