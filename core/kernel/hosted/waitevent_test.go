package hosted_test

// wait_event is the core's own call: from a task, in any ring, with any kind and deadline —
// past, far, or none — it is refused at once and waits for nothing, from several threads at
// the same time.

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/hosted"
)

func TestHostWaitEventIsTheCoresOnly(t *testing.T) {
	hosted.Start()
	args := [][2]uint64{{abi.WaitTaskEnded, 0}, {abi.WaitContentWrite, 1}, {abi.WaitTaskEnded, 1 << 62},
		{2, 0}, {^uint64(0), ^uint64(0)}, {abi.WaitContentWrite, 1 << 63}}
	var got []int64
	for ring := 1; ring <= 3; ring++ {
		tk := newTask(t, kernel.TaskSpec{Name: "waiter", Ring: ring})
		for range 3 { // racing threads
			tk.Thread(func(th *hosted.Thread) {
				for _, a := range args {
					got = append(got, th.Syscall(abi.SysWaitEvent, a[0], a[1]))
				}
			})
		}
	}
	hosted.Run()
	assert.Len(t, got, 3*3*len(args), "no call waited")
	for _, r := range got {
		assert.Equal(t, int64(-abi.EPERM), r)
	}
}
