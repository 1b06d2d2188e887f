package kernel

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

// Notifications: 64 bits per task that the core sets and the task waits on — asynchronous
// signals for interrupts and events. A device interrupt granted to a task (by its policy
// module's irqs) sets bit irq; the console buffer sets bit abi.NotifyConsole when there is output
// for the console driver.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const maxIRQs = 24

// irqOwner[i] is 1 + the process that receives IRQ i, 0 if the core keeps it.
var irqOwner [maxIRQs]int32

// irqCount counts interrupts delivered to tasks.
var irqCount [maxIRQs]uint64

// notify sets bit in process p's notification word and wakes a thread waiting on it.
//
//go:nosplit
func notify(p int, bit uint) {
	pr := &procs[p&(maxProcs-1)]
	if !pr.live {
		return
	}
	if pr.notifyBits&(1<<(bit&63)) != 0 {
		return // already pending: no thread can be blocked waiting for it
	}
	pr.notifyBits |= 1 << (bit & 63)
	for i := 1; i < maxThreads; i++ {
		t := &threads[i]
		if int(t.proc) == p && t.state == threadBlocked && t.waitOn == waitNotify && pr.notifyBits&uint64(t.waitAddr) != 0 {
			wake(i, 0)
			return
		}
	}
}

// deviceInterrupt runs for I/O APIC vectors: it notifies the task that owns the line.
//
//go:nosplit
func deviceInterrupt(v uint64) bool {
	irq := int(v) - arch.VectorIRQBase
	if irq < 0 || irq >= maxIRQs || irqOwner[irq] == 0 {
		return false
	}
	irqCount[irq]++
	notify(int(irqOwner[irq]-1), uint(irq))
	return true
}

// sysNotifyWait(mask, timeout ns) waits until one of the mask's bits is set and returns (and
// clears) the set bits of the mask.
//
//go:nosplit
func sysNotifyWait(tf *arch.TrapFrame) int64 { return sysNotifyWaitFor(tf.RDI, tf.RSI) }

//go:nosplit
func sysNotifyWaitFor(mask, timeout uint64) int64 {
	if mask == 0 {
		return -abi.EINVAL
	}
	p := curProc()
	for p.notifyBits&mask == 0 {
		if timeout == abi.NotifyPoll {
			return 0
		}
		if r := block(waitNotify, uintptr(mask), deadlineOf(timeout)); r != 0 {
			if r == -abi.ETIMEDOUT {
				return 0
			}
			return r
		}
	}
	bits := p.notifyBits & mask
	p.notifyBits &^= bits
	return int64(bits)
}

// irqsReleased gives the lines of an ended process back to the core (masked).
//
//go:nosplit
func irqsReleased(p int) {
	for i := range irqOwner {
		if int(irqOwner[i]) == p+1 {
			irqOwner[i] = 0
			arch.MaskIRQ(i)
		}
	}
}

// IRQCount returns how many times irq was delivered to a task.
func IRQCount(irq int) uint64 {
	if irq < 0 || irq >= maxIRQs {
		return 0
	}
	return irqCount[irq]
}

// ConsoleAttached reports whether a console driver is attached now.
func ConsoleAttached() bool { return con.driver != 0 }

// ConsoleStats reports the bytes console drivers wrote, how many times a driver attached, and
// bytes dropped while none was attached.
func ConsoleStats() (written, attachments, dropped uint64) {
	return con.bytes, con.attachings, con.dropped
}
