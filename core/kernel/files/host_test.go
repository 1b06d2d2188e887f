package files_test

// Descriptors on the host (package hosted): pipes between threads, a descriptor closed under
// a waiting call, the tables' quotas, and what a task's end gives back.

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/files"
	"github.com/simpleos/simpleos/core/kernel/hosted"
)

func newTask(t *testing.T, name string) *hosted.Task {
	t.Helper()
	tk, err := hosted.NewTask(kernel.TaskSpec{Name: name, Ring: 3})
	require.NoError(t, err)
	return tk
}

// pipe makes a pipe in the calling thread's task: its read and write descriptors.
func pipe(th *hosted.Thread) (r, w uint64, err int64) {
	fds := th.Task.Map(8)
	if e := th.Syscall(abi.SysPipe2, uint64(fds), 0); e != 0 {
		return 0, 0, e
	}
	b := th.Task.Read(fds, 8)
	return uint64(binary.LittleEndian.Uint32(b)), uint64(binary.LittleEndian.Uint32(b[4:])), 0
}

func TestHostAPipeCarriesMoreThanItsBufferAndEndsWithEOF(t *testing.T) {
	hosted.Start()
	tk := newTask(t, "app")
	data := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16,000 bytes: four pipe buffers
	var got []byte
	var eof, written int64
	var r, w uint64
	tk.Thread(func(th *hosted.Thread) {
		r, w, _ = pipe(th)
		src := tk.Map(len(data))
		tk.Write(src, data)
		for off := 0; off < len(data); {
			n := th.Syscall(abi.SysWrite, w, uint64(src)+uint64(off), uint64(len(data)-off))
			if n <= 0 {
				written = n
				return
			}
			off += int(n)
			written += n
		}
		th.Syscall(abi.SysClose, w)
	})
	tk.Thread(func(th *hosted.Thread) {
		buf := tk.Map(3000)
		for {
			n := th.Syscall(abi.SysRead, r, uint64(buf), 3000)
			if n <= 0 {
				eof = n
				return
			}
			got = append(got, tk.Read(buf, int(n))...)
		}
	})
	hosted.Run()
	assert.Equal(t, int64(len(data)), written, "the writer waited for room, never lost a byte")
	assert.Equal(t, data, got)
	assert.Zero(t, eof, "the last writer's close is end of file")
}

// A thread waits in read on a pipe; a sibling closes the descriptor and makes a new pipe, which
// gets the same descriptor number and the same pipe slot, and writes to it. The waiting read
// must end with EBADF, not read the new pipe.
func TestHostAReadWhoseDescriptorIsClosedUnderItGetsEBADF(t *testing.T) {
	hosted.Start()
	tk := newTask(t, "app")
	var r1, r2, w2 uint64
	var readR, closeR int64
	tk.Thread(func(th *hosted.Thread) {
		r1, _, _ = pipe(th)
		buf := tk.Map(16)
		readR = th.Syscall(abi.SysRead, r1, uint64(buf), 16)
	})
	tk.Thread(func(th *hosted.Thread) {
		closeR = th.Syscall(abi.SysClose, r1)
		r2, w2, _ = pipe(th)
		src := tk.Map(16)
		tk.Write(src, []byte("not for you"))
		th.Syscall(abi.SysWrite, w2, uint64(src), 11)
	})
	hosted.Run()
	require.Zero(t, closeR)
	assert.Equal(t, r1, r2, "the new pipe's read end has the old number")
	assert.Equal(t, int64(-abi.EBADF), readR)
}

func TestHostTableQuotasProtectTheCoreAndOtherTasks(t *testing.T) {
	hosted.Start()
	p0, e0, v0 := files.InUse()
	bystander := newTask(t, "bystander") // admitted first: its minimum is promised
	var hogs []*hosted.Task
	for range 10 {
		hogs = append(hogs, newTask(t, "hog"))
	}
	got := make([]int, len(hogs))
	for i, h := range hogs {
		h.Thread(func(th *hosted.Thread) {
			for {
				if _, _, e := pipe(th); e != 0 {
					assert.Equal(t, int64(-abi.EMFILE), e)
					break
				}
				got[i]++
			}
			th.Syscall(abi.SysNanosleep, uint64(h.Timespec(10_000_000))) // hold them while the bystander runs
		})
	}
	var bystanderPipes, bystanderErr int64
	bystander.Thread(func(th *hosted.Thread) {
		th.Syscall(abi.SysNanosleep, uint64(bystander.Timespec(1_000_000))) // after the hogs
		for range 2 {
			if _, _, e := pipe(th); e != 0 {
				bystanderErr = e
				return
			}
			bystanderPipes++
		}
	})
	hosted.Run()
	total := 0
	for _, n := range got {
		assert.GreaterOrEqual(t, n, 2, "every hog got its own minimum")
		assert.LessOrEqual(t, n, 16, "and no more than its limit")
		total += n
	}
	assert.LessOrEqual(t, total, 128-4-2, "the core's reserve and the bystander's minimum were never lent")
	assert.Equal(t, int64(2), bystanderPipes, "the bystander still got its minimum: %d", bystanderErr)
	p, e, v := files.InUse()
	assert.Equal(t, [3]int64{p0, e0, v0}, [3]int64{p, e, v}, "every task ended: every object is back")
}

func TestHostATasksEndClosesEverythingItHeld(t *testing.T) {
	hosted.Start()
	frames := kernel.Frames().Free
	p0, e0, v0 := files.InUse()
	tk := newTask(t, "app")
	var during [3]int64
	tk.Thread(func(th *hosted.Thread) {
		pipe(th)
		pipe(th)
		ep := th.Syscall(abi.SysEpollCreate1, 0)
		efd := th.Syscall(abi.SysEventfd2, 0, 0)
		assert.Positive(t, ep)
		assert.Positive(t, efd)
		tk.Write(tk.Map(1<<20), make([]byte, 1<<20))                 // 256 pages, and their page tables
		th.Syscall(abi.SysNanosleep, uint64(tk.Timespec(1_000_000))) // the sibling makes its pipe and waits
		p, e, v := files.InUse()
		during = [3]int64{p, e, v}
		th.Syscall(abi.SysExitGroup, 0) // nothing closed by hand
	})
	tk.Thread(func(th *hosted.Thread) { // a sibling waiting on a pipe when its task ends
		r, _, _ := pipe(th)
		th.Syscall(abi.SysRead, r, uint64(tk.Map(8)), 8)
	})
	hosted.Run()
	assert.Equal(t, [3]int64{p0 + 3, e0 + 1, v0 + 1}, during)
	p, e, v := files.InUse()
	assert.Equal(t, [3]int64{p0, e0, v0}, [3]int64{p, e, v})
	assert.Equal(t, frames, kernel.Frames().Free, "its address space and page tables are free again")
	ends := hosted.Ends()
	require.Len(t, ends, 1)
	assert.Equal(t, kernel.TaskExited, ends[0].Reason)
}
