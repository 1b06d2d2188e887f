// Package notify is the kernel's notifications: 64 bits per task that the kernel sets and the
// task waits on (notify_wait) — asynchronous signals for interrupts and events. A device
// interrupt granted to a task (its policy module's irqs) sets bit irq; a delivered event sets
// abi.NotifyEvent, output for the console driver abi.NotifyConsole.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (Route runs in
// goroutine context with interrupts off).
package notify

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// word is a task's notification bits and the threads waiting on them.
type word struct {
	bits    uint64
	waiters sched.Queue
}

var words task.Attached[word]

// owner[i] is 1 + the slot of the task that receives IRQ i, 0 if the core keeps it.
var owner [task.MaxIRQs]int32

// delivered counts interrupts delivered to tasks, per line.
var delivered [task.MaxIRQs]uint64

// Signal sets bit in t's notification word and wakes its waiting threads (each re-checks its
// own mask).
//
//go:nosplit
func Signal(t *task.Task, bit uint) {
	if !t.Live() {
		return
	}
	w := words.Of(t)
	if w.bits&(1<<(bit&63)) != 0 {
		return // already pending: no thread can be waiting for it
	}
	w.bits |= 1 << (bit & 63)
	w.waiters.WakeAll()
}

// Interrupt runs for I/O APIC vectors: it notifies the task that owns the line, if any.
//
//go:nosplit
func Interrupt(v uint64) bool {
	irq := int(v) - arch.VectorIRQBase
	if irq < 0 || irq >= task.MaxIRQs || owner[irq] == 0 {
		return false
	}
	delivered[irq]++
	Signal(task.Get(owner[irq]-1), uint(irq))
	return true
}

// Take returns and clears the set bits of mask in t's word.
//
//go:nosplit
func Take(t *task.Task, mask uint64) uint64 {
	w := words.Of(t)
	bits := w.bits & mask
	w.bits &^= bits
	return bits
}

// Block puts the calling thread to wait for t's next notification (its call runs again when
// one comes) or deadline (then the call returns timeout).
//
//go:nosplit
func Block(t *task.Task, deadline, timeout int64) bool {
	return sched.Block(&words.Of(t).waiters, deadline, timeout, sched.ResumeRetry)
}

// SysWait is notify_wait(mask, timeout ns; abi.NotifyPoll: do not wait): it returns (and
// clears) the set bits of mask, 0 at the deadline, or waits.
//
//go:nosplit
func SysWait(c task.Call) task.Result {
	mask, timeout := c.Arg(0), c.Arg(1)
	if mask == 0 {
		return task.Err(abi.EINVAL)
	}
	if bits := Take(c.Task(), mask); bits != 0 {
		return task.Ret(int64(bits))
	}
	if timeout == abi.NotifyPoll {
		return task.Ret(0)
	}
	return task.Waiting(Block(c.Task(), c.Deadline(timeout), 0))
}

// Route delivers the task's granted IRQ lines to it (its start hook).
func Route(t *task.Task) {
	*words.Of(t) = word{}
	for irq := 0; irq < task.IOAPICLines; irq++ {
		if t.Grants.IRQs&(1<<irq) != 0 {
			owner[irq] = t.Slot() + 1
			arch.EnableIRQ(irq)
		}
	}
}

// RouteMSI delivers message-signalled line irq (task.IOAPICLines and above: no I/O APIC
// input) to t: package pcidev programmed its device to raise it.
func RouteMSI(t *task.Task, irq int) {
	if irq >= task.IOAPICLines && irq < task.MaxIRQs {
		owner[irq] = t.Slot() + 1
	}
}

// FreeMSILine returns a message-signalled line no task owns, or -1.
func FreeMSILine() int {
	for irq := task.IOAPICLines; irq < task.MaxIRQs; irq++ {
		if owner[irq] == 0 {
			return irq
		}
	}
	return -1
}

// TaskEnded gives the lines of an ended task back to the core (masked) and drops its bits.
//
//go:nosplit
func TaskEnded(t *task.Task) {
	for i := range owner {
		if owner[i] == t.Slot()+1 {
			owner[i] = 0
			if i < task.IOAPICLines {
				arch.MaskIRQ(i)
			}
		}
	}
	words.Of(t).bits = 0
}

// Delivered returns how many times irq was delivered to a task.
func Delivered(irq int) uint64 {
	if irq < 0 || irq >= task.MaxIRQs {
		return 0
	}
	return delivered[irq]
}
