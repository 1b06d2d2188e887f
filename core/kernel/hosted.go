package kernel

// The kernel in a host's test binary (package core/kernel/hosted drives it): tasks without an
// image, whose threads are goroutines, and the trap path a system call takes. Goroutine
// context.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/task"
	"github.com/simpleos/simpleos/core/x86"
)

// interruptsOff and interruptsOn bracket the goroutine-context API's changes to kernel state,
// which the trap handlers share. A host has no interrupts to turn off.
func interruptsOff() {
	if !arch.Hosted() {
		x86.Cli()
	}
}

func interruptsOn() {
	if !arch.Hosted() {
		x86.Sti()
	}
}

// HostTask admits the task of spec as StartTask does — slot, reservations, address space,
// grants, every service's state — but loads no image and starts no thread: a host test gives
// it threads. Host tests only.
func HostTask(spec TaskSpec) (*task.Task, error) {
	if !arch.Hosted() {
		panic("kernel.HostTask on the machine")
	}
	return admit(&spec)
}

// HostTrap takes the trap in tf as the machine would (a system call, typically), the way back
// to the task included: signals delivered, ended tasks torn down. Host tests only.
func HostTrap(tf *arch.TrapFrame) {
	if !arch.Hosted() {
		panic("kernel.HostTrap on the machine")
	}
	handleTrap(tf)
}
