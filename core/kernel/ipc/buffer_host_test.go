package ipc_test

// IPC buffers (buffer.go) on the host: bytes both ways through registered pages, the errors of
// either side without one, and hostile registrations from every ring.

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/hosted"
	"github.com/simpleos/simpleos/core/kernel/ipc"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// ipcBuffer registers a fresh page as the thread's IPC buffer and returns its address.
func ipcBuffer(t *testing.T, th *hosted.Thread) uintptr {
	va := th.Task.Map(mm.PageSize)
	require.Zero(t, th.Syscall(abi.SysIPCBuffer, uint64(va)), "ipc_buffer")
	return va
}

// bufferCall makes ipc_call_regs carrying n bytes of the thread's IPC buffer.
func bufferCall(th *hosted.Thread, h int64, label, n uint64) (int64, abi.Message) {
	return callRegs(th, h, abi.Message{Label: label, GrantAddr: n, GrantPages: abi.GrantBuffer}, 0)
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// bufferEchoServer serves name with an IPC buffer: each reply carries the call's bytes
// reversed (as many as came), its label the number of bytes received.
func bufferEchoServer(t *testing.T, srv *hosted.Task, name string, got *[][]byte) {
	srv.Thread(func(th *hosted.Thread) {
		h := register(th, name)
		buf := ipcBuffer(t, th)
		tf := th.Frame()
		tf.RBX = 0
		r := th.Syscall(abi.SysIPCRecvRegs, uint64(h))
		for r == 0 {
			m := regsMsg(tf)
			var in []byte
			if m.GrantPages == abi.GrantBuffer {
				in = srv.Read(buf, int(m.GrantAddr))
			}
			*got = append(*got, in)
			out := bytes.Clone(in)
			for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
				out[i], out[j] = out[j], out[i]
			}
			srv.Write(buf, out)
			tf.RBX, tf.R12, tf.R13 = 0, uint64(len(out)), abi.GrantBuffer
			r = th.Syscall(abi.SysIPCReplyRecvRegs, uint64(h), uint64(len(in)), 0, 0, 0, 0)
		}
	})
}

// A call and its reply carry up to a page each way through the two threads' IPC buffers,
// byte for byte; once both wait, the fastpath carries them.
func TestHostIPCBuffersCarryBytesBothWays(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var got [][]byte
	bufferEchoServer(t, srv, "sensor", &got)
	sizes := []int{1024, 1, 0, abi.IPCBufferSize, 1024}
	var results []int64
	var replies [][]byte
	var labels []uint64
	h0 := ipc.Handoffs()
	cli.Thread(func(th *hosted.Thread) {
		h := lookup(th, "sensor")
		buf := ipcBuffer(t, th)
		for k, n := range sizes {
			cli.Write(buf, pattern(n, byte(k)))
			r, m := bufferCall(th, h, 1, uint64(n))
			results = append(results, r)
			labels = append(labels, m.Label)
			if assert.Equal(t, uint64(abi.GrantBuffer), m.GrantPages, "call %d", k) {
				replies = append(replies, cli.Read(buf, int(m.GrantAddr)))
			}
		}
	})
	hosted.Run()
	require.Len(t, got, len(sizes))
	require.Len(t, replies, len(sizes))
	for k, n := range sizes {
		want := pattern(n, byte(k))
		assert.Equal(t, int64(0), results[k], "call %d", k)
		assert.Equal(t, want, got[k], "call %d: the server's buffer holds the caller's bytes", k)
		assert.Equal(t, uint64(n), labels[k])
		for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
			want[i], want[j] = want[j], want[i]
		}
		assert.Equal(t, want, replies[k], "call %d: the caller's buffer holds the reply's bytes", k)
	}
	assert.GreaterOrEqual(t, ipc.Handoffs()-h0, uint64(2*len(sizes)-1), "the fastpath carried them")
}

// Either side without an IPC buffer: a caller without one, or asking for more than a page, is
// refused (EINVAL) and nothing is sent; a call to a server thread without one fails (EFAULT)
// and the server goes on waiting — it gets the next call; a buffered reply to a caller
// without one fails the caller's call (EFAULT).
func TestHostIPCBuffersMissingOnEitherSide(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var received []abi.Message
	srv.Thread(func(th *hosted.Thread) { // no IPC buffer: it replies with buffer bytes anyway
		h := register(th, "sensor")
		tf := th.Frame()
		tf.RBX = 0
		r := th.Syscall(abi.SysIPCRecvRegs, uint64(h))
		for r == 0 {
			received = append(received, regsMsg(tf))
			tf.RBX, tf.R12, tf.R13 = 0, 0, 0
			if regsMsg(tf).Label == 3 {
				ipcBuffer(t, th)
				tf.R12, tf.R13 = 10, abi.GrantBuffer
			}
			r = th.Syscall(abi.SysIPCReplyRecvRegs, uint64(h), 0, 0, 0, 0, 0)
		}
	})
	var noBuf, tooMany, toBufferless, plain, bufferedReply int64
	var unregistered bool
	cli.Thread(func(th *hosted.Thread) {
		h := lookup(th, "sensor")
		noBuf, _ = bufferCall(th, h, 1, 10)
		mine := ipcBuffer(t, th)
		tooMany, _ = bufferCall(th, h, 1, abi.IPCBufferSize+1)
		toBufferless, _ = bufferCall(th, h, 1, 10)
		plain, _ = callRegs(th, h, abi.Message{Label: 2}, 0)
		unregistered = th.Syscall(abi.SysIPCBuffer, 0) == int64(mine)
		bufferedReply, _ = callRegs(th, h, abi.Message{Label: 3}, 0)
	})
	hosted.Run()
	assert.Equal(t, -int64(abi.EINVAL), noBuf, "no buffer to send from")
	assert.Equal(t, -int64(abi.EINVAL), tooMany, "more than a page")
	assert.Equal(t, -int64(abi.EFAULT), toBufferless, "the server has no buffer to receive into")
	assert.Equal(t, int64(0), plain, "the server went on waiting and took the next call")
	assert.True(t, unregistered, "unregistering returns the buffer it ends")
	assert.Equal(t, -int64(abi.EFAULT), bufferedReply, "the reply's bytes had nowhere to go")
	require.Len(t, received, 2, "only the plain calls reached the server")
	assert.Equal(t, uint64(2), received[0].Label)
}

// ipc_buffer takes only a page of the thread's own anonymous, writable memory — from every
// ring, three threads each: not unaligned, kernel, grant-window, unmapped or read-only
// pages. Registering returns the buffer replaced. A registered page that the task unmaps or
// makes read-only stops being its buffer (EINVAL at the next call), and a thread that ends
// takes its buffer with it: the next thread in its slot has none.
func TestHostIPCBufferRegistrationsFromEveryRing(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	var got [][]byte
	bufferEchoServer(t, srv, "sensor", &got)
	type result struct {
		ring int
		what string
		r    int64
	}
	var results []result
	var ended []int
	for ring := 1; ring <= 3; ring++ {
		cli := newTask(t, "app"+string(rune('0'+ring)), ring, nil, []string{"sensor"})
		keeper := cli.Map(8)
		cli.Thread(func(th *hosted.Thread) { th.Syscall(abi.SysFutex, uint64(keeper), 0, 0) })
		for k := 0; k < 3; k++ {
			th := cli.Thread(func(th *hosted.Thread) {
				try := func(what string, r int64) { results = append(results, result{ring, what, r}) }
				page := cli.Map(2 * mm.PageSize)
				try("unaligned", th.Syscall(abi.SysIPCBuffer, uint64(page)+8))
				try("none yet", th.Syscall(abi.SysIPCBuffer, 0))
				try("kernel", th.Syscall(abi.SysIPCBuffer, 0xffff_8000_0000_0000))
				try("grant window", th.Syscall(abi.SysIPCBuffer, mm.GrantWindow))
				try("unmapped", th.Syscall(abi.SysIPCBuffer, uint64(page)+3*mm.PageSize))
				ro := cli.Map(mm.PageSize)
				th.Syscall(abi.SysMprotect, uint64(ro), mm.PageSize, 1 /* PROT_READ */)
				try("read-only", th.Syscall(abi.SysIPCBuffer, uint64(ro)))
				h := lookup(th, "sensor")
				other := cli.Map(mm.PageSize)
				try("good", th.Syscall(abi.SysIPCBuffer, uint64(other)))
				try("replace", th.Syscall(abi.SysIPCBuffer, uint64(page))-int64(other)) // returns the one it replaced
				r, _ := bufferCall(th, h, 1, 8)
				try("call", r)
				th.Syscall(abi.SysMprotect, uint64(page), mm.PageSize, 1)
				r, _ = bufferCall(th, h, 1, 8)
				try("after mprotect", r)
				try("again", th.Syscall(abi.SysIPCBuffer, uint64(page)+mm.PageSize)) // the read-only one went: 0
				th.Syscall(abi.SysMunmap, uint64(page)+mm.PageSize, mm.PageSize)
				r, _ = bufferCall(th, h, 1, 8)
				try("after munmap", r)
				try("last", th.Syscall(abi.SysIPCBuffer, uint64(cli.Map(mm.PageSize)))) // the unmapped one went: 0
				// and ends with a buffer registered
			})
			ended = append(ended, th.Slot)
		}
	}
	hosted.Run()
	want := map[string]int64{
		"unaligned": -abi.EINVAL, "none yet": 0, "kernel": -abi.EINVAL, "grant window": -abi.EINVAL, "unmapped": -abi.EINVAL,
		"read-only": -abi.EINVAL, "good": 0, "replace": 0, "call": 0, "after mprotect": -abi.EINVAL, "again": 0,
		"after munmap": -abi.EINVAL, "last": 0,
	}
	require.Len(t, results, 3*3*len(want))
	for _, r := range results {
		assert.Equal(t, want[r.what], r.r, "ring %d: %s", r.ring, r.what)
	}
	assert.Len(t, got, 9, "one call from each thread reached the server")

	cli := newTask(t, "late", 3, nil, []string{"sensor"})
	var late int64
	th := cli.Thread(func(th *hosted.Thread) { late, _ = bufferCall(th, lookup(th, "sensor"), 1, 8) })
	require.Contains(t, ended, th.Slot, "the new thread must take an ended one's slot for this to mean anything")
	hosted.Run()
	assert.Equal(t, -int64(abi.EINVAL), late, "an ended thread's buffer is not its slot's next thread's")
}

// A server's own bad reply — buffer bytes without a buffer, on the register path; a reply it
// cannot read, on the memory path — fails the server's reply-and-receive at once, sends
// nothing and receives nothing: the caller still waits, and the server's next, good reply
// reaches it. (The reply-and-receive used to go on to its receive, which forgot the caller:
// the caller waited for its deadline.)
func TestHostABadReplyLeavesTheCallerWaiting(t *testing.T) {
	for _, regs := range []bool{true, false} {
		hosted.Start()
		srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
		cli := newTask(t, "app", 3, nil, []string{"sensor"})
		var bad, good int64 = 99, 99
		srv.Thread(func(th *hosted.Thread) {
			h := register(th, "sensor")
			tf := th.Frame()
			tf.RBX = 0
			if th.Syscall(abi.SysIPCRecvRegs, uint64(h)) != 0 {
				return
			}
			if regs {
				tf.RBX, tf.R12, tf.R13 = 0, 10, abi.GrantBuffer // it has no IPC buffer
				bad = th.Syscall(abi.SysIPCReplyRecvRegs, uint64(h), 41, 0, 0, 0, 0)
			} else {
				bad = th.Syscall(abi.SysIPCReplyRecv, uint64(h), 0x10, 0) // not its memory
			}
			buf := srv.Map(abi.MessageSize)
			putMsg(srv, buf, abi.Message{Label: 42})
			good = th.Syscall(abi.SysIPCReply, 0, uint64(buf))
		})
		var r int64
		var m abi.Message
		cli.Thread(func(th *hosted.Thread) {
			r, m = callRegs(th, lookup(th, "sensor"), abi.Message{Label: 1}, 50*ms)
		})
		hosted.Run()
		want := -int64(abi.EINVAL)
		if !regs {
			want = -int64(abi.EFAULT)
		}
		assert.Equal(t, want, bad, "regs %v: the bad reply", regs)
		assert.Equal(t, int64(0), good, "regs %v: the good reply after it", regs)
		assert.Equal(t, int64(0), r, "regs %v: the caller got it", regs)
		assert.Equal(t, uint64(42), m.Label, "regs %v", regs)
	}
}
