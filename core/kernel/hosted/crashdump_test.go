package hosted_test

// crashdump=short on the host: a task whose runtime has said its last words ends at its dump's
// second goroutine, with the status its runtime would have exited with; a task printing the
// same lines without last words is left alone.

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/hosted"
	"github.com/simpleos/simpleos/core/kernel/task"
)

func TestHostShortCrashDumpEndsTheTaskAtItsSecondGoroutine(t *testing.T) {
	hosted.Start()
	console.SetShortDumps(true)
	defer console.SetShortDumps(false)
	const dump = "panic: boom\n\ngoroutine 7 [running]:\nmain.crash()\n\t/src/main.go:10 +0x1d\n\n" +
		"goroutine 1 [select]:\nmain.serve()\n\t/src/main.go:5 +0x2a\n"

	dying := newTask(t, kernel.TaskSpec{Name: "dying", Ring: 3})
	returned := false
	dying.Thread(func(th *hosted.Thread) {
		va, n := th.Task.String(dump)
		th.Syscall(abi.SysWrite, 2, va, n)
		returned = true // never: the task ended on the way out of its write
	})
	// The same goroutine lines with no last words before them: ordinary output.
	chatty := newTask(t, kernel.TaskSpec{Name: "chatty", Ring: 3})
	chatty.Thread(func(th *hosted.Thread) {
		va, n := th.Task.String("goroutine 1 is fine\ngoroutine 2 is fine\n")
		th.Syscall(abi.SysWrite, 1, va, n)
		th.Syscall(abi.SysExitGroup, 0)
	})
	hosted.Run()

	assert.False(t, returned)
	out := hosted.Output()
	for _, line := range []string{"[dying] panic: boom\n", "[dying] goroutine 7 [running]:\n", "[dying] main.crash()\n",
		"[dying] ... the rest of its crash dump (the other goroutines) not shown: crashdump=short\n",
		"[chatty] goroutine 1 is fine\n", "[chatty] goroutine 2 is fine\n"} {
		assert.Contains(t, out, line)
	}
	assert.NotContains(t, out, "[dying] goroutine 1 [select]:")
	assert.NotContains(t, out, "main.serve()")
	ends := map[int32]task.End{}
	for _, e := range hosted.Ends() {
		ends[e.PID] = e
	}
	e := ends[dying.PID()]
	assert.Equal(t, [2]any{kernel.TaskExited, int64(2)}, [2]any{e.Reason, e.Code}, "exit status 2, as its runtime would")
	e = ends[chatty.PID()]
	assert.Equal(t, [2]any{kernel.TaskExited, int64(0)}, [2]any{e.Reason, e.Code})
}

func TestHostFullCrashDumpByDefault(t *testing.T) {
	hosted.Start()
	dying := newTask(t, kernel.TaskSpec{Name: "dumps", Ring: 3})
	dying.Thread(func(th *hosted.Thread) {
		va, n := th.Task.String("fatal error: x\n\ngoroutine 7 [running]:\nmain.a()\n\ngoroutine 1 [select]:\nmain.b()\n")
		th.Syscall(abi.SysWrite, 2, va, n)
		th.Syscall(abi.SysExitGroup, 2)
	})
	hosted.Run()
	out := hosted.Output()
	assert.Contains(t, out, "[dumps] goroutine 1 [select]:\n")
	assert.Contains(t, out, "[dumps] main.b()\n")
	assert.NotContains(t, out, "[dumps] ... the rest")
}
