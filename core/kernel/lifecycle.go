package kernel

// A task's life in the kernel: the services attach their state to it when it starts (the
// start hooks, in StartTask) and release it when it ends (the teardown hooks, here). Teardown
// is one loop over the hooks, in order: IPC first, while the task's threads still show what
// they wait for; its threads next; its descriptors and memory last.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/content"
	"github.com/simpleos/simpleos/core/kernel/event"
	"github.com/simpleos/simpleos/core/kernel/files"
	"github.com/simpleos/simpleos/core/kernel/filter"
	"github.com/simpleos/simpleos/core/kernel/ipc"
	"github.com/simpleos/simpleos/core/kernel/notify"
	"github.com/simpleos/simpleos/core/kernel/pcidev"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// hook is one service's teardown. The table is static data with the layout of the system-call
// table's first two words, {name string; fn func}, which core/trapcheck reads to follow the
// loop's indirect calls.
type hook struct {
	name string
	end  func(t *task.Task)
}

// teardown lists, in order, what releases a task's state when it ends.
var teardown = [...]hook{
	{"ipc", ipc.TaskEnded},         // its calls fail, its endpoints go, while its threads show what they wait on
	{"notify", notify.TaskEnded},   // its interrupt lines go back to the core
	{"console", console.TaskEnded}, // a console driver detaches
	{"event", event.TaskEnded},     // its subscriptions and queued events
	{"filter", filter.TaskEnded},   // its event filters
	{"content", content.TaskEnded}, // a content write it waits on is cancelled or orphaned
	{"threads", (*task.Task).EndThreads},
	{"device", pcidev.TaskEnded}, // its device stops, then its IOMMU domain and DMA memory go
	{"files", files.TaskEnded},   // its descriptors, pipes, epoll instances and eventfds
	{"task", (*task.Task).Free},  // its address space and its thread reservation
}

// finishEnded tears down every task marked ending and queues its end for the supervisor. A
// thread of such a task never runs again: the caller schedules away from it.
//
//go:nosplit
func finishEnded() {
	for t := task.NextEnding(); t != nil; t = task.NextEnding() {
		for i := range teardown {
			teardown[i].end(t)
		}
		t.Finished()
	}
}
