package kernel

import (
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// Spinning: a thread that runs without making system calls (a loop that never yields). The
// dispatcher counts every thread's calls (sched.NoteCall); the supervisor's watchdog samples
// the counts with the threads' CPU time every time it wakes (every ~10 ms). A thread whose CPU
// grew by at least spinMin while its count did not was spinning for that CPU, which is added
// to its task's spin time (supervisor.Rules.Spin judges it). Unlike a CPU budget, this sees a
// loop whatever share of the CPU it gets.

// spinMin ignores short stretches of computing between two samples.
const spinMin = 1_000_000 // ns

type spinSample struct {
	pid, tid int32 // whose sample (a slot is reused; a restored thread keeps its tid)
	calls    uint32
	cpu      int64
}

var spinSamples [sched.MaxThreads]spinSample

// SampleSpin adds to each task's spin time the CPU its threads used since the previous
// sample without making a system call.
func SampleSpin() {
	interruptsOff()
	defer interruptsOn()
	for i := 1; i < sched.MaxThreads; i++ {
		th, s := sched.T(i), &spinSamples[i]
		if !th.Live() || th.Task() == task.Core {
			*s = spinSample{}
			continue
		}
		t := task.Get(th.Task())
		now := spinSample{pid: t.PID(), tid: th.TID(), calls: th.Calls(), cpu: th.CPU()}
		if s.pid == now.pid && s.tid == now.tid && s.calls == now.calls && now.cpu-s.cpu >= spinMin {
			t.SpinNs += now.cpu - s.cpu
		}
		*s = now
	}
}
