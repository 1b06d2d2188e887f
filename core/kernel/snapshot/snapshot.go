// Package snapshot is post-init snapshots of tasks: a module that has initialised (its Go
// runtime started, its endpoints registered, its content loaded) says so with the ready
// system call, and the core freezes it; a restart then restores that state instead of loading
// the program and running its initialisation again.
//
// A snapshot is the task's memory (package mm: its frames become the snapshot's and every
// instance maps them copy-on-write), its threads (registers, FPU state, TLS base, signal mask
// and alternate stack, thread ids), its signal dispositions, and its kernel objects as each
// service records them under the snapshot's slot: descriptors (files: console, epoll,
// eventfd), endpoints (ipc: same slot, new generation), event subscriptions (event), working
// directory (vfs) and whether it drives the console (console). What its policy grants comes
// from its policy, as for any instance; its random generator and pid are new.
//
// A thread that was waiting in a system call when the snapshot was taken resumes by making
// the call again if it is a pure wait (futex, epoll_wait, nanosleep, ipc_recv, notify_wait,
// event_recv, inject_wait: a wait that was in progress returns as a spurious wake-up would, which Go's
// runtime tolerates; a server's ipc_replyrecv becomes ipc_recv, its caller being gone), and
// with EINTR otherwise; the thread that called ready sees it return ReadyRestored. A thread
// preempted in its own code resumes where it was.
//
// A task is snapshotted only when nothing it holds belongs to someone else's state: no pipe,
// open file, device, device memory or grant in force, at most maxThreads threads and
// ipc.maxSavedEndpoints endpoints. Otherwise ready says why on the console and the task runs
// on; its restarts are cold.
//
// SysReady runs in trap context: nosplit, no allocation, no heap pointer writes. Restore runs
// in goroutine context with interrupts off (the task API), under the same rules.
package snapshot

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/event"
	"github.com/simpleos/simpleos/core/kernel/files"
	"github.com/simpleos/simpleos/core/kernel/ipc"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
	"github.com/simpleos/simpleos/core/kernel/vfs"
)

// maxThreads bounds the threads a snapshot records: a Go runtime has four to eight when it
// has initialised.
const maxThreads = 16

type savedThread struct {
	frame          arch.TrapFrame
	fsBase         uint64
	clearTID       uintptr
	mask           uint64
	altSP, altSize uintptr
	tid            int32
	ipcBuffer      uintptr // its IPC buffer, registered again in the restored thread
}

type record struct {
	used     bool
	id       mm.SnapID
	name     abi.Name
	key      uint64 // what the supervisor says the instance was made of (binary, policy, content)
	threads  [maxThreads]savedThread
	n        int
	actions  [65]task.SigAction
	driver   bool // it was the console driver
	takenNs  int64
	ageNs    int64 // how long the instance had run when it was taken
	restores uint64
}

var records [mm.MaxSnapshots]record

// want is what a task's start asked of ready.
type want struct {
	snapshot bool   // take a snapshot when it is ready
	key      uint64 // its record's key
	restored bool   // it was restored from one
	answered bool   // ready has been answered (a snapshot is taken once)
}

var wants task.Attached[want]

// Want sets what ready does for t, just admitted: take a snapshot under key, or not (its
// start hook; interrupts off).
//
//go:nosplit
func Want(t *task.Task, snapshot bool, key uint64) {
	*wants.Of(t) = want{snapshot: snapshot, key: key}
}

// Ready reports whether t has called ready (or was restored from a snapshot, taken when its
// first instance did): it has initialised, and nothing done to it from now on can end up in
// its module's snapshot. A fault campaign arms faults only in such an instance.
//
//go:nosplit
func Ready(t *task.Task) bool { return wants.Of(t).answered }

// SysReady is ready(): the caller has initialised. It returns abi.ReadySnapshot if the core
// took its snapshot now, abi.ReadyCold if it did not (not asked for, asked before, or refused:
// the console says why), and, in a restored instance, abi.ReadyRestored.
//
//go:nosplit
func SysReady(c task.Call) task.Result {
	t := c.Task()
	w := wants.Of(t)
	switch {
	case w.restored:
		return task.Ret(abi.ReadyRestored)
	case !w.snapshot || w.answered || t.IsCore():
		w.answered = true
		return task.Ret(abi.ReadyCold)
	}
	w.answered = true
	if why := take(c, t, w.key); why != "" {
		console.LineStart()
		console.Puts("snapshot: ")
		console.Puts(t.Name())
		console.Puts(": not taken: ")
		console.Puts(why)
		console.Puts("; its restarts are cold\n")
		return task.Ret(abi.ReadyCold)
	}
	return task.Ret(abi.ReadySnapshot)
}

// take snapshots t, whose thread c.Slot called ready. It returns "" or why it cannot.
//
//go:nosplit
func take(c task.Call, t *task.Task, key uint64) string {
	k := -1
	for i := range records {
		if !records[i].used && mm.SnapshotSlotFree(i) {
			k = i
			break
		}
	}
	if k < 0 {
		return "every snapshot slot is taken"
	}
	if sched.LiveOf(t.Slot()) > maxThreads {
		return "too many threads"
	}
	if why := files.Save(t, k); why != "" {
		return why
	}
	if !ipc.Save(t, k) {
		return "it serves too many endpoints"
	}
	as := t.Space()
	id, why := mm.TakeSnapshot(as, k, as.Mem().Limit())
	switch why {
	case mm.SnapOK:
	case mm.SnapNoMemory:
		return "no memory for it within the task's quota"
	case mm.SnapLent:
		return "some of its pages are lent to a server"
	case mm.SnapRegions:
		return "it has device memory, DMA memory or a grant mapped"
	default:
		return "it maps memory that is not its own"
	}
	event.Save(t, k)
	vfs.Save(t, k)
	r := &records[k&(mm.MaxSnapshots-1)]
	r.used, r.id, r.key, r.n, r.restores = true, id, key, 0, 0
	r.name = *t.NameBytes()
	r.actions = t.Actions
	r.driver = console.IsDriver(t)
	r.takenNs = arch.Nanotime()
	r.ageNs = r.takenNs - t.StartNs
	for i := sched.Next(t.Slot(), 0); i != 0; i = sched.Next(t.Slot(), i) {
		saveThread(&r.threads[r.n&(maxThreads-1)], i, i == c.Slot)
		r.n++
	}
	console.LineStart()
	console.Puts("snapshot: ")
	console.Puts(t.Name())
	console.Puts(": taken: ")
	console.PutDec(id.Pages())
	console.Puts(" pages, ")
	console.PutDec(uint64(r.n))
	console.Puts(" threads\n")
	return ""
}

// saveThread records thread i as an instance restored from the snapshot must resume it.
//
//go:nosplit
func saveThread(s *savedThread, i int, caller bool) {
	th := sched.T(i)
	s.frame = *sched.Frame(i)
	s.fsBase, s.clearTID, s.tid = th.FSBase, th.ClearTID, th.TID()
	s.mask, s.altSP, s.altSize = th.Sig.Mask, th.Sig.AltSP, th.Sig.AltSize
	s.ipcBuffer = ipc.BufferOf(i)
	tf := &s.frame
	switch {
	case caller:
		returnFromCall(tf, abi.ReadyRestored)
	case !sched.InKernel(i):
		// Preempted in its own code: it resumes there.
	case tf.RAX == abi.SysIPCReplyRecv:
		tf.RAX = abi.SysIPCRecv // its caller is gone: it waits for the next call
		tf.RIP -= syscallBytes
	case tf.RAX == abi.SysIPCReplyRecvRegs:
		tf.RAX = abi.SysIPCRecvRegs // the same on the register path
		tf.RIP -= syscallBytes
	case pureWait(tf.RAX):
		tf.RIP -= syscallBytes // it makes the call again
	default:
		returnFromCall(tf, -abi.EINTR)
	}
}

// syscallBytes is the length of SYSCALL (0f 05), and of INT 0x80: the frame's RIP is the
// address after it.
const syscallBytes = 2

// returnFromCall makes frame tf return from its system call with result r, as the dispatcher
// does (sys.finish).
//
//go:nosplit
func returnFromCall(tf *arch.TrapFrame, r int64) {
	tf.RAX = uint64(r)
	tf.RCX, tf.R11 = tf.RIP, tf.RFLAGS
}

// pureWait reports whether system call nr only waits, so that making it again is what a
// spurious wake-up would do.
//
//go:nosplit
func pureWait(nr uint64) bool {
	switch nr {
	case abi.SysFutex, abi.SysEpollWait, abi.SysEpollPwait, abi.SysNanosleep, abi.SysClockNanosleep,
		abi.SysSchedYield, abi.SysIPCRecv, abi.SysIPCRecvRegs, abi.SysNotifyWait, abi.SysEventRecv, abi.SysInjectWait:
		return true
	}
	return false
}

// Find returns the slot of the snapshot recorded for the module name, and whether it was made
// of key; -1 if there is none.
//
//go:nosplit
func Find(name *abi.Name) (int, uint64) {
	for i := range records {
		if r := &records[i]; r.used && r.name.Equal(name) {
			if r.id.Valid() {
				return i, r.key
			}
		}
	}
	return -1, 0
}

// Drop lets the snapshot in slot k go: it is restored no more, and its frames are freed once
// no instance maps them.
//
//go:nosplit
func Drop(k int) {
	r := &records[k&(mm.MaxSnapshots-1)]
	if r.used {
		mm.DropSnapshot(r.id)
		r.used = false
	}
}

// Stats describes the snapshot in slot k.
type Stats struct {
	Pages, Frames uint64
	Threads       int
	Restores      uint64
	TakenNs       int64
}

// StatsOf returns the snapshot in slot k's figures.
//
//go:nosplit
func StatsOf(k int) Stats {
	r := &records[k&(mm.MaxSnapshots-1)]
	return Stats{Pages: r.id.Pages(), Frames: uint64(r.id.Frames()), Threads: r.n, Restores: r.restores, TakenNs: r.takenNs}
}

// Restore makes t, just admitted (its start hooks run, no thread, an empty space), the
// snapshot in slot k: its memory, kernel objects and threads, which are runnable when the
// caller turns interrupts on. It returns "" or what could not be restored (the caller then
// discards t, whose teardown frees what it got).
//
//go:nosplit
func Restore(t *task.Task, k int) string {
	r := &records[k&(mm.MaxSnapshots-1)]
	t0 := arch.Nanotime()
	if !r.used || !mm.RestoreSnapshot(r.id, t.Space()) {
		return "its memory"
	}
	t1 := arch.Nanotime()
	if !files.Restore(t, k) {
		return "its descriptors"
	}
	if !ipc.Restore(t, k) {
		return "its endpoints (a slot or name was taken meanwhile)"
	}
	event.Restore(t, k)
	vfs.Restore(t, k)
	t.Actions = r.actions
	t.InheritedNs = r.ageNs
	t2 := arch.Nanotime()
	for j := 0; j < r.n; j++ {
		s := &r.threads[j&(maxThreads-1)]
		i, ok := sched.New(t.Slot(), t.Slot(), t.Ring(), &t.Threads)
		if !ok {
			return "its threads"
		}
		*sched.Frame(i) = s.frame
		th := sched.T(i)
		th.FSBase, th.ClearTID = s.fsBase, s.clearTID
		th.Sig.Mask, th.Sig.AltSP, th.Sig.AltSize = s.mask, s.altSP, s.altSize
		sched.SetTID(i, s.tid)
		ipc.SetBuffer(i, s.ipcBuffer) // pinned at its first use, in the restored space
		sched.Start(i)
	}
	if r.driver {
		console.Attach(t)
	}
	w := wants.Of(t)
	w.restored, w.answered = true, true
	r.restores++
	LastCost = Cost{Memory: t1 - t0, Objects: t2 - t1, Threads: arch.Nanotime() - t2}
	return ""
}

// Cost is where a restore's time went, in ns of the kernel clock: the memory (the leaf page
// tables, copied copy-on-write), the kernel objects (descriptors, endpoints, subscriptions,
// working directory) and the threads (a kernel stack and a frame each).
type Cost struct{ Memory, Objects, Threads int64 }

// LastCost is the cost of the last successful Restore.
var LastCost Cost

// Pages fills buf with the pages the snapshot in slot k holds (mm.SnapshotPages); 0 if the slot
// holds none.
//
//go:nosplit
func Pages(k int, buf []mm.PageEntry) int {
	if r := &records[k&(mm.MaxSnapshots-1)]; r.used {
		return mm.SnapshotPages(r.id, buf)
	}
	return 0
}
