package hosted_test

// A task's end on the host: the kernel decides its reason from what it saw (an exit status, a
// signal's default action, the supervisor's kill), tears it down through the services' hooks
// wherever its threads wait, and gives back everything it held.

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/hosted"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const sigterm = 15

func newTask(t *testing.T, spec kernel.TaskSpec) *hosted.Task {
	t.Helper()
	tk, err := hosted.NewTask(spec)
	require.NoError(t, err)
	return tk
}

// waitForever parks the calling thread in a read of a pipe nobody writes.
func waitForever(th *hosted.Thread) int64 {
	fds := th.Task.Map(8)
	th.Syscall(abi.SysPipe2, uint64(fds), 0)
	r := binary.LittleEndian.Uint32(th.Task.Read(fds, 4))
	return th.Syscall(abi.SysRead, uint64(r), uint64(th.Task.Map(8)), 8)
}

func TestHostEndReasonsComeFromWhatTheKernelSaw(t *testing.T) {
	hosted.Start()
	frames := kernel.Frames().Free

	exits := newTask(t, kernel.TaskSpec{Name: "exits", Ring: 3})
	exits.Thread(func(th *hosted.Thread) {
		// Its last words claim a fault; the kernel goes by the exit status it saw.
		va, n := th.Task.String("SIGSEGV: segmentation violation\nPC=0x401000 m=0 sigcode=1\n")
		th.Syscall(abi.SysWrite, 2, va, n)
		th.Syscall(abi.SysExitGroup, 7)
	})

	signaled := newTask(t, kernel.TaskSpec{Name: "signaled", Ring: 2})
	returned := false
	waiter := signaled.Thread(func(th *hosted.Thread) {
		waitForever(th)
		returned = true // never: the signal's default action ends the task on the way back
	})
	signaled.Thread(func(th *hosted.Thread) {
		th.Syscall(abi.SysTgkill, uint64(signaled.PID()), uint64(waiter.TID()), sigterm)
	})

	killed := newTask(t, kernel.TaskSpec{Name: "killed", Ring: 1})
	killed.Thread(func(th *hosted.Thread) { waitForever(th) })
	killed.Thread(func(th *hosted.Thread) { waitForever(th) })

	hosted.Run()
	require.True(t, killed.Live(), "it waits in two threads")
	assert.Equal(t, 2, sched.LiveOf(killed.Slot()))
	require.True(t, kernel.KillTask(int(killed.PID())))
	hosted.Run()

	assert.False(t, returned)
	ends := map[int32]task.End{}
	for _, e := range hosted.Ends() {
		ends[e.PID] = e
	}
	require.Len(t, ends, 3)
	e := ends[exits.PID()]
	assert.Equal(t, [3]any{kernel.TaskExited, int64(7), uint64(task.NoVector)}, [3]any{e.Reason, e.Code, e.Vector})
	e = ends[signaled.PID()]
	assert.Equal(t, [3]any{kernel.TaskSignaled, int64(sigterm), task.BySignal}, [3]any{e.Reason, e.Code, e.Cause})
	e = ends[killed.PID()]
	assert.Equal(t, [2]any{kernel.TaskKilled, task.BySupervisor}, [2]any{e.Reason, e.Cause})
	for _, tk := range []*hosted.Task{exits, signaled, killed} {
		assert.False(t, tk.Live())
		assert.Zero(t, sched.LiveOf(tk.Slot()), "no thread of an ended task is left")
	}
	assert.Equal(t, frames, kernel.Frames().Free, "every frame is back")
}

func TestHostAThreadQuotaStopsATaskNotTheOthers(t *testing.T) {
	hosted.Start()
	greedy := newTask(t, kernel.TaskSpec{Name: "greedy", Ring: 3})
	n := 0
	for greedy.Thread(func(th *hosted.Thread) { waitForever(th) }) != nil {
		n++
		require.Less(t, n, sched.MaxThreads, "the task never hit its limit")
	}
	assert.Equal(t, task.ThreadsMax, n)
	modest := newTask(t, kernel.TaskSpec{Name: "modest", Ring: 3})
	for i := range task.ThreadsMin {
		assert.NotNil(t, modest.Thread(func(th *hosted.Thread) {}), "thread %d of its minimum", i)
	}
	hosted.Run()
}
