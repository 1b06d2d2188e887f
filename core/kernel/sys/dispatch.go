package sys

// The dispatcher: the table's handler for the call's number, then what the handler said
// happens next — the one place a system call switches threads.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/crash"
	"github.com/simpleos/simpleos/core/kernel/ipc"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
	"github.com/simpleos/simpleos/core/kernel/vfs"
)

// trace prints every system call (kernel command line: trace=syscalls).
var trace bool

// SetTrace turns tracing on (at boot).
//
//go:nosplit
func SetTrace(on bool) { trace = on }

// unknownLogged has a bit per number logged once as unsupported (numbers past the table share
// the last bit).
var unknownLogged [(abi.SimpleOSLast + 1 + 63) / 64]uint64

var count uint64

// forward sends a request a handler prepared (task.Forward) — called through a handler value,
// as every handler is: the trap stack (mm.KernelStackSize) has room for the page loans below
// it, which the linker's nosplit check cannot see through a call by value.
var forward task.Handler = vfs.Send

// finishFile finishes a call that waited for the file-system server (task.Rerun if it is not
// one), called by value for the same reason.
var finishFile task.Handler = vfs.Finish

// Dispatch serves the system call in tf, made by the running thread.
//
//go:nosplit
func Dispatch(tf *arch.TrapFrame) {
	if tf.FromKernel() {
		crash.Frame("system call from kernel code", tf)
	}
	count++
	if trace {
		traceCall(tf)
	}
	nr := tf.RAX
	if nr != abi.SysRtSigreturn {
		// A signal return is not a sign of life: the Go runtime's preemption signal reaches
		// a loop that never yields every 10 ms.
		sched.NoteCall()
	}
	if (nr == abi.SysIPCCallRegs || nr == abi.SysIPCReplyRecvRegs) && ipc.Fast(tf) {
		// The fast path answered the call and handed the CPU over; on the machine the thread
		// comes back through Resume, on a host here.
		Resume(tf)
		return
	}
	var h task.Handler
	if nr < uint64(len(Table)) {
		h = Table[nr].Handler
	}
	if h == nil {
		finish(tf, task.Ret(unknown(nr)))
		return
	}
	r := h(task.Call{Slot: sched.Current(), Frame: tf})
	if r.Next != task.Return {
		r = next(h, tf, r)
	}
	finish(tf, r)
}

// Resume finishes the system call in tf of the running thread, which waited in it and whose
// kernel stack the IPC fast path left behind (sched.Handoff): what next and Dispatch do after
// such a wait. The kernel's resume handler calls it.
//
//go:nosplit
func Resume(tf *arch.TrapFrame) {
	h := Table[tf.RAX%uint64(len(Table))].Handler // a call that waited has one
	r := afterWait(h, tf)
	if r.Next != task.Return {
		r = next(h, tf, r)
	}
	finish(tf, r)
}

// next carries out what handler h, serving the call in tf, said happens next — running the call
// again as long as its waits end that way — and returns the call's result.
//
//go:nosplit
func next(h task.Handler, tf *arch.TrapFrame, r task.Result) task.Result {
	for {
		switch r.Next {
		case task.Wait, task.Donate:
			if r.Next == task.Donate {
				sched.Donate(int(r.To))
			} else {
				sched.Schedule()
			}
			r = afterWait(h, tf)
		case task.Forward:
			r = forward(task.Call{Slot: sched.Current(), Frame: tf})
		case task.Yield:
			sched.Yield()
			return task.Ret(r.Ret)
		case task.Gone:
			sched.Schedule() // a zombie never runs again
			arch.Panic("an ended thread was scheduled again", uint64(sched.Cur().TID()))
		default:
			return r
		}
	}
}

// afterWait is what follows a wait in the call in tf, served by handler h: however the wait
// ended — a reply, the deadline, a signal — the thread's sched.Resume decides whether the call
// runs again (an IPC call that gave up must end its loan).
//
//go:nosplit
func afterWait(h task.Handler, tf *arch.TrapFrame) task.Result {
	again, res := sched.Resumed()
	if !again {
		return task.Ret(res)
	}
	c := task.Call{Slot: sched.Current(), Frame: tf, Again: true}
	r := finishFile(c)
	switch r.Next {
	case task.Rerun:
		r = h(c)
	case task.Restart:
		c.Again = false
		r = h(c)
	}
	return r
}

// finish writes the result the caller sees: RAX the result, RCX and R11 what SYSCALL left in
// them (the return address and RFLAGS), as on Linux — never the trampoline's scratch values.
// A handler that set every register (rt_sigreturn) says Keep.
//
//go:nosplit
func finish(tf *arch.TrapFrame, r task.Result) {
	if r.Next == task.Keep {
		return
	}
	tf.RAX = uint64(r.Ret)
	tf.RCX, tf.R11 = tf.RIP, tf.RFLAGS
}

//go:nosplit
func traceCall(tf *arch.TrapFrame) {
	arch.Puts("trace: tid ")
	arch.PutDec(uint64(sched.Cur().TID()))
	arch.Puts(" syscall ")
	arch.PutDec(tf.RAX)
	arch.Puts(" ")
	arch.PutHex(tf.RDI)
	arch.Puts(" ")
	arch.PutHex(tf.RSI)
	arch.Puts(" ")
	arch.PutHex(tf.RDX)
	arch.Putc('\n')
}

// unknown returns -ENOSYS and logs the number once.
//
//go:nosplit
func unknown(nr uint64) int64 {
	i := nr
	if i >= uint64(len(unknownLogged)*64) {
		i = uint64(len(unknownLogged)*64) - 1
	}
	w := &unknownLogged[(i/64)%uint64(len(unknownLogged))]
	if *w&(1<<(i%64)) == 0 {
		*w |= 1 << (i % 64)
		arch.Puts("kernel: unsupported system call ")
		arch.PutDec(nr)
		arch.Puts(" from tid ")
		arch.PutDec(uint64(sched.Cur().TID()))
		arch.Puts(": ENOSYS\n")
	}
	return -abi.ENOSYS
}

// Count returns the number of system calls served since boot.
func Count() uint64 { return count }
