package kernel

// The rest of the kernel's API for the core's Go program: statistics, the console driver's
// identity, endpoint filters, lines on the serial port. Goroutine context: interrupts are off
// around every read of kernel state.

import (
	"errors"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/bpfvm"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/filter"
	"github.com/simpleos/simpleos/core/kernel/ipc"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/sys"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// SetEndpointFilter attaches a program that policy/bpf has verified for the IPC-call hook to
// every endpoint registered under name. Call it before the tasks start.
func SetEndpointFilter(name string, raw []byte, maps []bpfvm.MapInfo) error {
	n, ok := abi.MakeName(name)
	if !ok {
		return errors.New("kernel: " + abi.CheckName(name).Error())
	}
	interruptsOff()
	defer interruptsOn()
	_, err := filter.Install(task.Core, true, n, raw, maps)
	return err
}

// EndpointServer returns the pid of the task serving the endpoint name (0 if none).
func EndpointServer(name string) int {
	n, ok := abi.MakeName(name)
	if !ok {
		return 0
	}
	interruptsOff()
	defer interruptsOn()
	if slot, ok := ipc.Server(&n); ok {
		return int(task.Get(slot).PID())
	}
	return 0
}

// ConsoleAttached reports whether a console driver is attached now.
func ConsoleAttached() bool {
	interruptsOff()
	defer interruptsOn()
	_, ok := console.Driver()
	return ok
}

// ConsoleDriver returns the pid of the attached console driver (0 if none).
func ConsoleDriver() int {
	interruptsOff()
	defer interruptsOn()
	if slot, ok := console.Driver(); ok {
		return int(task.Get(slot).PID())
	}
	return 0
}

// ConsoleLine writes one line straight to the serial port, on its own line, whatever the
// console driver is doing: for lines that must arrive whole even while the driver is down or
// flooded. It may land between two chunks of the driver's output, so it starts with a newline.
func ConsoleLine(s string) {
	interruptsOff()
	defer interruptsOn()
	arch.Putc('\n')
	arch.Puts(s)
	arch.Putc('\n')
}

// ThreadCount returns the number of live threads, idle excluded.
func ThreadCount() int {
	interruptsOff()
	defer interruptsOn()
	return sched.Count()
}

// SyscallCount returns the number of system calls served since boot.
func SyscallCount() uint64 { return sys.Count() }

// Frames returns the physical frame counters.
func Frames() mm.FrameStats { return mm.Frames() }

// FramesOutsideCore returns the frames in use other than those serving the core's own Go
// runtime (its memory, the page tables of its half, its threads' kernel stacks): the kernel's
// fixed structures plus everything tasks hold. Once every task has ended it must come back to
// its value before the first one started.
func FramesOutsideCore() uint64 {
	interruptsOff()
	defer interruptsOn()
	sched.ReapZombies()
	f := mm.Frames()
	return f.Total - f.Free - mm.Space(mm.CoreSpace).Resident() - mm.CoreTablePages - sched.KernelStacksOf(task.Core)
}

// SchedStats reports scheduler counters.
type SchedStats struct {
	Ticks, ContextSwitches uint64
	TickNs                 int64
	TimeSlice              int32
}

// Sched returns the scheduler counters.
func Sched() SchedStats {
	c := sched.Counters()
	return SchedStats{Ticks: c.Ticks, ContextSwitches: c.ContextSwitches, TickNs: arch.TickNs(), TimeSlice: c.TimeSlice}
}

// IPCStats reports the number of calls and how many took the fast paths.
func IPCStats() (calls, fastCalls, fastReplies uint64) { return ipc.Stats() }

// FilterStats reports how many filter runs there were and how many instructions they took.
func FilterStats() (runs, insns uint64) { return filter.Stats() }
