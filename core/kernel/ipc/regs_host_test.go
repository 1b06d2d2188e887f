package ipc_test

// The register path (regs.go) on the host: messages in registers both ways, mixed with the
// memory path, and attacked with bad registers from every ring.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/hosted"
	"github.com/simpleos/simpleos/core/kernel/ipc"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// callRegs makes ipc_call_regs with m in the registers and returns the result and the
// registers' message afterwards; RBX is the timeout.
func callRegs(th *hosted.Thread, h int64, m abi.Message, timeout uint64) (int64, abi.Message) {
	tf := th.Frame()
	tf.RBX, tf.R12, tf.R13 = timeout, m.GrantAddr, m.GrantPages
	r := th.Syscall(abi.SysIPCCallRegs, uint64(h), m.Label, m.Words[0], m.Words[1], m.Words[2], m.Words[3])
	return r, regsMsg(tf)
}

// regsMsg is the message a register-path call left in the thread's registers.
func regsMsg(tf *arch.TrapFrame) abi.Message {
	return abi.Message{Label: tf.RSI, Words: [4]uint64{tf.RDX, tf.R10, tf.R8, tf.R9}, Badge: tf.RDI,
		GrantAddr: tf.R12, GrantPages: tf.R13}
}

// regsEchoServer serves name on the register path: each reply's words are the call's plus one
// and its label the caller's badge. It records each call, and the registers a call may not
// touch (R14, R15) as it found them after every receive.
func regsEchoServer(t *testing.T, srv *hosted.Task, name string, got *[]abi.Message, kept *[][2]uint64) {
	srv.Thread(func(th *hosted.Thread) {
		h := register(th, name)
		if !assert.Positive(t, h, "register") {
			return
		}
		tf := th.Frame()
		tf.RBX, tf.R14, tf.R15 = 0, 0x1414, 0x1515
		r := th.Syscall(abi.SysIPCRecvRegs, uint64(h))
		for r == 0 {
			m := regsMsg(tf)
			*got = append(*got, m)
			if kept != nil {
				*kept = append(*kept, [2]uint64{tf.R14, tf.R15})
			}
			reply := echoReply(m)
			tf.RBX, tf.R12, tf.R13 = 0, 0, 0
			r = th.Syscall(abi.SysIPCReplyRecvRegs, uint64(h), reply.Label, reply.Words[0], reply.Words[1], reply.Words[2], reply.Words[3])
		}
	})
}

func TestHostRegisterPathRoundTrip(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var received []abi.Message
	var kept [][2]uint64
	regsEchoServer(t, srv, "sensor", &received, &kept)
	var replies []abi.Message
	var results []int64
	calls0, fast0, replies0 := ipc.Stats()
	cli.Thread(func(th *hosted.Thread) {
		h := lookup(th, "sensor")
		for i := uint64(0); i < 3; i++ {
			r, m := callRegs(th, h, abi.Message{Label: 7, Words: [4]uint64{i, 10 * i, 0, 1}}, 0)
			results = append(results, r)
			replies = append(replies, m)
		}
	})
	hosted.Run()

	assert.Equal(t, []int64{0, 0, 0}, results)
	require.Len(t, received, 3)
	require.Len(t, replies, 3)
	for i, m := range received {
		assert.Equal(t, uint64(cli.PID()), m.Badge, "the server's RDI: the caller's pid")
		assert.Equal(t, uint64(7), m.Label)
		assert.Equal(t, [4]uint64{uint64(i), 10 * uint64(i), 0, 1}, m.Words)
		assert.Zero(t, m.GrantAddr+m.GrantPages, "no grant")
		assert.Equal(t, uint64(srv.PID()), replies[i].Badge, "the caller's RDI: the server's pid")
		assert.Equal(t, uint64(cli.PID()), replies[i].Label)
		assert.Equal(t, [4]uint64{uint64(i) + 1, 10*uint64(i) + 1, 1, 2}, replies[i].Words)
	}
	for _, k := range kept {
		assert.Equal(t, [2]uint64{0x1414, 0x1515}, k, "R14 and R15 are the thread's own")
	}
	calls, fast, fastReplies := ipc.Stats()
	assert.Equal(t, uint64(3), calls-calls0)
	assert.Equal(t, uint64(3), fast-fast0, "the server was waiting each time: the fast path")
	assert.Equal(t, uint64(3), fastReplies-replies0, "each reply went straight back")
}

// Either side may use either path: a memory-path caller of a register-path server, and a
// register-path caller of a memory-path server.
func TestHostRegisterAndMemoryPathsMix(t *testing.T) {
	hosted.Start()
	regSrv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	memSrv := newTask(t, "pipesvc", 2, []string{"pipesvc"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor", "pipesvc"})
	var atReg, atMem []abi.Message
	regsEchoServer(t, regSrv, "sensor", &atReg, nil)
	echoServer(t, memSrv, "pipesvc", &atMem)
	var fromReg abi.Message
	var fromMem abi.Message
	var r1, r2 int64
	cli.Thread(func(th *hosted.Thread) {
		buf := cli.Map(abi.MessageSize)
		putMsg(cli, buf, abi.Message{Label: 1, Words: [4]uint64{5, 6, 7, 8}, Badge: 999})
		r1 = th.Syscall(abi.SysIPCCall, uint64(lookup(th, "sensor")), uint64(buf), forever)
		fromReg = getMsg(cli, buf)
		r2, fromMem = callRegs(th, lookup(th, "pipesvc"), abi.Message{Label: 2, Words: [4]uint64{1, 2, 3, 4}}, 0)
	})
	hosted.Run()
	assert.Equal(t, int64(0), r1)
	assert.Equal(t, int64(0), r2)
	require.Len(t, atReg, 1)
	require.Len(t, atMem, 1)
	assert.Equal(t, abi.Message{Label: 1, Words: [4]uint64{5, 6, 7, 8}, Badge: uint64(cli.PID())}, atReg[0], "memory in, registers out; the forged badge overwritten")
	assert.Equal(t, abi.Message{Label: uint64(cli.PID()), Words: [4]uint64{6, 7, 8, 9}, Badge: uint64(regSrv.PID())}, fromReg)
	assert.Equal(t, abi.Message{Label: 2, Words: [4]uint64{1, 2, 3, 4}, Badge: uint64(cli.PID())}, atMem[0], "registers in, memory out")
	assert.Equal(t, abi.Message{Label: uint64(cli.PID()), Words: [4]uint64{2, 3, 4, 5}, Badge: uint64(memSrv.PID())}, fromMem)
}

// A grant named in R12 and R13 is lent like one in memory: the server sees its window in its
// R12 and the pages (with the write flag) in R13, and can read the lender's bytes there.
func TestHostRegisterPathLendsPages(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var got abi.Message
	var seen []byte
	srv.Thread(func(th *hosted.Thread) {
		h := register(th, "sensor")
		if th.Syscall(abi.SysIPCRecvRegs, uint64(h)) != 0 {
			return
		}
		got = regsMsg(th.Frame())
		seen, _ = srv.Peek(uintptr(got.GrantAddr), 5)
		th.Frame().R12, th.Frame().R13 = 0, 0
		th.Syscall(abi.SysIPCReplyRecvRegs, uint64(h), 0, 0, 0, 0, 0)
	})
	var r int64
	cli.Thread(func(th *hosted.Thread) {
		lent := cli.Map(2 * mm.PageSize)
		cli.Write(lent, []byte("hello"))
		r, _ = callRegs(th, lookup(th, "sensor"), abi.Message{Label: 3, GrantAddr: uint64(lent), GrantPages: 2}, 0)
	})
	hosted.Run()
	assert.Equal(t, int64(0), r)
	assert.Equal(t, uint64(2), got.GrantPages)
	assert.GreaterOrEqual(t, got.GrantAddr, uint64(mm.GrantWindow), "the server's view: its grant window")
	assert.Equal(t, []byte("hello"), seen)
}

// Bad registers get an error, from every ring, and the server sees nothing of them: a grant
// that is not whole pages of the task's half, too many pages, a stale or guessed handle, a
// name the policy does not grant, another task's endpoint to receive on, a timeout.
func TestHostRegisterPathRefusesBadRegistersFromEveryRing(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	var received []abi.Message
	regsEchoServer(t, srv, "sensor", &received, nil)
	slowSrv := newTask(t, "slow", 2, []string{"slow"}, nil)
	slowSrv.Thread(func(th *hosted.Thread) {
		register(th, "slow")
		word := slowSrv.Map(8)
		th.Syscall(abi.SysFutex, uint64(word), 0 /* FUTEX_WAIT */, 0) // never receives: calls to it wait
	})
	type result struct {
		ring int
		what string
		r    int64
	}
	var results []result
	for ring := 1; ring <= 3; ring++ {
		cli := newTask(t, "app"+string(rune('0'+ring)), ring, nil, []string{"sensor", "slow"})
		for k := 0; k < 3; k++ { // three threads each, racing the server and one another
			cli.Thread(func(th *hosted.Thread) {
				h := lookup(th, "sensor")
				buf := cli.Map(mm.PageSize)
				try := func(what string, r int64) { results = append(results, result{ring, what, r}) }
				r, _ := callRegs(th, h, abi.Message{GrantAddr: uint64(buf) + 8, GrantPages: 1}, 0)
				try("unaligned grant", r)
				r, _ = callRegs(th, h, abi.Message{GrantAddr: uint64(buf), GrantPages: abi.MaxGrantPages + 1}, 0)
				try("too many pages", r)
				r, _ = callRegs(th, h, abi.Message{GrantAddr: 0xffff_8000_0000_0000, GrantPages: 1}, 0)
				try("kernel grant", r)
				r, _ = callRegs(th, h, abi.Message{GrantAddr: mm.GrantWindow, GrantPages: 1}, 0)
				try("grant window", r)
				r, _ = callRegs(th, h^(1<<16), abi.Message{}, 0)
				try("stale handle", r)
				r, _ = callRegs(th, 0xffff, abi.Message{}, 0)
				try("bad handle", r)
				r = th.Syscall(abi.SysIPCRecvRegs, uint64(h))
				try("receive on another's endpoint", r)
				r = th.Syscall(abi.SysIPCReplyRecvRegs, uint64(h))
				try("reply on another's endpoint", r)
				r, _ = callRegs(th, lookup(th, "slow"), abi.Message{}, 1_000_000)
				try("timeout", r)
			})
		}
	}
	hosted.Run()
	want := map[string]int64{
		"unaligned grant": -abi.EINVAL, "too many pages": -abi.EINVAL, "kernel grant": -abi.EINVAL,
		"grant window": -abi.EINVAL, "stale handle": -abi.ECONNRESET, "bad handle": -abi.ECONNRESET,
		"receive on another's endpoint": -abi.EBADF, "reply on another's endpoint": -abi.EBADF,
		"timeout": -abi.ETIMEDOUT,
	}
	require.Len(t, results, 3*3*len(want))
	for _, r := range results {
		assert.Equal(t, want[r.what], r.r, "ring %d: %s", r.ring, r.what)
	}
	assert.Empty(t, received, "no bad call reached the server")
}

// A register-path caller whose name the policy does not grant is refused on every call, as
// on the memory path: handles can be guessed.
func TestHostRegisterPathChecksThePolicy(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	var received []abi.Message
	var handle int64
	srv.Thread(func(th *hosted.Thread) {
		handle = register(th, "sensor")
		th.Syscall(abi.SysIPCRecvRegs, uint64(handle), 0) // waits; the task ends with the test
	})
	rogue := newTask(t, "rogue", 3, nil, []string{"other"})
	var r int64
	rogue.Thread(func(th *hosted.Thread) {
		r, _ = callRegs(th, handle, abi.Message{Label: 1}, 0)
	})
	hosted.Run()
	assert.Equal(t, -int64(abi.EPERM), r)
	assert.Empty(t, received)
}

// The core remembers that a task may call an endpoint (ipc.go, mayCall); a task that later
// takes the same slot has grants of its own and is refused, on both paths.
func TestHostACallersGrantIsNotInheritedByItsSlot(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	var received []abi.Message
	regsEchoServer(t, srv, "sensor", &received, nil)
	first := newTask(t, "app", 3, nil, []string{"sensor"})
	var handle, r1 int64
	first.Thread(func(th *hosted.Thread) {
		handle = lookup(th, "sensor")
		r1, _ = callRegs(th, handle, abi.Message{Label: 1}, 0)
	})
	hosted.Run()
	require.Equal(t, int64(0), r1, "the granted task's call")
	require.Len(t, received, 1)

	second := newTask(t, "rogue", 3, nil, []string{"other"})
	require.Equal(t, first.Slot(), second.Slot(), "the rogue must take the ended task's slot for this test to mean anything")
	var r2, r3 int64
	second.Thread(func(th *hosted.Thread) {
		r2, _ = callRegs(th, handle, abi.Message{Label: 2}, 0)
		buf := second.Map(abi.MessageSize)
		r3 = th.Syscall(abi.SysIPCCall, uint64(handle), uint64(buf), forever)
	})
	hosted.Run()
	assert.Equal(t, -int64(abi.EPERM), r2)
	assert.Equal(t, -int64(abi.EPERM), r3)
	assert.Len(t, received, 1, "nothing more reached the server")
}
