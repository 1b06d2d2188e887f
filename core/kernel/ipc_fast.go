package kernel

import "github.com/simpleos/simpleos/abi"

// The IPC fast path: a call to an endpoint whose server thread is already waiting is copied
// straight into the server's buffer and the CPU goes straight to the server; a reply whose
// caller is waiting goes straight back to it while the server waits for the next call. No run
// queue is consulted and nothing is allocated: one message copy per direction and one thread
// switch. The thread switched to inherits the rest of the time slice (donateTo), so a pair of
// tasks calling each other is preempted on schedule like any other.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// callFast hands the current thread's call to waiting server s and switches to it.
//
//go:nosplit
func callFast(s int, deadline int64) int64 {
	t := cur()
	if !takeCall(s, current) {
		return -abi.EFAULT
	}
	ipcStats.fastCalls++
	srv := &threads[s&(maxThreads-1)]
	srv.state, srv.waitOn, srv.wakeResult = threadRunnable, waitNone, 0
	t.state, t.waitOn, t.waitAddr, t.deadline, t.wakeResult = threadBlocked, waitIPCReply, uintptr(t.ipc.ep), deadline, 0
	donateTo(s)
	return cur().wakeResult
}

// replyRecvFast: the reply to caller c is in place; the server waits on ep for the next call
// and the CPU goes straight back to the caller — unless another call is already queued, which
// the server then takes at once.
//
//go:nosplit
func replyRecvFast(c, ep int, buf uintptr, deadline int64) int64 {
	wake(c, 0)
	t := cur()
	t.ipc.buf, t.ipc.ep, t.ipc.replyTo = buf, int32(ep), -1
	if next := oldestCaller(ep); next > 0 {
		if !takeCall(current, next) {
			return -abi.EFAULT
		}
		return 0
	}
	ipcStats.fastReplies++
	t.state, t.waitOn, t.waitAddr, t.deadline, t.wakeResult = threadBlocked, waitIPCRecv, uintptr(ep), deadline, 0
	donateTo(c)
	return cur().wakeResult
}
