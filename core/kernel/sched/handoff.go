package sched

// The handoff: the thread switch of the IPC fast path (package ipc, fastpath.go), seL4's
// "direct switch". The running thread has just been put to wait (Park), and its system call
// needs nothing of its kernel stack but its TrapFrame: so the stack is left behind rather than
// saved (arch.LeaveTo). When the thread runs again — handed the CPU by another fast path, or
// woken the ordinary way (a reply on the general path, its deadline, a signal, its server's
// death) — its call is finished from its frame alone: by the fast path that hands it the CPU,
// or by the dispatcher's resume handler (arch.SetResumeHandler), which does what the
// dispatcher would have done after the wait. The thread handed the CPU may be either kind: one
// left behind this way, whose frame the handoff finishes so that the CPU returns straight to
// its code, or one waiting inside the dispatcher, which resumes there.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// Handoff gives the CPU to thread to, which waits on a queue (or for its deadline) in a system
// call the running thread's call has just answered: to's call returns 0, with whatever
// registers the answer wrote into its frame. The running thread, a task's, has been put to
// wait (Park) and is left as described above; to inherits the rest of its time slice, as in
// Donate. Both must be task threads (ring 1-3), so the FS base stays the kernel's. now is
// arch.Nanotime(), which the caller has read anyway. On the machine it never returns; on a
// host it returns when the running thread runs again, and the caller finishes its call as the
// resume handler would.
//
//go:nosplit
func Handoff(to int, now int64) {
	prev := current
	p, n := T(prev), T(to)
	dequeue(to)
	timerRemove(to)
	n.state, n.again, n.wakeResult = Runnable, false, 0
	left := p.sliceLeft
	if left <= 0 {
		left = 1
	}
	p.cpuNs += now - runStart
	runStart = now
	n.sliceLeft, n.ran = left, true
	contextSwitches++
	current = to
	if hosted {
		if hostThreads {
			hostSwitch(prev, to)
		}
		return
	}
	arch.SetKernelStack(n.kstackTop)
	as := mm.Space(n.space)
	arch.SetReturn(n.FSBase, as.CR3Word(), as.EntryStackAlias())
	direct := n.resumable && !pendingFor(n)
	n.resumable, p.resumable = false, true
	ptf := p.kstackTop - arch.TrapFrameSize
	if direct {
		tf := Frame(to)
		if arch.Canonical(tf.RSP) && arch.Canonical(tf.RIP) { // else the dispatcher's way back raises SIGSEGV
			tf.RAX = 0 // the call's result, as the dispatcher's finish writes it
			tf.RCX, tf.R11 = tf.RIP, tf.RFLAGS
			arch.LeaveToFrame(&p.savedSP, ptf, arch.Addr(tf))
		}
	}
	arch.LeaveTo(&p.savedSP, ptf, n.savedSP)
}

// pendingFor reports whether thread t has a signal to be delivered on its way back: only
// the dispatcher's way back delivers it.
//
//go:nosplit
func pendingFor(t *Thread) bool {
	return t.Sig.Fault.Sig != 0 || t.Sig.Pending&^t.Sig.Mask != 0
}
