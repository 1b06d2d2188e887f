package sched

// Deadlines: the waiting threads that have one are on a doubly linked list, in no order, so
// that a wait with a deadline — an IPC wait bounded to a millisecond, a sleep — joins and
// leaves it in O(1). Each tick checks the whole list (timerExpire): at most MaxThreads
// entries, a few instructions each, once a millisecond — cheaper than keeping it sorted for
// every wait that never reaches its deadline.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

var timerHead int32 // 0: none

//go:nosplit
func timerInsert(i int) {
	t := T(i)
	t.tprev, t.tnext, t.onTimer = 0, timerHead, true
	if timerHead != 0 {
		T(int(timerHead)).tprev = int32(i)
	}
	timerHead = int32(i)
}

//go:nosplit
func timerRemove(i int) {
	t := T(i)
	if !t.onTimer {
		return
	}
	t.onTimer = false
	if t.tprev == 0 {
		timerHead = t.tnext
	} else {
		T(int(t.tprev)).tnext = t.tnext
	}
	if t.tnext != 0 {
		T(int(t.tnext)).tprev = t.tprev
	}
	t.tnext, t.tprev = 0, 0
}

// timerFirst returns the earliest deadline on the list, ok=false if it is empty (a host's idle
// loop jumps to it).
//
//go:nosplit
func timerFirst() (first int64, ok bool) {
	for at := timerHead; at != 0; at = T(int(at)).tnext {
		if d := T(int(at)).deadline; !ok || d < first {
			first, ok = d, true
		}
	}
	return first, ok
}

// timerExpire ends the waits whose deadline is not after now, with their timeout result.
//
//go:nosplit
func timerExpire(now int64) {
	for at := timerHead; at != 0; {
		i := int(at)
		t := T(i)
		at = t.tnext
		if t.deadline > now {
			continue
		}
		WakeWith(i, t.timeout) // takes it off the list
		if t.onTimer {         // not waiting after all: drop it
			timerRemove(i)
		}
	}
}
