package kernel

// IPC: synchronous message passing between tasks through endpoints, in the manner of seL4.
//
// A server registers an endpoint under a name; clients look the name up and Call it. A call
// carries a message — a label and four inline words — and blocks the caller until the server
// Replies. The receiver learns the caller's identity from the badge the kernel writes into the
// message (the caller's pid), which no task can forge. Calls, receives and replies take a
// timeout. When the server's task ends, every call waiting on its endpoints fails at once with
// ECONNRESET (ipc.ErrPeerDied); a restarted server registers the name again, and the name then
// resolves to its new endpoint (handles carry a generation, so stale ones fail too).
//
// The fast path (ipc_fast.go) hands a call straight to a waiting server thread and a reply
// straight back to the waiting caller, switching threads directly without a scheduler pass.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

const maxEndpoints = 64

// Page grants: a caller may lend up to abi.MaxGrantPages pages of its own memory to the server for
// the duration of one call. They appear read-only in the server's grant window (one per
// server thread slot, a kernel-managed range of the lower half that no task can map, unmap or
// protect) and are unmapped the moment the call ends in any way: the server replies, the
// caller gives up (timeout, signal), the lender unmaps the pages or either task dies. So a
// server never holds a mapping of a frame its lender has freed, and never a writable one.
// One window per thread slot, with an unmapped page between windows.
const grantSlotBytes = (abi.MaxGrantPages + 1) * mm.PageSize

// ipcThread is a thread's IPC state.
type ipcThread struct {
	msg     abi.Message // the message being sent or received, in the kernel
	buf     uintptr     // the user buffer it goes back to
	ep      int32       // endpoint index it sends to or receives from
	seq     uint64      // queue order of a waiting caller
	replyTo int32       // server: thread slot of the caller it owes a reply, -1 if none
	callerT int32       // server: that caller's tid, to detect a slot reused meanwhile
	server  int32       // caller: tid of the server handling its call
	loan    mm.Loan     // server: the pages its caller lent it for the call, in its window
}

type endpoint struct {
	used   bool
	filter int32 // 1 + index of its eBPF filter (ipc_filter.go), 0 = none
	owner  int32 // process
	gen    uint32
	name   abi.Name
}

var endpoints [maxEndpoints]endpoint
var ipcSeq uint64

// IPC counters, for statistics and benchmarks.
var ipcStats struct {
	calls, fastCalls, fastReplies uint64
}

//go:nosplit
func handleOf(i int) int64 { return int64(endpoints[i&(maxEndpoints-1)].gen)<<16 | int64(i) }

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

// sysIPCRegister(name, len) creates an endpoint served by the calling task.
//
//go:nosplit
func sysIPCRegister(tf *arch.TrapFrame) int64 {
	var name abi.Name
	if !readName(uintptr(tf.RDI), uintptr(tf.RSI), &name) {
		return -abi.EINVAL
	}
	if p := curProc(); p.ring != 0 && !p.serves.has(&name) {
		audit("register", &name, "serves")
		return -abi.EPERM
	}
	free := -1
	for i := range endpoints {
		e := &endpoints[i]
		if e.used && e.name.Equal(&name) {
			return -abi.EEXIST
		}
		if !e.used && free < 0 {
			free = i
		}
	}
	if free < 0 {
		return -abi.ENOMEM
	}
	e := &endpoints[free&(maxEndpoints-1)]
	e.used, e.owner = true, cur().proc
	e.gen++
	e.name = name
	e.filter = filterFor(&name)
	return handleOf(free)
}

// sysIPCLookup(name, len) returns the handle of the endpoint registered under name, if the
// policy lets the caller call it.
//
//go:nosplit
func sysIPCLookup(tf *arch.TrapFrame) int64 {
	var name abi.Name
	if !readName(uintptr(tf.RDI), uintptr(tf.RSI), &name) {
		return -abi.EINVAL
	}
	if p := curProc(); p.ring != 0 && !p.calls.has(&name) {
		audit("call", &name, "calls")
		return -abi.EPERM
	}
	for i := range endpoints {
		if endpoints[i].used && endpoints[i].name.Equal(&name) {
			return handleOf(i)
		}
	}
	return -abi.ENOENT
}

//go:nosplit
func deadlineOf(timeoutNs uint64) int64 {
	if timeoutNs == 0 || timeoutNs > 1<<62 {
		return 0
	}
	return arch.Nanotime() + int64(timeoutNs)
}

// sysIPCCall(handle, buf, timeout) sends the message in buf and waits for the reply, which
// overwrites buf.
//
//go:nosplit
func sysIPCCall(tf *arch.TrapFrame) int64 {
	ep := endpointOf(tf.RDI)
	if ep < 0 {
		return -abi.ECONNRESET
	}
	t := cur()
	// Handles can be guessed: the policy is checked on every call, not only at lookup.
	if e := &endpoints[ep&(maxEndpoints-1)]; curProc().ring != 0 && !curProc().calls.has(&e.name) {
		audit("call", &e.name, "calls")
		return -abi.EPERM
	}
	buf := uintptr(tf.RSI)
	if !curSpace().CopyIn(arch.Addr(&t.ipc.msg), buf, abi.MessageSize) {
		return -abi.EFAULT
	}
	if endpoints[ep&(maxEndpoints-1)].owner == t.proc {
		return -abi.EDEADLK // a task calling itself would wait forever
	}
	if r := checkCall(&t.ipc.msg, curProc().pid); r != 0 {
		return r
	}
	if ok, verdict := runFilter(ep, &t.ipc.msg); !ok {
		e := &endpoints[ep&(maxEndpoints-1)]
		auditFilter(&e.name, verdict)
		return -abi.EPERM
	}
	t.ipc.buf, t.ipc.ep = buf, int32(ep)
	ipcStats.calls++
	ipcSeq++
	t.ipc.seq = ipcSeq
	deadline := deadlineOf(tf.RDX)
	var r int64
	if s := waitingServer(ep); s > 0 && ipcFastPath {
		r = callFast(s, deadline)
	} else if s > 0 {
		// Slow path (ipcfast=off, for comparison): hand the call over and let the scheduler run.
		if !takeCall(s, current) {
			return -abi.EFAULT
		}
		wake(s, 0)
		r = block(waitIPCReply, uintptr(ep), deadline)
	} else {
		r = block(waitIPCSend, uintptr(ep), deadline)
	}
	if r != 0 {
		abandonCall(current)
	}
	return r
}

// abandonCall ends the call of caller c, which stopped waiting for its reply (timeout,
// signal, its server died): the server that took it loses the pages it lent, and a late
// reply finds no caller.
//
//go:nosplit
func abandonCall(c int) {
	cl := &threads[c&(maxThreads-1)]
	if cl.ipc.server == 0 {
		return
	}
	for s := 1; s < maxThreads; s++ {
		if threads[s].tid == cl.ipc.server && int(threads[s].ipc.replyTo) == c {
			unmapGrant(s)
		}
	}
	cl.ipc.server = 0
}

// waitingServer returns a thread blocked receiving on ep, or 0.
//
//go:nosplit
func waitingServer(ep int) int {
	for i := 1; i < maxThreads; i++ {
		s := &threads[i]
		if s.state == threadBlocked && s.waitOn == waitIPCRecv && s.waitAddr == uintptr(ep) {
			return i
		}
	}
	return 0
}

// oldestCaller returns the thread that has waited longest to send on ep, or 0.
//
//go:nosplit
func oldestCaller(ep int) int {
	best := 0
	for i := 1; i < maxThreads; i++ {
		c := &threads[i]
		if c.state == threadBlocked && c.waitOn == waitIPCSend && c.waitAddr == uintptr(ep) &&
			(best == 0 || c.ipc.seq < thread(best).ipc.seq) {
			best = i
		}
	}
	return best
}

// takeCall moves caller c's message to server s's buffer (in the server's address space) and
// makes s owe c a reply. The caller now waits for the reply.
//
//go:nosplit
func takeCall(s, c int) bool {
	srv, cl := &threads[s&(maxThreads-1)], &threads[c&(maxThreads-1)]
	as := mm.Space(procs[srv.proc&(maxProcs-1)].space)
	if cl.ipc.msg.GrantPages != 0 {
		if !mapGrant(s, c) {
			cl.ipc.msg.GrantAddr, cl.ipc.msg.GrantPages = 0, 0
		}
	}
	if !as.CopyOut(srv.ipc.buf, arch.Addr(&cl.ipc.msg), abi.MessageSize) {
		unmapGrant(s)
		return false
	}
	srv.ipc.replyTo, srv.ipc.callerT = int32(c), cl.tid
	cl.ipc.server = srv.tid
	cl.waitOn = waitIPCReply
	return true
}

// sysIPCRecv(handle, buf, timeout) waits for a call on an endpoint the task serves.
//
//go:nosplit
func sysIPCRecv(tf *arch.TrapFrame) int64 {
	ep := endpointOf(tf.RDI)
	if ep < 0 || endpoints[ep&(maxEndpoints-1)].owner != cur().proc {
		return -abi.EBADF
	}
	return recvOn(ep, uintptr(tf.RSI), deadlineOf(tf.RDX))
}

//go:nosplit
func recvOn(ep int, buf uintptr, deadline int64) int64 {
	t := cur()
	t.ipc.buf, t.ipc.ep, t.ipc.replyTo = buf, int32(ep), -1
	if c := oldestCaller(ep); c > 0 {
		if !takeCall(current, c) {
			return -abi.EFAULT
		}
		return 0
	}
	// The fast path of a caller fills our buffer and sets replyTo before waking us.
	return block(waitIPCRecv, uintptr(ep), deadline)
}

// sysIPCReply(buf) sends the reply in buf to the caller this thread received from.
//
//go:nosplit
func sysIPCReply(tf *arch.TrapFrame) int64 {
	c, r := prepareReply(uintptr(tf.RSI))
	if r != 0 {
		return r
	}
	wake(c, 0)
	return 0
}

// prepareReply copies the reply into the caller's buffer; it returns the caller's slot.
//
//go:nosplit
func prepareReply(buf uintptr) (int, int64) {
	t := cur()
	c := int(t.ipc.replyTo)
	t.ipc.replyTo = -1
	if c <= 0 {
		return 0, -abi.EINVAL
	}
	unmapGrant(current)
	cl := &threads[c&(maxThreads-1)]
	if cl.tid != t.ipc.callerT || cl.state != threadBlocked || cl.waitOn != waitIPCReply || cl.ipc.server != t.tid {
		return 0, -abi.ESRCH // the caller timed out or died meanwhile
	}
	var m abi.Message
	if !curSpace().CopyIn(arch.Addr(&m), buf, abi.MessageSize) {
		return 0, -abi.EFAULT
	}
	m.Badge = uint64(curProc().pid)
	as := mm.Space(procs[cl.proc&(maxProcs-1)].space)
	if !as.CopyOut(cl.ipc.buf, arch.Addr(&m), abi.MessageSize) {
		cl.wakeResult = -abi.EFAULT
	}
	cl.ipc.server = 0
	return c, 0
}

// sysIPCReplyRecv(handle, buf, timeout) replies to the current caller (if any) and waits for
// the next call, the server loop in one system call.
//
//go:nosplit
func sysIPCReplyRecv(tf *arch.TrapFrame) int64 {
	ep := endpointOf(tf.RDI)
	if ep < 0 || endpoints[ep&(maxEndpoints-1)].owner != cur().proc {
		return -abi.EBADF
	}
	buf := uintptr(tf.RSI)
	if cur().ipc.replyTo > 0 {
		if c, r := prepareReply(buf); r == 0 {
			if ipcFastPath {
				return replyRecvFast(c, ep, buf, deadlineOf(tf.RDX))
			}
			wake(c, 0)
		}
	}
	return recvOn(ep, buf, deadlineOf(tf.RDX))
}

// ipcProcessEnded fails every call the ended process p was serving or had queued for, and
// drops its endpoints. The waiting callers get ECONNRESET at once. (The pages p lent and those
// lent to it are taken back when its address space goes: package mm's loans.)
//
//go:nosplit
func ipcProcessEnded(p int) {
	for i := range endpoints {
		e := &endpoints[i]
		if !e.used || int(e.owner) != p {
			continue
		}
		e.used = false
		for j := 1; j < maxThreads; j++ {
			c := &threads[j]
			if c.state == threadBlocked && (c.waitOn == waitIPCSend || c.waitOn == waitIPCReply) && c.ipc.ep == int32(i) {
				wake(j, -abi.ECONNRESET)
			}
		}
	}
}

// IPCStats reports the number of calls and how many took the fast paths.
func IPCStats() (calls, fastCalls, fastReplies uint64) {
	return ipcStats.calls, ipcStats.fastCalls, ipcStats.fastReplies
}

// audit writes one line for a request the policy denied: who, what, which rule.
//
//go:nosplit
func audit(what string, name *abi.Name, rule string) {
	if !auditHead() {
		return
	}
	kputs(what)
	kputs(" \"")
	kputName(name)
	kputs("\": not in its policy '")
	kputs(rule)
	kputs("' list\n")
}

var auditDenials uint64

// auditBucket limits a task's audit lines: a burst of auditBurst, then auditPerSecond. A task
// denied in a loop would otherwise fill the console everyone shares (and, without a console
// driver, hold the CPU in the UART with interrupts off) with lines about itself. The denials
// are still counted; the lines left out are reported with the next one written.
type auditBucket struct {
	tokens     int64 // lines it may write now, times 1e9
	last       int64 // when tokens was last refilled (monotonic ns)
	suppressed uint64
}

const (
	auditBurst     = 20
	auditPerSecond = 10
)

// auditHead starts an audit line: who is denied. It returns false, writing nothing, when the
// task has used up its audit lines for now.
//
//go:nosplit
func auditHead() bool {
	p := curProc()
	auditDenials++
	b := &p.audit
	now := arch.Nanotime()
	if b.last == 0 {
		b.tokens = auditBurst * 1e9
	} else if dt := now - b.last; dt > 0 {
		b.tokens += dt * auditPerSecond
		if b.tokens > auditBurst*1e9 {
			b.tokens = auditBurst * 1e9
		}
	}
	b.last = now
	if b.tokens < 1e9 {
		b.suppressed++
		return false
	}
	b.tokens -= 1e9
	if b.suppressed > 0 {
		kputs("audit: ")
		kputDec(b.suppressed)
		kputs(" more denials of ")
		kputs(p.nameString())
		kputs(" (pid ")
		kputDec(uint64(p.pid))
		kputs(") not shown\n")
		b.suppressed = 0
	}
	kputs("audit: deny ")
	kputs(p.nameString())
	kputs(" (pid ")
	kputDec(uint64(p.pid))
	kputs(", ring ")
	kputDec(uint64(p.ring))
	kputs(") ")
	return true
}

// grantWindowOf is where thread slot s's server sees the pages lent to it.
//
//go:nosplit
func grantWindowOf(s int) uintptr { return mm.GrantWindow + uintptr(s&(maxThreads-1))*grantSlotBytes }

// mapGrant lends caller c's granted pages to server s for the call, read-only in s's grant
// window (package mm's loans), and rewrites the message's address to the server's view.
//
//go:nosplit
func mapGrant(s, c int) bool {
	srv, cl := &threads[s&(maxThreads-1)], &threads[c&(maxThreads-1)]
	from := mm.Space(procs[cl.proc&(maxProcs-1)].space)
	to := mm.Space(procs[srv.proc&(maxProcs-1)].space)
	m := &cl.ipc.msg
	loan, ok := mm.Lend(from, to, uintptr(m.GrantAddr), uintptr(m.GrantPages), grantWindowOf(s))
	if !ok {
		return false
	}
	srv.ipc.loan = loan
	m.GrantAddr = uint64(grantWindowOf(s))
	return true
}

// unmapGrant ends the loan server thread s holds for its call, if any.
//
//go:nosplit
func unmapGrant(s int) {
	srv := &threads[s&(maxThreads-1)]
	srv.ipc.loan.End()
	srv.ipc.loan = 0
}

// auditFilter writes the audit line of a call an endpoint's filter refused.
//
//go:nosplit
func auditFilter(name *abi.Name, verdict uint64) {
	if !auditHead() {
		return
	}
	kputs("call \"")
	kputName(name)
	kputs("\": its eBPF filter returned ")
	kputDec(verdict)
	kputc('\n')
}

// ipcFastPath can be turned off (kernel command line ipcfast=off) to measure the slow path.
var ipcFastPath = true

// checkCall validates a call message the kernel copied in from a task and stamps the badge:
// the sender's pid, which the sender cannot choose. A page grant must be whole pages of the
// lower half, at most abi.MaxGrantPages.
//
//go:nosplit
func checkCall(m *abi.Message, pid int32) int64 {
	m.Badge = uint64(pid)
	g, a := m.GrantPages, m.GrantAddr
	if g == 0 {
		m.GrantAddr = 0
		return 0
	}
	if g > abi.MaxGrantPages || a&(mm.PageSize-1) != 0 || !mm.UserRange(uintptr(a), uintptr(a+g*mm.PageSize)) {
		return -abi.EINVAL
	}
	return 0
}
