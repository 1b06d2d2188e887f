// Package inject is what the core's fault-injection and fuzzing runners (core/inject.go,
// core/fuzz.go) need from the kernel: the reports agents in tasks make (inject_report,
// fuzz_report), a task's memory seen through the direct map, bit flips in a task's image or
// the core's, and the kernel's canary page. It is test machinery: nothing else in the kernel
// depends on it.
//
// The system calls run in trap context (nosplit, no allocation, no heap pointer writes); the
// API in goroutine context, interrupts off around every access to kernel state.
package inject

import (
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/snapshot"
	"github.com/simpleos/simpleos/core/kernel/task"
	"github.com/simpleos/simpleos/core/x86"
)

// reports is what the agents in a task last reported: the outcome of an injected fault, and
// a fuzzer's batch, calls and findings so far (a task reports only on itself).
type reports struct {
	outcome                         uint64
	batch, calls, findings, numFuzz uint64
	armed                           [armMax]byte // a fault the runner armed and its agent has not taken
	armedLen                        int
}

// armMax bounds an armed fault's text (its -inject= argument without the prefix).
const armMax = 128

// armWaiters are the agents waiting in inject_wait; arming a fault wakes them all, and each
// looks at its own task's record again.
var armWaiters sched.Queue

var byTask task.Attached[reports]

// Attach clears t's reports (its start hook).
func Attach(t *task.Task) { *byTask.Of(t) = reports{} }

// SysReport is inject_report(outcome): what a fault injected into the calling task did
// (package inject/fault): abi.InjectHandled or abi.InjectBreach.
//
//go:nosplit
func SysReport(c task.Call) task.Result {
	if o := c.Arg(0); o != abi.InjectHandled && o != abi.InjectBreach {
		return task.Err(abi.EINVAL)
	}
	byTask.Of(c.Task()).outcome = c.Arg(0)
	return task.Ret(0)
}

// SysWait is inject_wait(buf, size, timeout ns): the fault-injection agent of the calling task
// (package inject/fault) waits until the campaign's runner arms a fault in it (Arm), then
// receives the fault as text, "CLASS,DELAYMS,SEED,COREADDR,TASKADDR", and returns its length
// (ETIMEDOUT after timeout; 0 waits forever). A pure wait: an instance restored from a
// snapshot waits again.
//
//go:nosplit
func SysWait(c task.Call) task.Result {
	r := byTask.Of(c.Task())
	if r.armedLen == 0 {
		return task.Waiting(sched.Block(&armWaiters, c.Deadline(c.Arg(2)), -abi.ETIMEDOUT, sched.ResumeRetry))
	}
	n := uintptr(r.armedLen)
	if c.Size(1) < n {
		return task.Err(abi.EINVAL)
	}
	if !c.Space().CopyOut(c.Ptr(0), arch.Addr(&r.armed[0]), n) {
		return task.Err(abi.EFAULT)
	}
	r.armedLen = 0
	return task.Ret(int64(n))
}

// Armable reports whether a thread of task pid waits in inject_wait — its agent can take a
// fault without a restart — and the task has called ready: a fault armed before would be in
// the snapshot the core takes at ready, and every instance restored from it would commit it.
func Armable(pid int) bool {
	x86.Cli()
	defer x86.Sti()
	i := task.ByPID(pid)
	if i < 0 || !snapshot.Ready(task.Get(i)) {
		return false
	}
	for th := sched.Next(int32(i), 0); th != 0; th = sched.Next(int32(i), th) {
		if sched.Waiting(th, &armWaiters) {
			return true
		}
	}
	return false
}

// Arm gives task pid's agent the fault spec (an -inject= argument's value) and wakes it;
// false if pid is gone or the spec is too long. The agent's report is cleared first.
func Arm(pid int, spec string) bool {
	x86.Cli()
	defer x86.Sti()
	i := task.ByPID(pid)
	if i < 0 || len(spec) == 0 || len(spec) > armMax {
		return false
	}
	r := byTask.Of(task.Get(i))
	r.outcome = 0
	r.armedLen = copy(r.armed[:], spec)
	armWaiters.WakeAll()
	return true
}

// SysFuzzReport is fuzz_report(batch, calls, findings): a fuzzer's progress (package
// inject/fuzz); the core's fuzz runner checks its canaries whenever a batch completes.
//
//go:nosplit
func SysFuzzReport(c task.Call) task.Result {
	r := byTask.Of(c.Task())
	r.batch, r.calls, r.findings = c.Arg(0), c.Arg(1), c.Arg(2)
	r.numFuzz++
	return task.Ret(0)
}

// Report returns what the fault-injection agent of task pid reported (0 none, else
// abi.InjectHandled or abi.InjectBreach).
func Report(pid int) uint64 {
	x86.Cli()
	defer x86.Sti()
	if i := task.ByPID(pid); i >= 0 {
		return byTask.Of(task.Get(i)).outcome
	}
	return 0
}

// ClearReport forgets what the fault-injection agent of task pid reported, so that a later
// report can be told from it.
func ClearReport(pid int) {
	x86.Cli()
	defer x86.Sti()
	if i := task.ByPID(pid); i >= 0 {
		byTask.Of(task.Get(i)).outcome = 0
	}
}

// FuzzReport is what a fuzzer task last reported (fuzz_report) and how many reports it made.
type FuzzReport struct{ Batch, Calls, Findings, Reports uint64 }

// FuzzReportOf returns what the fuzzer in task pid last reported (ok=false if it is gone).
func FuzzReportOf(pid int) (FuzzReport, bool) {
	x86.Cli()
	defer x86.Sti()
	i := task.ByPID(pid)
	if i < 0 {
		return FuzzReport{}, false
	}
	r := byTask.Of(task.Get(i))
	return FuzzReport{r.batch, r.calls, r.findings, r.numFuzz}, true
}

// TaskAddress returns the core's (direct-map) address of task pid's byte at va, faulting the
// page in if it is demand-paged; ok=false if the task has no such readable byte.
func TaskAddress(pid int, va uint64) (uintptr, bool) {
	x86.Cli()
	defer x86.Sti()
	i := task.ByPID(pid)
	if i < 0 {
		return 0, false
	}
	return mm.Space(i).UserPage(uintptr(va), false)
}

// FlipTaskBit flips bit (0-7) of task pid's byte at va, through the direct map: the task's own
// protection (read-only code) does not stop it, as it does not stop a hardware bit flip.
func FlipTaskBit(pid int, va uint64, bit uint) bool {
	x86.Cli()
	defer x86.Sti()
	i := task.ByPID(pid)
	if i < 0 {
		return false
	}
	k, ok := mm.Space(i).PrivatePage(uintptr(va)) // never a snapshot's frame: other instances map it
	if !ok {
		return false
	}
	arch.Store8(k, arch.Load8(k)^1<<(bit&7))
	return true
}

// TaskWord reads the aligned 64-bit word of task pid at va (ok=false if it has none).
func TaskWord(pid int, va uint64) (uint64, bool) {
	x86.Cli()
	defer x86.Sti()
	i := task.ByPID(pid)
	if i < 0 || va&7 != 0 {
		return 0, false
	}
	k, ok := mm.Space(i).UserPage(uintptr(va), false)
	if !ok {
		return 0, false
	}
	return arch.Load64(k), true
}

// DirectMapAddress is where the core sees physical address pa.
func DirectMapAddress(pa uint64) uintptr { return mm.DirectMap(pa) }

// FlipCoreBit flips bit (0-7) of the core image's byte at va, through the direct map (the
// image is identity-mapped; its code is read-only only through its own mapping).
func FlipCoreBit(va uint64, bit uint) {
	k := mm.DirectMap(va)
	arch.Store8(k, arch.Load8(k)^1<<(bit&7))
}

// canary is a page of the kernel's own data that no task may ever change; the fuzz runner
// fills it at the start and checks it after every batch.
var canary [mm.PageSize]byte

// FillCanary writes the pattern derived from seed into the kernel's canary page.
func FillCanary(seed uint64) {
	x86.Cli()
	defer x86.Sti()
	for i := range canary {
		canary[i] = canaryByte(seed, i)
	}
}

// CanaryIntact reports whether the kernel's canary page still holds seed's pattern, and the
// offset of the first byte that changed.
func CanaryIntact(seed uint64) (bool, int) {
	x86.Cli()
	defer x86.Sti()
	for i := range canary {
		if canary[i] != canaryByte(seed, i) {
			return false, i
		}
	}
	return true, -1
}

func canaryByte(seed uint64, i int) byte {
	x := seed + uint64(i)*0x9e37_79b9_7f4a_7c15
	x ^= x >> 29
	return byte(x * 0xbf58_476d_1ce4_e5b9 >> 56)
}

// CanaryAddress is the kernel canary's physical address (its image is identity-mapped): what
// a wild write through the direct map would aim at.
func CanaryAddress() uint64 { return uint64(uintptr(unsafe.Pointer(&canary[0]))) }
