package sched

// The scheduler's queues, waits and deadlines, on the host: nothing here switches threads
// (Schedule, Donate and Run do, and run only on the machine); what a wait does to a thread
// and to the queues is pure bookkeeping.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
)

// qa and qb are the tests' wait queues: static, as every kernel object's queue is (a queue's
// address is kept in the threads on it, and a goroutine's stack moves).
var qa, qb Queue

// reset empties the thread table and the queues, and makes slots 1..n live threads of task 1,
// slot 1 running.
func reset(t *testing.T, n int) {
	t.Helper()
	threads = [MaxThreads]Thread{}
	runq, timerHead, qa, qb = Queue{}, 0, Queue{}, Queue{}
	cursor, coreWoken = 0, false
	for i := 1; i <= n; i++ {
		threads[i] = Thread{state: Runnable, task: 1, tid: int32(100 + i)}
	}
	current = 1
}

func slots(q *Queue) []int {
	var s []int
	for i := q.First(); i != 0; i = After(i) {
		s = append(s, i)
	}
	return s
}

func TestQueuesAreFIFOAndUnlinkAnywhere(t *testing.T) {
	reset(t, 5)
	q := &qa
	assert.True(t, q.Empty())
	for i := 1; i <= 4; i++ {
		q.push(i)
	}
	assert.Equal(t, []int{1, 2, 3, 4}, slots(q))
	dequeue(3) // from the middle
	dequeue(1) // the head
	dequeue(4) // the tail
	assert.Equal(t, []int{2}, slots(q))
	dequeue(2)
	assert.True(t, q.Empty())
	dequeue(2) // not on a queue: nothing happens
	assert.Equal(t, uintptr(0), T(2).queue)
}

func TestBlockAndWakeMoveThreadsBetweenQueues(t *testing.T) {
	reset(t, 3)
	q := &qa
	require.True(t, Block(q, 0, 0, ResumeResult))
	assert.Equal(t, Blocked, T(1).state)
	assert.True(t, Waiting(1, q))
	assert.Equal(t, []int{1}, slots(q))

	WakeWith(1, 42)
	assert.Equal(t, Runnable, T(1).state)
	assert.True(t, q.Empty(), "a woken thread leaves its wait queue")
	assert.Equal(t, []int{1}, slots(&runq), "and joins the run queue")
	current = 1
	again, r := Resumed()
	assert.False(t, again)
	assert.Equal(t, int64(42), r)
	WakeWith(1, 7) // not waiting any more: nothing happens
	assert.Equal(t, []int{1}, slots(&runq))
}

func TestResumeDecidesWhetherACallRunsAgain(t *testing.T) {
	cases := []struct {
		how       Resume
		wake      func(i int)
		again     bool
		result    int64
		whatEnded string
	}{
		{ResumeResult, Wake, false, 0, "a plain wake ends a ResumeResult wait with 0"},
		{ResumeRetry, Wake, true, 0, "a plain wake runs a ResumeRetry call again"},
		{ResumeRetry, func(i int) { WakeWith(i, -5) }, false, -5, "a result ends a ResumeRetry wait"},
		{ResumeAlways, func(i int) { WakeWith(i, -5) }, true, -5, "every end runs a ResumeAlways call again"},
		{ResumeRetry, Interrupt, false, -abi.EINTR, "a signal ends a wait with EINTR"},
		{ResumeAlways, Interrupt, true, -abi.EINTR, "... and a ResumeAlways call learns it again"},
	}
	for _, c := range cases {
		reset(t, 2)
		q := &qa
		require.True(t, Block(q, 0, 0, c.how))
		c.wake(1)
		again, r := Resumed()
		assert.Equal(t, c.again, again, c.whatEnded)
		assert.Equal(t, c.result, r, c.whatEnded)
	}
}

func TestAPendingSignalRefusesTheWaitAndQuietWaitsIgnoreSignals(t *testing.T) {
	reset(t, 2)
	q := &qa
	T(1).Sig.Pending = 1 << 22
	assert.False(t, Block(q, 0, 0, ResumeResult), "a wait begun with a signal pending ends at once (EINTR)")
	assert.Equal(t, Runnable, T(1).state)
	T(1).Sig.Mask = 1 << 22
	assert.True(t, Block(q, 0, 0, ResumeResult), "a blocked signal does not")

	reset(t, 2)
	BlockQuiet(q, ResumeResult)
	Interrupt(1)
	assert.Equal(t, Blocked, T(1).state, "a quiet wait finishes whatever signals arrive")
	Wake(1)
	assert.Equal(t, Runnable, T(1).state)
}

func TestDeadlinesEndWaitsInOrder(t *testing.T) {
	reset(t, 4)
	q := &qa
	for i, d := range []int64{300, 100, 200} {
		current = i + 1
		require.True(t, Block(q, d, -int64(i+1), ResumeResult))
	}
	first, ok := timerFirst()
	assert.True(t, ok)
	assert.Equal(t, int64(100), first, "the earliest deadline")

	timerExpire(150)
	assert.Equal(t, Runnable, T(2).state)
	assert.Equal(t, int64(-2), T(2).wakeResult, "a deadline ends the wait with its timeout result")
	assert.Equal(t, Blocked, T(3).state)
	WakeWith(3, 9) // woken before its deadline: it leaves the timer list
	assert.Equal(t, int32(1), timerHead)
	assert.Zero(t, T(1).tnext, "the one left")
	timerExpire(1000)
	assert.Equal(t, Runnable, T(1).state)
	assert.Equal(t, int32(0), timerHead)
	assert.True(t, q.Empty())
}

func TestRequeueKeepsTheDeadline(t *testing.T) {
	reset(t, 2)
	a, b := &qa, &qb
	require.True(t, Block(a, 500, -7, ResumeResult))
	Requeue(1, b)
	assert.True(t, a.Empty())
	assert.True(t, Waiting(1, b))
	timerExpire(600)
	assert.Equal(t, int64(-7), T(1).wakeResult)
	assert.True(t, b.Empty())
}

func TestEndTakesAThreadOffEveryQueueAndGivesItsSlotBack(t *testing.T) {
	reset(t, 3)
	ThreadPool = Pool()
	require.True(t, ThreadPool.Take(nil))
	q := &qa
	current = 2
	require.True(t, Block(q, 100, 0, ResumeResult))
	T(2).counted = true
	End(2, nil)
	assert.Equal(t, Zombie, T(2).state)
	assert.True(t, q.Empty())
	assert.Equal(t, int32(0), timerHead)
	assert.Equal(t, int64(0), ThreadPool.Used(), "its entry of the thread pool is given back")
	End(2, nil)
	assert.Equal(t, int64(0), ThreadPool.Used(), "once")
}

func TestWakeAllEmptiesTheQueue(t *testing.T) {
	reset(t, 5)
	q := &qa
	for i := 1; i <= 4; i++ {
		current = i
		require.True(t, Block(q, 0, 0, ResumeRetry))
	}
	q.WakeAll()
	assert.True(t, q.Empty())
	assert.Equal(t, []int{1, 2, 3, 4}, slots(&runq))
	for i := 1; i <= 4; i++ {
		assert.True(t, T(i).again)
	}
}

func TestScheduleRunsTheNextRunnableSlotInTurn(t *testing.T) {
	UseHost()
	reset(t, 4)
	for _, i := range []int{4, 1, 3} {
		runq.push(i)
	}
	current = 2
	var order []int
	for range 5 {
		Schedule()
		order = append(order, Current())
	}
	assert.Equal(t, []int{3, 4, 1, 2, 3}, order, "slot order after the running thread, whatever the queue's order")
	assert.Equal(t, timeSlice, Cur().sliceLeft, "a scheduled thread gets a fresh slice")

	// A thread that waits leaves the turn; with nothing runnable, idle runs.
	reset(t, 1)
	require.True(t, Block(&qa, 0, 0, ResumeResult))
	Schedule()
	assert.Equal(t, 0, Current(), "idle")
	Wake(1)
	Schedule()
	assert.Equal(t, 1, Current())
}

func TestDonateHandsOverWhatIsLeftOfTheSlice(t *testing.T) {
	UseHost()
	reset(t, 3)
	runq.push(3)
	current = 2
	require.True(t, Block(&qa, 5000, -110, ResumeRetry)) // the server waits for a call
	current = 1
	Cur().sliceLeft = 4
	require.True(t, Block(&qb, 0, 0, ResumeResult)) // the client waits for its reply ...
	Donate(2)                                       // ... and hands its slice to the server
	assert.Equal(t, 2, Current())
	assert.Equal(t, int32(4), Cur().sliceLeft, "the server runs on the client's slice")
	assert.True(t, qa.Empty(), "the server left its wait queue")
	assert.Equal(t, int32(0), timerHead, "and its deadline")
	again, r := Resumed()
	assert.False(t, again, "a donated call returns, whatever its Resume")
	assert.Equal(t, int64(0), r)
	assert.Equal(t, []int{3}, slots(&runq), "the waiting client is not runnable")
	assert.True(t, Waiting(1, &qb))

	// Donating from a thread that stays runnable keeps it in the turn.
	require.True(t, Block(&qa, 0, 0, ResumeResult))
	Schedule()
	require.Equal(t, 3, Current())
	Cur().sliceLeft = 0
	Donate(2)
	assert.Equal(t, int32(1), T(2).sliceLeft, "an exhausted slice still lets the receiver run one tick")
	assert.Equal(t, []int{3}, slots(&runq))
}

// A core thread woken while task threads run (the supervisor told a task ended) preempts the
// running task thread at the end of the trap that woke it (here the timer's: Tick, then
// PreemptForCore, as handleTrap calls them); that thread resumes right after it with the rest of
// its slice, and the round robin goes on from where it was. A core thread that uses up its
// slice is not preferred again.
func TestAWokenCoreThreadRunsFirstAndTheTaskResumes(t *testing.T) {
	UseHost()
	reset(t, 5)
	T(5).task = 0 // slot 5: a core thread, waiting
	threads[5].state = Blocked
	threads[1].state = Blocked
	runq.push(3)
	runq.push(4)
	current = 2 // task threads 2..4 runnable, 2 running
	Cur().sliceLeft = 7

	// The core thread is woken while task thread 2 runs: 2 is preempted at the next tick.
	Wake(5)
	assert.True(t, coreWoken)
	Tick()
	PreemptForCore()
	assert.Equal(t, 5, Current(), "the woken core thread runs at the end of the tick")
	assert.True(t, T(2).preempted)

	// The core thread waits again: task thread 2 resumes with what was left of its slice.
	require.True(t, Block(&qb, 0, 0, ResumeResult))
	Schedule()
	assert.Equal(t, 2, Current(), "the preempted thread resumes")
	assert.Equal(t, int32(6), Cur().sliceLeft, "with the rest of its slice (7, less the tick)")
	assert.False(t, T(2).preempted)

	// The round robin goes on after 2, as if the core had not run.
	var order []int
	for range 3 {
		Schedule()
		order = append(order, Current())
	}
	assert.Equal(t, []int{3, 4, 2}, order)

	// A woken core thread that uses up its slice takes its turn like any other.
	current = 2
	Wake(5)
	Tick()
	PreemptForCore()
	require.Equal(t, 5, Current())
	for range timeSlice {
		Tick()
	}
	assert.NotEqual(t, 5, Current(), "its slice used, the core thread leaves the CPU")
	assert.Equal(t, 2, Current(), "to the preempted task thread")
	order = order[:0]
	for range 4 {
		Schedule()
		order = append(order, Current())
	}
	assert.Equal(t, []int{3, 4, 5, 2}, order, "then slot order, the core thread among the rest")

	// Woken by a trap of the running task thread, it runs on that trap's way back.
	require.Equal(t, 2, Current())
	threads[5].state = Blocked // (bookkeeping only: 5 waits)
	Wake(5)
	PreemptForCore()
	assert.Equal(t, 5, Current(), "at once, not at the next tick")
	assert.True(t, T(2).preempted)
	PreemptForCore()
	assert.Equal(t, 5, Current(), "a core thread is never preempted for another")

	// A core thread woken by the core (no task thread running) preempts nothing.
	current = 5
	threads[1].state = Blocked
	Wake(1) // a task thread: no boost
	assert.False(t, T(1).coreWoken)
	assert.False(t, coreWoken)
}

// The timer list, linked both ways, stays consistent through any mix of inserts and removals
// from anywhere, and a tick ends exactly the waits whose deadline has come: checked against a
// model after each step.
func TestTimerListStaysConsistent(t *testing.T) {
	reset(t, 40)
	on := map[int]int64{}
	seed := uint64(1)
	rnd := func(n int) int { seed = seed*6364136223846793005 + 1442695040888963407; return int(seed>>33) % n }
	for step := 0; step < 2000; step++ {
		i := 1 + rnd(39)
		if _, ok := on[i]; ok {
			timerRemove(i)
			delete(on, i)
		} else {
			T(i).deadline = int64(rnd(50))
			timerInsert(i)
			on[i] = T(i).deadline
		}
		seen := map[int]bool{}
		prev := int32(0)
		for at := timerHead; at != 0; at = T(int(at)).tnext {
			require.Equal(t, prev, T(int(at)).tprev, "step %d: the back link", step)
			require.False(t, seen[int(at)], "step %d: no cycle", step)
			seen[int(at)] = true
			prev = at
		}
		require.Len(t, seen, len(on), "step %d", step)
		first, ok := timerFirst()
		if want, any := minOf(on); any {
			require.True(t, ok)
			require.Equal(t, want, first, "step %d", step)
		}
	}
	// A tick at 25 ends the waits due by then, and only those.
	for i := range on {
		current = i
		T(i).state, T(i).timeout = Blocked, -int64(i)
	}
	current = 0
	timerExpire(25)
	for i, d := range on {
		if d <= 25 {
			assert.Equal(t, Runnable, T(i).state, "thread %d, due at %d", i, d)
			assert.Equal(t, -int64(i), T(i).wakeResult)
			assert.False(t, T(i).onTimer)
		} else {
			assert.Equal(t, Blocked, T(i).state, "thread %d, due at %d", i, d)
			assert.True(t, T(i).onTimer)
		}
	}
}

func minOf(m map[int]int64) (int64, bool) {
	var min int64
	ok := false
	for _, d := range m {
		if !ok || d < min {
			min, ok = d, true
		}
	}
	return min, ok
}
