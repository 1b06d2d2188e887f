package sched

// Deadlines: the waiting threads that have one are on a list sorted by deadline, so a tick
// looks at the head only.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

var timerHead int32 // 0: none

//go:nosplit
func timerInsert(i int) {
	t := T(i)
	prev, at := int32(0), timerHead
	for at != 0 && T(int(at)).deadline <= t.deadline {
		prev, at = at, T(int(at)).tnext
	}
	t.tnext, t.onTimer = at, true
	if prev == 0 {
		timerHead = int32(i)
	} else {
		T(int(prev)).tnext = int32(i)
	}
}

//go:nosplit
func timerRemove(i int) {
	t := T(i)
	if !t.onTimer {
		return
	}
	t.onTimer = false
	if timerHead == int32(i) {
		timerHead = t.tnext
		return
	}
	for at := timerHead; at != 0; at = T(int(at)).tnext {
		if T(int(at)).tnext == int32(i) {
			T(int(at)).tnext = t.tnext
			return
		}
	}
}

// timerExpire ends the waits whose deadline is not after now, with their timeout result.
//
//go:nosplit
func timerExpire(now int64) {
	for timerHead != 0 {
		i := int(timerHead)
		t := T(i)
		if t.deadline > now {
			return
		}
		WakeWith(i, t.timeout) // takes it off the list
		if t.onTimer {         // not waiting after all: drop it, never loop
			timerRemove(i)
		}
	}
}
