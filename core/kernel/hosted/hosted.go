// Package hosted runs the kernel's logic in a host test binary, as Hubris's tests run theirs
// on a fake architecture: physical memory is a byte slice (package mm), each kernel thread is
// a goroutine that holds the one CPU while it runs (package sched), and a system call goes in
// through the kernel's own trap path (kernel.HostTrap) — the real table, dispatcher, waits,
// IPC fast path, teardown hooks and end reasons. What is left out is the machine: no page
// table is ever loaded (a task's memory is reached through the direct map, as the kernel
// reaches it anyway), no instruction of a task runs (its code is the Go function a test gives
// its thread), no interrupt arrives, and the clock stands still until the idle thread (the
// test's goroutine, in Run) jumps it to the next deadline.
//
// A test starts a fresh kernel (Start), admits tasks with their policy grants (NewTask, the
// kernel's own admission without an image), gives them threads (Task.Thread) whose code makes
// system calls (Thread.Syscall) on memory the test maps into the task (Task.Map, Write, Read),
// and runs the machine until nothing more can happen (Run). Thread code must not call
// t.FailNow (require.*): it runs on its own goroutine. Use assert, or record and check after
// Run. Package tests of ipc, files and the kernel's teardown use it.
package hosted

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// ram is the machine's physical memory; page tables hold frame numbers into it, which the
// collector does not see, so it lives for the whole test binary.
var ram = make([]byte, 256<<20)

// Start boots a fresh kernel: the tasks of the previous Start are torn down (as the
// supervisor kills them), the ends they queued are dropped, and memory, the thread table and
// the task table start afresh. The calling goroutine is the idle thread from now on.
func Start() {
	for i := 1; i < task.Max; i++ {
		if t := task.Get(i); t.Live() {
			kernel.KillTask(int(t.PID()))
		}
	}
	for _, ok := task.NextEnd(); ok; _, ok = task.NextEnd() {
	}
	arch.UseHost()
	mm.UseHostMemory(ram)
	sched.UseHostThreads()
	task.InitCore()
}

// Task is a task on the host machine.
type Task struct {
	*task.Task
	next uintptr // where Map puts the next region
}

// NewTask admits a task as the kernel admits a module (its slot, memory reservation, grants,
// every service's state), with no image: its threads run the code a test gives them.
func NewTask(spec kernel.TaskSpec) (*Task, error) {
	t, err := kernel.HostTask(spec)
	if err != nil {
		return nil, err
	}
	return &Task{Task: t, next: 0x1000_0000}, nil
}

// Thread is one thread of a task on the host.
type Thread struct {
	Slot int
	Task *Task
}

// Thread gives the task a thread running code, runnable at once; nil if the task may not have
// another. When code returns, the thread exits (the exit system call): the task ends with
// its last thread, as a process does.
func (t *Task) Thread(code func(th *Thread)) *Thread {
	if !t.Live() {
		panic("hosted: a thread for a task that has ended")
	}
	i := t.StartThread(0x40_0000, 0x7fff_0000)
	if i == 0 {
		return nil
	}
	th := &Thread{Slot: i, Task: t}
	sched.HostThread(i, func() {
		code(th)
		th.Syscall(abi.SysExit, 0)
	})
	return th
}

// Syscall makes system call nr with args from the thread, which must be the running one (call
// it from the thread's code), and returns RAX: the result or -errno.
func (th *Thread) Syscall(nr uint64, args ...uint64) int64 {
	if sched.Current() != th.Slot {
		panic(fmt.Sprintf("hosted: thread %d makes a system call while thread %d runs", th.Slot, sched.Current()))
	}
	var a [6]uint64
	copy(a[:], args)
	tf := sched.Frame(th.Slot)
	tf.Vector, tf.RAX = arch.VectorSyscall, nr
	tf.RDI, tf.RSI, tf.RDX, tf.R10, tf.R8, tf.R9 = a[0], a[1], a[2], a[3], a[4], a[5]
	kernel.HostTrap(tf)
	return int64(tf.RAX)
}

// Frame is the thread's registers as its next system call sees them and its last one left
// them: a test sets the ones Syscall does not (RBX, R12-R15) and reads what a call returned
// in registers.
func (th *Thread) Frame() *arch.TrapFrame { return sched.Frame(th.Slot) }

// TID is the thread's id.
func (th *Thread) TID() int32 { return sched.T(th.Slot).TID() }

// Run runs the machine on the calling goroutine, the idle thread, until nothing more can
// happen: every thread has ended or waits with no deadline.
func Run() { sched.HostIdle() }

// Map gives the task n bytes (whole pages) of demand-zero read-write memory and returns
// their address.
func (t *Task) Map(n int) uintptr {
	va := t.next
	size := (uintptr(n) + mm.PageSize - 1) &^ (mm.PageSize - 1)
	if !t.Space().AddRegion(va, va+size, mm.ProtRead|mm.ProtWrite, mm.KindAnon) {
		panic("hosted: Map: no room for another region")
	}
	t.next += size + mm.PageSize // an unmapped page between regions
	return va
}

// Write copies b into the task's memory at va, as the task would store it.
func (t *Task) Write(va uintptr, b []byte) {
	if len(b) > 0 && !t.Space().CopyOut(va, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b))) {
		panic(fmt.Sprintf("hosted: Write: %#x+%d is not the task's writable memory", va, len(b)))
	}
}

// Read returns n bytes of the task's memory at va.
func (t *Task) Read(va uintptr, n int) []byte {
	b := make([]byte, n)
	if n > 0 && !t.Space().CopyIn(uintptr(unsafe.Pointer(&b[0])), va, uintptr(n)) {
		panic(fmt.Sprintf("hosted: Read: %#x+%d is not the task's readable memory", va, n))
	}
	return b
}

// String puts s in fresh memory of the task and returns its address and length: a name
// argument.
func (t *Task) String(s string) (uint64, uint64) {
	va := t.Map(len(s) + 1)
	t.Write(va, []byte(s))
	return uint64(va), uint64(len(s))
}

// Ends returns the ends the kernel queued for the supervisor since the last call, in order.
func Ends() []task.End {
	var out []task.End
	for e, ok := task.NextEnd(); ok; e, ok = task.NextEnd() {
		out = append(out, e)
	}
	return out
}

// Output is what the kernel printed since Start (audit lines, warnings).
func Output() string { return arch.HostOutput() }

// Timespec puts a struct timespec of ns nanoseconds in fresh memory of the task and returns
// its address: nanosleep's argument.
func (t *Task) Timespec(ns int64) uintptr {
	va := t.Map(16)
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(ns/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(ns%1e9))
	t.Write(va, b[:])
	return va
}

// Peek is Read for memory that may not be there: ok=false if any of it is not the task's
// readable memory.
func (t *Task) Peek(va uintptr, n int) ([]byte, bool) {
	b := make([]byte, n)
	ok := n == 0 || t.Space().CopyIn(uintptr(unsafe.Pointer(&b[0])), va, uintptr(n))
	return b, ok
}
