package ipc_test

// Kept calls (abi.IPCKeep, ipc_await_regs) and the fastpath's handoffs, on the host.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/hosted"
	"github.com/simpleos/simpleos/core/kernel/ipc"
)

const ms = uint64(time.Millisecond)

// await makes ipc_await_regs with timeout (and flags) in RBX.
func await(th *hosted.Thread, timeout uint64) (int64, abi.Message) {
	tf := th.Frame()
	tf.RBX = timeout
	r := th.Syscall(abi.SysIPCAwaitRegs)
	return r, regsMsg(tf)
}

// sleep waits ns nanoseconds (nanosleep).
func sleep(th *hosted.Thread, ns int64) {
	th.Syscall(abi.SysNanosleep, uint64(th.Task.Timespec(ns)), 0)
}

// slowServer takes one call on name, sleeps for hold, then replies with the words plus one
// and waits for ever; *result is what the reply returned.
func slowServer(t *testing.T, srv *hosted.Task, name string, hold int64, result *int64) {
	srv.Thread(func(th *hosted.Thread) {
		h := register(th, name)
		tf := th.Frame()
		tf.RBX = 0
		if !assert.Zero(t, th.Syscall(abi.SysIPCRecvRegs, uint64(h)), "recv") {
			return
		}
		m := regsMsg(tf)
		sleep(th, hold)
		reply := echoReply(m)
		tf.R12, tf.R13 = 0, 0
		// The reply on its own (memory path: ipc_reply), so the server then waits for nothing.
		buf := srv.Map(abi.MessageSize)
		putMsg(srv, buf, reply)
		*result = th.Syscall(abi.SysIPCReply, 0, uint64(buf))
		th.Syscall(abi.SysFutex, uint64(srv.Map(8)), 0 /* FUTEX_WAIT */, 0) // stays, holding its slot
	})
}

// A call whose wait ends after the server took it, with IPCKeep, returns EINPROGRESS and stays
// the server's: ipc_await_regs then gets the reply — whether it waits before the reply comes
// or the reply came first.
func TestHostAKeptCallOutlivesItsWait(t *testing.T) {
	for _, replyFirst := range []bool{false, true} {
		hosted.Start()
		srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
		cli := newTask(t, "app", 3, nil, []string{"sensor"})
		var replied int64 = 99
		slowServer(t, srv, "sensor", int64(10*ms), &replied)
		var first, second int64
		var got abi.Message
		cli.Thread(func(th *hosted.Thread) {
			h := lookup(th, "sensor")
			first, _ = callRegs(th, h, abi.Message{Label: 5, Words: [4]uint64{1, 2, 3, 4}}, ms|abi.IPCKeep)
			if replyFirst {
				sleep(th, int64(100*ms)) // the server replies meanwhile: the reply waits
			}
			second, got = await(th, 0)
		})
		hosted.Run()
		assert.Equal(t, -int64(abi.EINPROGRESS), first, "the deadline passed while the server had the call")
		assert.Equal(t, int64(0), replied, "the reply reached a caller that kept its call (reply first: %v)", replyFirst)
		assert.Equal(t, int64(0), second, "await")
		assert.Equal(t, abi.Message{Label: uint64(cli.PID()), Words: [4]uint64{2, 3, 4, 5}, Badge: uint64(srv.PID())}, got)
	}
}

// Without IPCKeep the same wait ends the call: the server's late reply finds nobody (ESRCH)
// and there is nothing to await (EINVAL).
func TestHostACallWithoutKeepEndsWithItsWait(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var replied int64
	slowServer(t, srv, "sensor", int64(10*ms), &replied)
	var first, second int64
	cli.Thread(func(th *hosted.Thread) {
		first, _ = callRegs(th, lookup(th, "sensor"), abi.Message{Label: 5}, ms)
		sleep(th, int64(100*ms))
		second, _ = await(th, 0)
	})
	hosted.Run()
	assert.Equal(t, -int64(abi.ETIMEDOUT), first)
	assert.Equal(t, -int64(abi.ESRCH), replied)
	assert.Equal(t, -int64(abi.EINVAL), second, "no kept call")
}

// IPCKeep keeps only a call a server has: one still queued when its deadline passes is
// withdrawn (ETIMEDOUT), and the server never receives it.
func TestHostAKeptCallNoServerTookIsWithdrawn(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	handle := make(chan int64, 1)
	var late int64
	srv.Thread(func(th *hosted.Thread) {
		h := register(th, "sensor")
		handle <- h
		sleep(th, int64(10*ms)) // not receiving while the call waits
		th.Frame().RBX = 5 * ms
		late = th.Syscall(abi.SysIPCRecvRegs, uint64(h))
	})
	var first, second int64
	cli.Thread(func(th *hosted.Thread) {
		h := <-handle
		first, _ = callRegs(th, h, abi.Message{Label: 5}, ms|abi.IPCKeep)
		second, _ = await(th, 0)
	})
	hosted.Run()
	assert.Equal(t, -int64(abi.ETIMEDOUT), first)
	assert.Equal(t, -int64(abi.EINVAL), second)
	assert.Equal(t, -int64(abi.ETIMEDOUT), late, "the withdrawn call never reached the server")
}

// A kept call whose server dies: await fails with ECONNRESET, whether the server died before
// the await or during it; a new call gives a kept one up (the old server's reply: ESRCH).
func TestHostAKeptCallEndsWithItsServerOrTheNextCall(t *testing.T) {
	for _, dieFirst := range []bool{true, false} {
		hosted.Start()
		srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
		cli := newTask(t, "app", 3, nil, []string{"sensor"})
		srv.Thread(func(th *hosted.Thread) {
			h := register(th, "sensor")
			th.Frame().RBX = 0
			th.Syscall(abi.SysIPCRecvRegs, uint64(h))
			sleep(th, int64(10*ms))
			th.Syscall(abi.SysExitGroup, 3)
		})
		var first, second int64
		cli.Thread(func(th *hosted.Thread) {
			first, _ = callRegs(th, lookup(th, "sensor"), abi.Message{}, ms|abi.IPCKeep)
			if dieFirst {
				sleep(th, int64(100*ms))
			}
			second, _ = await(th, 0)
		})
		hosted.Run()
		assert.Equal(t, -int64(abi.EINPROGRESS), first)
		assert.Equal(t, -int64(abi.ECONNRESET), second, "server died first: %v", dieFirst)
	}

	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	other := newTask(t, "pipesvc", 2, []string{"pipesvc"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor", "pipesvc"})
	var replied int64
	slowServer(t, srv, "sensor", int64(10*ms), &replied)
	var got []abi.Message
	regsEchoServer(t, other, "pipesvc", &got, nil)
	var first, second, third int64
	cli.Thread(func(th *hosted.Thread) {
		first, _ = callRegs(th, lookup(th, "sensor"), abi.Message{}, ms|abi.IPCKeep)
		second, _ = callRegs(th, lookup(th, "pipesvc"), abi.Message{Label: 1}, 0)
		sleep(th, int64(100*ms))
		third, _ = await(th, 0)
	})
	hosted.Run()
	assert.Equal(t, -int64(abi.EINPROGRESS), first)
	assert.Equal(t, int64(0), second)
	assert.Equal(t, -int64(abi.ESRCH), replied, "the kept call was given up by the next one")
	assert.Equal(t, -int64(abi.EINVAL), third)
}

// Once both sides wait on the register path, every call and every reply is a handoff: the
// fastpath answers it and switches straight to the other thread — all but the first call,
// whose caller the policy has not been checked for yet (the general path checks it).
func TestHostRoundTripsAreHandoffs(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var received []abi.Message
	regsEchoServer(t, srv, "sensor", &received, nil)
	h0 := ipc.Handoffs()
	var results []int64
	var replies []abi.Message
	cli.Thread(func(th *hosted.Thread) {
		h := lookup(th, "sensor")
		for i := uint64(0); i < 4; i++ {
			r, m := callRegs(th, h, abi.Message{Label: i, Words: [4]uint64{i}}, 0)
			results = append(results, r)
			replies = append(replies, m)
		}
	})
	hosted.Run()
	require.Len(t, replies, 4)
	for i, m := range replies {
		assert.Equal(t, int64(0), results[i])
		assert.Equal(t, [4]uint64{uint64(i) + 1, 1, 1, 1}, m.Words)
		assert.Equal(t, uint64(srv.PID()), m.Badge)
	}
	assert.Equal(t, uint64(7), ipc.Handoffs()-h0, "three calls and four replies")
}

// A kept call belongs to the thread that made it: a thread that ends with one leaves nothing
// behind for the next thread in its slot — of its own task or another's, in any ring — which
// gets EINVAL from ipc_await_regs, never the reply to the ended thread's call. Meanwhile the
// other threads of every ring, racing, find nothing to await either.
func TestHostAKeptCallDiesWithItsThread(t *testing.T) {
	for ring := 1; ring <= 3; ring++ {
		hosted.Start()
		srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
		var replied int64 = 99
		slowServer(t, srv, "sensor", int64(10*ms), &replied)
		cli := newTask(t, "app", ring, nil, []string{"sensor"})
		keeper := cli.Map(8)
		cli.Thread(func(th *hosted.Thread) { // keeps the task alive
			th.Syscall(abi.SysFutex, uint64(keeper), 0 /* FUTEX_WAIT */, 0)
		})
		var first int64
		var others []int64
		a := cli.Thread(func(th *hosted.Thread) {
			first, _ = callRegs(th, lookup(th, "sensor"), abi.Message{Label: 0x5ec7e7, Words: [4]uint64{1, 2, 3, 4}}, ms|abi.IPCKeep)
			// and ends with the call kept
		})
		for k := 0; k < 2; k++ {
			cli.Thread(func(th *hosted.Thread) {
				r, _ := await(th, abi.IPCKeep)
				others = append(others, r)
			})
		}
		hosted.Run()
		require.Equal(t, -int64(abi.EINPROGRESS), first, "ring %d", ring)
		assert.Equal(t, []int64{-abi.EINVAL, -abi.EINVAL}, others, "ring %d: a kept call is its thread's alone", ring)
		assert.NotEqual(t, int64(0), replied, "ring %d: the reply to an ended thread is nobody's", ring)

		var same abi.Message
		var r int64
		b := cli.Thread(func(th *hosted.Thread) { r, same = await(th, 0) })
		require.Equal(t, a.Slot, b.Slot, "ring %d: the new thread must take the ended one's slot for this test to mean anything", ring)
		hosted.Run()
		assert.Equal(t, -int64(abi.EINVAL), r, "ring %d: the next thread in the slot has no kept call", ring)
		assert.NotEqual(t, uint64(0x5ec7e7+1), same.Words[0]+same.Label, "ring %d: and never sees the reply", ring)
	}
}
