// Package ipc is synchronous message passing between tasks through endpoints, in the manner
// of seL4.
//
// A server registers an endpoint under a name; clients look the name up and call it. A call
// carries a message (abi.Message: a label and four inline words, and optionally a page grant)
// and blocks the caller until the server replies. The receiver learns the caller's identity
// from the badge the kernel writes into the message (the caller's pid), which no task can
// forge. Calls, receives and replies take a timeout. When the server's task ends, every call
// waiting on its endpoints fails at once with ECONNRESET (ipc.ErrPeerDied); a restarted
// server registers the name again, and the name then resolves to its new endpoint (handles
// carry a generation, so stale ones fail too). The policy decides who may serve and call
// which name, on every call (handles can be guessed), and an eBPF filter may screen the calls
// to an endpoint (package filter).
//
// An endpoint owns its wait queues, as seL4's do: callers whose message no server has taken,
// server threads waiting for a call, and callers waiting for their reply. Nothing scans the
// thread table. A caller may lend up to abi.MaxGrantPages pages of its own memory to the
// server for the call: package mm's loans, read-only in the server's grant window (one per
// server thread slot), ended the moment the call ends in any way — the server replies, the
// caller gives up (timeout, signal), the lender unmaps the pages or either task dies.
//
// The fast path (fast.go) hands a call straight to a waiting server thread and a reply
// straight back to the waiting caller, switching threads directly.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.
package ipc

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/filter"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const maxEndpoints = 64

// grantSlotBytes is one grant window: room for the most pages a call lends, and an unmapped
// page before the next window.
const grantSlotBytes = (abi.MaxGrantPages + 1) * mm.PageSize

type endpoint struct {
	used   bool
	filter filter.ID
	owner  int32 // task slot
	gen    uint32
	ownGen uint32 // restored from a snapshot: the generation its owner's memory holds (snapshot.go)
	name   abi.Name
	// callers has a bit per task slot the policy was found to let call name, so that the check
	// on every call is one test after the first (allowed); cleared when the endpoint is
	// registered or restored and, for a task, when it ends.
	callers   [(task.Max + 63) / 64]uint64
	senders   sched.Queue // callers whose message no server has taken yet, oldest first
	receivers sched.Queue // server threads waiting for a call
	replies   sched.Queue // callers whose call a server took, waiting for its reply
}

var endpoints [maxEndpoints]endpoint

// call is a thread's part in IPC: the message it sends or receives, and whom it owes a reply
// or waits on.
type call struct {
	msg     abi.Message // the message being sent, in the kernel
	buf     uintptr     // caller: where the reply goes; server: where the next call goes
	regs    bool        // ... or into the thread's registers, not memory (regs.go)
	ep      int32       // the endpoint it calls or serves
	replyTo int32       // server: slot of the caller it owes a reply, -1 if none
	callerT int32       // server: that caller's tid, to detect a slot reused meanwhile
	server  int32       // caller: slot of the server thread handling its call, 0 if none
	serverT int32       // caller: that server's tid
	loan    mm.Loan     // server: the pages its caller lent it for the call
	// caller: keep says the call outlives a wait that ends once a server has taken it
	// (abi.IPCKeep); kept, that it did: the thread no longer waits, the server still owes the
	// reply, which goes to msg (replied) until the thread collects it (SysAwaitRegs). keptBy
	// is that thread's serial: the slot's next thread has no kept call, whatever kept says.
	keep, kept, replied bool
	keptBy              uint64
	replyR              int64 // what the kept call returns once collected (0, or EFAULT)
	// caller: a call the core makes on the thread's behalf (kernel.go): the reply goes to msg,
	// and extraLen bytes at kernel address extra follow the message in the server's buffer.
	kernel          bool
	extra, extraLen uintptr
}

var calls sched.PerThread[call]

// Counters, for statistics and benchmarks.
var stats struct {
	calls, fastCalls, fastReplies uint64
	handoffs                      uint64 // calls and replies the fastpath answered (fastpath.go)
}

// fastPath can be turned off (kernel command line ipcfast=off) to measure the slow path.
var fastPath = true

// SetFastPath turns the fast path on or off (at boot).
//
//go:nosplit
func SetFastPath(on bool) { fastPath = on }

//go:nosplit
func ep(i int) *endpoint { return &endpoints[i&(maxEndpoints-1)] }

//go:nosplit
func handleOf(i int) int64 { return int64(ep(i).gen)<<16 | int64(i) }

// endpointOf resolves a handle; -1 if it is stale or bad.
//
//go:nosplit
func endpointOf(h uint64) int {
	i := int(h & 0xffff)
	if i >= maxEndpoints || !endpoints[i].used || uint64(endpoints[i].gen) != h>>16 {
		return -1
	}
	return i
}

// servedBy resolves a handle the owner of the endpoint uses to serve it: the current
// generation, or the one its memory holds from the snapshot it was restored from. -1 if it
// is stale, bad or another task's.
//
//go:nosplit
func servedBy(h uint64, owner int32) int {
	i := int(h & 0xffff)
	if i >= maxEndpoints {
		return -1
	}
	e := &endpoints[i]
	if g := h >> 16; !e.used || e.owner != owner || g != uint64(e.gen) && (e.ownGen == 0 || g != uint64(e.ownGen)) {
		return -1
	}
	return i
}

// grantWindowOf is where server thread slot s sees the pages lent to it.
//
//go:nosplit
func grantWindowOf(s int) uintptr {
	return mm.GrantWindow + uintptr(s&(sched.MaxThreads-1))*grantSlotBytes
}

// SysRegister is ipc_register(name, len): an endpoint served by the calling task, if its
// policy lets it serve the name.
//
//go:nosplit
func SysRegister(c task.Call) task.Result {
	var name abi.Name
	if !task.ReadName(c.Space(), c.Ptr(0), c.Size(1), &name) {
		return task.Err(abi.EINVAL)
	}
	if !c.Task().IsCore() && !c.Task().Grants.Serves.Has(&name) {
		console.Deny(c.Task(), "register", &name, "serves")
		return task.Err(abi.EPERM)
	}
	free := -1
	for i := range endpoints {
		e := &endpoints[i]
		if e.used && e.name.Equal(&name) {
			return task.Err(abi.EEXIST)
		}
		if !e.used && free < 0 {
			free = i
		}
	}
	if free < 0 {
		return task.Err(abi.ENOMEM)
	}
	e := ep(free)
	e.used, e.owner = true, c.Task().Slot()
	e.gen++
	e.ownGen = 0
	e.name = name
	e.callers = [len(e.callers)]uint64{}
	e.filter = filter.ForEndpoint(&name)
	return task.Ret(handleOf(free))
}

// SysLookup is ipc_lookup(name, len): the handle of the endpoint registered under name, if the
// policy lets the caller call it.
//
//go:nosplit
func SysLookup(c task.Call) task.Result {
	var name abi.Name
	if !task.ReadName(c.Space(), c.Ptr(0), c.Size(1), &name) {
		return task.Err(abi.EINVAL)
	}
	if !c.Task().IsCore() && !c.Task().Grants.Calls.Has(&name) {
		console.Deny(c.Task(), "call", &name, "calls")
		return task.Err(abi.EPERM)
	}
	if i := byName(&name); i >= 0 {
		return task.Ret(handleOf(i))
	}
	return task.Err(abi.ENOENT)
}

// SysCall is ipc_call(handle, msg, timeout ns): it sends the message at msg and waits for the
// reply, which overwrites it; and ipc_call_regs, the same with the message and the reply in
// registers (regs.go). Once the wait has ended without a reply delivered by the fast path, it
// returns the call's result: a reply (0, or EFAULT if it could not be written), the server's
// death, the deadline or a signal. (One handler for both, told apart by the call's number:
// a wrapper's frame would not fit under the loan chain below, which the linker's nosplit
// check counts.)
//
//go:nosplit
func SysCall(c task.Call) task.Result {
	regs := c.Frame.RAX == abi.SysIPCCallRegs
	if c.Again {
		return endWait(c.Slot)
	}
	if calls.Of(c.Slot).kept {
		abandon(c.Slot) // a new call gives up the thread's kept one (or an ended thread's)
	}
	i := endpointOf(c.Arg(0)) // RDI on both paths
	if i < 0 {
		return task.Err(abi.ECONNRESET)
	}
	e := ep(i)
	// Handles can be guessed: the policy is checked on every call, not only at lookup.
	if !mayCall(c.Task(), e) {
		console.Deny(c.Task(), "call", &e.name, "calls")
		return task.Err(abi.EPERM)
	}
	cs := calls.Of(c.Slot)
	buf, timeout, keep := c.Ptr(1), c.Arg(2), false
	if regs {
		loadRegs(&cs.msg, c.Frame)
		buf, timeout, keep = 0, c.Frame.RBX&^abi.IPCKeep, c.Frame.RBX&abi.IPCKeep != 0
	} else if !c.Space().CopyIn(arch.Addr(&cs.msg), buf, abi.MessageSize) {
		return task.Err(abi.EFAULT)
	}
	cs.buf, cs.regs, cs.keep = buf, regs, keep
	if e.owner == c.Task().Slot() {
		return task.Err(abi.EDEADLK) // a task calling itself would wait forever
	}
	if r := checkCall(&cs.msg, c.Task().PID()); r != 0 {
		return task.Ret(r)
	}
	if buffered(&cs.msg) {
		if _, ok := bufferOf(c.Slot); !ok {
			return task.Err(abi.EINVAL) // bytes from an IPC buffer it does not have
		}
	}
	if e.filter != 0 && !screen(c.Task(), i, &cs.msg) {
		return task.Err(abi.EPERM)
	}
	if sched.SignalPending() {
		return task.Err(abi.EINTR)
	}
	cs.ep, cs.server = int32(i), 0
	stats.calls++
	deadline := c.Deadline(timeout)
	s := e.receivers.First()
	if s == 0 {
		return task.Waiting(sched.Block(&e.senders, deadline, -abi.ETIMEDOUT, sched.ResumeAlways))
	}
	if !takeCall(e, s, c.Slot) {
		return task.Err(abi.EFAULT)
	}
	sched.Block(&e.replies, deadline, -abi.ETIMEDOUT, sched.ResumeAlways)
	if fastPath {
		stats.fastCalls++
		return task.DonateTo(s)
	}
	// Slow path (ipcfast=off, for comparison): hand the call over and let the scheduler run.
	sched.WakeWith(s, 0)
	return task.Waiting(true)
}

// mayCall reports whether the policy lets task t call endpoint e, remembering a yes in
// e.callers.
//
//go:nosplit
func mayCall(t *task.Task, e *endpoint) bool {
	slot := uint(t.Slot()) % task.Max
	w, bit := &e.callers[slot/64], uint64(1)<<(slot%64)
	if *w&bit != 0 {
		return true
	}
	if !t.IsCore() && !t.Grants.Calls.Has(&e.name) {
		return false
	}
	*w |= bit
	return true
}

// takeCall moves caller cl's message to server s's buffer (in the server's address space),
// lending it the caller's pages or copying its IPC-buffer bytes, and makes s owe cl a reply;
// the caller now waits for it. On false either the server's receive failed (its buffer: cl
// still waits, on senders) or cl's call did (cl was woken with the error).
//
//go:nosplit
func takeCall(e *endpoint, s, cl int) bool {
	srv, ccs := calls.Of(s), calls.Of(cl)
	switch {
	case buffered(&ccs.msg):
		if !takeBuffer(cl, s) {
			return false
		}
	case ccs.msg.GrantPages != 0 && !lend(s, cl):
		ccs.msg.GrantAddr, ccs.msg.GrantPages = 0, 0
	}
	// The message goes into the server's registers (regs.go), which hold a message and no
	// more, or into its buffer, with the bytes a core-made call carries after it.
	switch {
	case srv.regs && ccs.kernel && ccs.extraLen != 0:
		// No receive in registers can ever take this call: it fails (EIO) rather than stay
		// queued for the server to meet again. (A caller not waiting — KernelCall's own — is
		// failed by KernelCall.)
		endLoan(s)
		sched.WakeWith(cl, -abi.EIO)
		return false
	case srv.regs:
		storeRegs(sched.Frame(s), &ccs.msg)
	case !sched.T(s).Space().CopyOut(srv.buf, arch.Addr(&ccs.msg), abi.MessageSize) || ccs.kernel && !copyExtra(s, ccs):
		endLoan(s)
		return false
	}
	srv.replyTo, srv.callerT = int32(cl), sched.T(cl).TID()
	ccs.server, ccs.serverT = int32(s), sched.T(s).TID()
	sched.Requeue(cl, &e.replies)
	return true
}

// lend lends caller cl's granted pages to server s for the call, in s's grant window
// (read-only, or writable if the caller asked with abi.GrantWrite), and rewrites the
// message's address to the server's view; GrantPages keeps the flag, so the server knows.
//
//go:nosplit
func lend(s, cl int) bool {
	m := &calls.Of(cl).msg
	w := grantWindowOf(s)
	pages, write := uintptr(m.GrantPages&^abi.GrantWrite), m.GrantPages&abi.GrantWrite != 0
	loan, ok := mm.Lend(sched.T(cl).Space(), sched.T(s).Space(), uintptr(m.GrantAddr), pages, w, write)
	if !ok {
		return false
	}
	calls.Of(s).loan = loan
	m.GrantAddr = uint64(w)
	return true
}

// endLoan ends the loan server thread s holds for its call, if any.
//
//go:nosplit
func endLoan(s int) {
	srv := calls.Of(s)
	srv.loan.End()
	srv.loan = 0
}

// abandon ends the call of caller cl, which stopped waiting for its reply (timeout, signal,
// its server died): the server that took it loses the pages it lent, and a late reply finds
// no caller.
//
//go:nosplit
func abandon(cl int) {
	ccs := calls.Of(cl)
	if owed(cl) {
		endLoan(int(ccs.server))
	}
	ccs.server, ccs.kept, ccs.replied = 0, false, false
}

// owed reports whether a live server thread has caller cl's call and owes it the reply.
//
//go:nosplit
func owed(cl int) bool {
	ccs := calls.Of(cl)
	s := int(ccs.server)
	if s == 0 {
		return false
	}
	st, srv := sched.T(s), calls.Of(s)
	return st.TID() == ccs.serverT && st.Live() && srv.replyTo == int32(cl) && srv.callerT == sched.T(cl).TID()
}

// endWait is the result of caller cl's call (or await) once its wait has ended: the reply (0),
// or how the wait ended — which ends the call, unless the call is to be kept and a server has
// it (EINPROGRESS: SysAwaitRegs collects the reply).
//
//go:nosplit
func endWait(cl int) task.Result {
	r := sched.WokenWith()
	if r == 0 {
		return task.Ret(0)
	}
	if ccs := calls.Of(cl); ccs.keep && owed(cl) {
		ccs.kept, ccs.replied, ccs.keptBy = true, false, sched.T(cl).Serial()
		return task.Err(abi.EINPROGRESS)
	}
	abandon(cl)
	return task.Ret(r)
}

// keeps reports whether thread cl, live, has a kept call of its own.
//
//go:nosplit
func keeps(cl int) bool {
	ccs, t := calls.Of(cl), sched.T(cl)
	return ccs.kept && ccs.keptBy == t.Serial() && t.Live()
}

// SysAwaitRegs is ipc_await_regs: the thread waits again for the reply to its kept call (see
// abi.IPCKeep; RBX the timeout, which may keep the call again), which comes back in its
// registers as ipc_call_regs' does. EINVAL if the thread has no kept call; ECONNRESET if the
// server that had it is gone.
//
//go:nosplit
func SysAwaitRegs(c task.Call) task.Result {
	if c.Again {
		return endWait(c.Slot)
	}
	cs := calls.Of(c.Slot)
	if !keeps(c.Slot) {
		cs.kept, cs.replied = false, false // a kept call of an ended thread in this slot, if any
		return task.Err(abi.EINVAL)
	}
	cs.keep = c.Frame.RBX&abi.IPCKeep != 0
	if cs.replied {
		cs.kept, cs.replied = false, false
		storeRegs(c.Frame, &cs.msg)
		return task.Ret(cs.replyR)
	}
	if !owed(c.Slot) {
		abandon(c.Slot)
		return task.Err(abi.ECONNRESET)
	}
	if sched.SignalPending() {
		if cs.keep {
			return task.Err(abi.EINPROGRESS) // still kept
		}
		abandon(c.Slot)
		return task.Err(abi.EINTR)
	}
	cs.kept, cs.buf, cs.regs = false, 0, true
	return task.Waiting(sched.Block(&ep(int(cs.ep)).replies, c.Deadline(c.Frame.RBX&^abi.IPCKeep), -abi.ETIMEDOUT, sched.ResumeAlways))
}

// SysRecv is ipc_recv(handle, msg, timeout ns): it waits for a call on an endpoint the task
// serves.
//
//go:nosplit
func SysRecv(c task.Call) task.Result {
	i := servedBy(c.Arg(0), c.Task().Slot())
	if i < 0 {
		return task.Err(abi.EBADF)
	}
	cs := calls.Of(c.Slot)
	cs.buf, cs.regs = c.Ptr(1), false
	return recvOn(c, i, c.Deadline(c.Arg(2)))
}

// recvOn makes the calling thread wait on endpoint i for a call, which goes where cs.buf and
// cs.regs say.
//
//go:nosplit
func recvOn(c task.Call, i int, deadline int64) task.Result {
	e := ep(i)
	cs := calls.Of(c.Slot)
	cs.ep, cs.replyTo = int32(i), -1
	for cl := e.senders.First(); cl != 0; cl = e.senders.First() {
		if takeCall(e, c.Slot, cl) {
			return task.Ret(0)
		}
		if e.senders.First() == cl {
			return task.Err(abi.EFAULT) // the server's buffer failed: its own fault
		}
		// That call failed its caller (woken, off the queue), not the server: the next one.
	}
	return waitForCall(e, deadline)
}

// waitForCall makes the calling server thread wait on e for a call. A caller's fast path fills
// its buffer and sets replyTo before the CPU comes back to it. (Out of recvOn's frame, which
// the linker's nosplit check counts above a page loan.)
//
//go:nosplit
//go:noinline
func waitForCall(e *endpoint, deadline int64) task.Result {
	return task.Waiting(sched.Block(&e.receivers, deadline, -abi.ETIMEDOUT, sched.ResumeResult))
}

// SysReply is ipc_reply(0, msg): the reply in msg goes to the caller this thread received
// from.
//
//go:nosplit
func SysReply(c task.Call) task.Result {
	cl, r, err := prepareReply(c, c.Ptr(1), false)
	if err == replyKept {
		return task.Ret(0)
	}
	if err != 0 {
		return task.Ret(err)
	}
	sched.WakeWith(cl, r)
	return task.Ret(0)
}

// replyKept is prepareReply's "err" for a reply kept for a caller that no longer waits: the
// reply succeeded, and there is nobody to wake.
const replyKept = 1

// prepareReply copies the reply at buf (or in the calling thread's registers: regs) to the
// caller and ends the call's loan. It returns the caller's slot and the result its call
// returns, or err (nothing to reply to).
//
//go:nosplit
func prepareReply(c task.Call, buf uintptr, regs bool) (cl int, r, err int64) {
	cs := calls.Of(c.Slot)
	cl = int(cs.replyTo)
	if cl <= 0 {
		cs.replyTo = -1
		return 0, 0, -abi.EINVAL
	}
	ccs := calls.Of(cl)
	if sched.T(cl).TID() != cs.callerT || ccs.server != int32(c.Slot) || !keeps(cl) && !sched.Waiting(cl, &ep(int(ccs.ep)).replies) {
		cs.replyTo = -1
		endLoan(c.Slot)
		return 0, 0, -abi.ESRCH // the caller timed out or died meanwhile
	}
	// A reply the server got wrong — unreadable, or buffer bytes it cannot send — fails here,
	// before anything is sent: the caller still waits, the loan stands, the server may reply
	// again.
	var m abi.Message
	if regs {
		loadRegs(&m, c.Frame)
	} else if !c.Space().CopyIn(arch.Addr(&m), buf, abi.MessageSize) {
		return 0, 0, -abi.EFAULT
	}
	m.Badge = uint64(c.Task().PID())
	if buffered(&m) {
		switch copyBuffer(c.Slot, cl, m.GrantAddr) {
		case bufBadSend:
			return 0, 0, -abi.EINVAL
		case bufNoReceiver:
			r = -abi.EFAULT // the caller has no IPC buffer: its call fails
		}
	}
	cs.replyTo = -1
	endLoan(c.Slot)
	switch {
	case keeps(cl):
		// The caller does not wait: the reply waits for it (SysAwaitRegs), and nobody is woken.
		ccs.msg, ccs.replied, ccs.replyR, ccs.server = m, true, r, 0
		return cl, 0, replyKept
	case ccs.kernel:
		deliverKernel(ccs, &m)
	case ccs.regs:
		storeRegs(sched.Frame(cl), &m)
	case !sched.T(cl).Space().CopyOut(ccs.buf, arch.Addr(&m), abi.MessageSize):
		r = -abi.EFAULT
	}
	ccs.server = 0
	return cl, r, 0
}

// SysReplyRecv is ipc_replyrecv(handle, msg, timeout ns): it replies to the current caller (if
// any) and waits for the next call, the server loop in one system call; and
// ipc_replyrecv_regs, the same with the messages in registers (regs.go), told apart by the
// call's number as SysCall's two are.
//
//go:nosplit
func SysReplyRecv(c task.Call) task.Result {
	regs := c.Frame.RAX == abi.SysIPCReplyRecvRegs
	buf, timeout := c.Ptr(1), c.Arg(2)
	if regs {
		buf, timeout = 0, c.Frame.RBX
	}
	i := servedBy(c.Arg(0), c.Task().Slot()) // RDI on both paths
	if i < 0 {
		return task.Err(abi.EBADF)
	}
	cs := calls.Of(c.Slot)
	if cs.replyTo > 0 {
		cl, r, err := prepareReply(c, buf, regs)
		switch {
		case err == -abi.EFAULT || err == -abi.EINVAL:
			return task.Ret(err) // the reply was bad: nothing sent, nothing received
		case err == 0:
			if fastPath && r == 0 && !calls.Of(cl).kernel {
				cs.buf, cs.regs = buf, regs
				if res, ok := replyRecvFast(c, cl, i, c.Deadline(timeout)); ok {
					return res
				}
				return recvOn(c, i, c.Deadline(timeout)) // a call is queued: take it
			}
			sched.WakeWith(cl, r)
		}
	}
	cs.buf, cs.regs = buf, regs
	return recvOn(c, i, c.Deadline(timeout))
}

// TaskEnded fails every call the ended task t was serving or had queued for, and drops its
// endpoints: the waiting callers get ECONNRESET at once. (The pages t lent and those lent to it
// are taken back with its address space: package mm's loans.)
//
//go:nosplit
func TaskEnded(t *task.Task) {
	slot := uint(t.Slot()) % task.Max
	for i := range endpoints {
		e := &endpoints[i]
		e.callers[slot/64] &^= 1 << (slot % 64) // the slot's next task has grants of its own
		if !e.used || e.owner != t.Slot() {
			continue
		}
		e.used = false
		e.senders.WakeAllWith(-abi.ECONNRESET)
		e.replies.WakeAllWith(-abi.ECONNRESET)
		// Its receivers are t's own threads, which end next.
	}
}

// checkCall validates a call message the kernel copied in from a task and stamps the badge:
// the sender's pid, which the sender cannot choose. A page grant must be whole pages of the
// lower half, at most abi.MaxGrantPages (checkGrant); IPC-buffer bytes at most a buffer's size.
//
//go:nosplit
func checkCall(m *abi.Message, pid int32) int64 {
	m.Badge = uint64(pid)
	if buffered(m) {
		if m.GrantAddr > abi.IPCBufferSize {
			return -abi.EINVAL
		}
		return 0
	}
	return checkGrant(m)
}

// checkGrant validates a message's page grant (none: both fields zeroed). The core's own calls
// (KernelCall) are checked by it alone: they never carry IPC-buffer bytes.
//
//go:nosplit
func checkGrant(m *abi.Message) int64 {
	g, a := m.GrantPages&^abi.GrantWrite, m.GrantAddr
	if g == 0 {
		m.GrantPages = 0
		m.GrantAddr = 0
		return 0
	}
	if g > abi.MaxGrantPages || a&(mm.PageSize-1) != 0 || !mm.UserRange(uintptr(a), uintptr(a+g*mm.PageSize)) {
		return -abi.EINVAL
	}
	return 0
}

// screen runs endpoint i's eBPF filter over call m from t; false (and an audit line) if it
// refuses the call. (A function of its own: its eight arguments' spill space stays out of the
// frame of the call path, whose deepest chain — a page loan — the linker's nosplit check
// counts.)
//
//go:nosplit
//go:noinline
func screen(t *task.Task, i int, m *abi.Message) bool {
	e := ep(i)
	ok, verdict := filter.Run(e.filter, m.Badge, uint64(handleOf(i)), m.Label, m.Words[0], m.Words[1], m.Words[2], m.Words[3])
	if !ok {
		denyFilter(t, &e.name, verdict)
	}
	return ok
}

// denyFilter writes the audit line of a call an endpoint's filter refused.
//
//go:nosplit
func denyFilter(t *task.Task, name *abi.Name, verdict uint64) {
	if !console.AuditHead(t) {
		return
	}
	console.Puts("call \"")
	console.PutName(name)
	console.Puts("\": its eBPF filter returned ")
	console.PutDec(verdict)
	console.Putc('\n')
}

// Server returns the slot of the task serving the endpoint name, ok=false if none does.
//
//go:nosplit
func Server(name *abi.Name) (int32, bool) {
	if i := byName(name); i >= 0 {
		return ep(i).owner, true
	}
	return 0, false
}

// byName returns the endpoint registered under name, or -1.
//
//go:nosplit
func byName(name *abi.Name) int {
	for i := range endpoints {
		if endpoints[i].used && endpoints[i].name.Equal(name) {
			return i
		}
	}
	return -1
}

// Stats reports the number of calls and how many took the fast paths.
func Stats() (calls, fastCalls, fastReplies uint64) {
	return stats.calls, stats.fastCalls, stats.fastReplies
}

// Handoffs is how many calls and replies the fastpath answered.
func Handoffs() uint64 { return stats.handoffs }
