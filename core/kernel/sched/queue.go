package sched

// Queues of threads: the run queue and every wait queue are doubly linked lists through the
// threads' own links, so a thread is on at most one queue, joining and leaving it costs O(1),
// and nothing is ever scanned to find who waits for what.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import "github.com/simpleos/simpleos/core/kernel/arch"

// Queue is a FIFO of thread slots (0 is never queued: it is the idle thread). The zero value
// is an empty queue. A Queue must not move while threads are on it: kernel objects hold
// theirs in static tables.
type Queue struct {
	head, tail int32
}

// Empty reports whether no thread is on q.
//
//go:nosplit
func (q *Queue) Empty() bool { return q.head == 0 }

// First returns the thread at the head of q, or 0.
//
//go:nosplit
func (q *Queue) First() int { return int(q.head) }

// After returns the thread after i on its queue, or 0.
//
//go:nosplit
func After(i int) int { return int(T(i).next) }

//go:nosplit
func (q *Queue) push(i int) {
	t := T(i)
	t.queue = arch.Addr(q)
	t.next, t.prev = 0, q.tail
	if q.tail != 0 {
		T(int(q.tail)).next = int32(i)
	} else {
		q.head = int32(i)
	}
	q.tail = int32(i)
}

//go:nosplit
func (q *Queue) pop() int {
	i := int(q.head)
	if i != 0 {
		dequeue(i)
	}
	return i
}

// dequeue takes thread i off the queue it is on, if any.
//
//go:nosplit
func dequeue(i int) {
	t := T(i)
	if t.queue == 0 {
		return
	}
	q := (*Queue)(arch.Pointer(t.queue))
	if t.prev != 0 {
		T(int(t.prev)).next = t.next
	} else {
		q.head = t.next
	}
	if t.next != 0 {
		T(int(t.next)).prev = t.prev
	} else {
		q.tail = t.prev
	}
	t.queue, t.next, t.prev = 0, 0, 0
}

// WakeOne wakes the first thread waiting on q (see Wake); it reports whether there was one.
//
//go:nosplit
func (q *Queue) WakeOne() bool {
	i := q.First()
	if i == 0 {
		return false
	}
	Wake(i)
	return true
}

// WakeAll wakes every thread waiting on q.
//
//go:nosplit
func (q *Queue) WakeAll() {
	for i := q.First(); i != 0; i = q.First() {
		Wake(i)
	}
}

// WakeAllWith wakes every thread waiting on q with result r.
//
//go:nosplit
func (q *Queue) WakeAllWith(r int64) {
	for i := q.First(); i != 0; i = q.First() {
		WakeWith(i, r)
	}
}
