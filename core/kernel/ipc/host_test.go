package ipc_test

// IPC on the host (package hosted): real tasks with their policy grants, threads that make
// the system calls, the kernel's own dispatcher and fast path.

import (
	"fmt"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/hosted"
	"github.com/simpleos/simpleos/core/kernel/ipc"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

const forever = 0 // no timeout

func newTask(t *testing.T, name string, ring int, serves, calls []string) *hosted.Task {
	t.Helper()
	tk, err := hosted.NewTask(kernel.TaskSpec{Name: name, Ring: ring, Serves: serves, Calls: calls})
	require.NoError(t, err)
	return tk
}

func msgBytes(m abi.Message) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&m)), abi.MessageSize)
}

func putMsg(tk *hosted.Task, va uintptr, m abi.Message) { tk.Write(va, msgBytes(m)) }

func getMsg(tk *hosted.Task, va uintptr) abi.Message {
	var m abi.Message
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&m)), abi.MessageSize), tk.Read(va, abi.MessageSize))
	return m
}

func register(th *hosted.Thread, name string) int64 {
	va, n := th.Task.String(name)
	return th.Syscall(abi.SysIPCRegister, va, n)
}

func lookup(th *hosted.Thread, name string) int64 {
	va, n := th.Task.String(name)
	return th.Syscall(abi.SysIPCLookup, va, n)
}

// echoServer serves name until its endpoint's calls stop coming: each reply's words are the
// call's plus one and its label the caller's badge. It records each call it received. The
// endpoint's handle is *handle once the server has run.
func echoServer(t *testing.T, srv *hosted.Task, name string, got *[]abi.Message) (handle *int64) {
	handle = new(int64)
	srv.Thread(func(th *hosted.Thread) {
		h := register(th, name)
		*handle = h
		if !assert.Positive(t, h, "register") {
			return
		}
		buf := srv.Map(abi.MessageSize)
		r := th.Syscall(abi.SysIPCRecv, uint64(h), uint64(buf), forever)
		for r == 0 {
			m := getMsg(srv, buf)
			*got = append(*got, m)
			putMsg(srv, buf, echoReply(m))
			r = th.Syscall(abi.SysIPCReplyRecv, uint64(h), uint64(buf), forever)
		}
	})
	return handle
}

// echoReply is the echo servers' answer to m: the caller's badge as label, each word plus one.
func echoReply(m abi.Message) abi.Message {
	reply := abi.Message{Label: m.Badge}
	for i := range m.Words {
		reply.Words[i] = m.Words[i] + 1
	}
	return reply
}

func TestHostRoundTripBadgesBothWays(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var received []abi.Message
	echoServer(t, srv, "sensor", &received)
	var replies []abi.Message
	var results []int64
	calls0, fast0, _ := ipc.Stats()
	cli.Thread(func(th *hosted.Thread) {
		h := lookup(th, "sensor")
		buf := cli.Map(abi.MessageSize)
		for i := uint64(0); i < 3; i++ {
			// The caller tries to forge its badge; the kernel writes its pid over it.
			putMsg(cli, buf, abi.Message{Label: 7, Words: [4]uint64{i, 10 * i, 0, 1}, Badge: 999})
			results = append(results, th.Syscall(abi.SysIPCCall, uint64(h), uint64(buf), forever))
			replies = append(replies, getMsg(cli, buf))
		}
	})
	hosted.Run()

	assert.Equal(t, []int64{0, 0, 0}, results)
	require.Len(t, received, 3)
	require.Len(t, replies, 3)
	for i, m := range received {
		assert.Equal(t, uint64(cli.PID()), m.Badge, "the server sees the caller's pid, not the forged badge")
		assert.Equal(t, uint64(7), m.Label)
		assert.Equal(t, [4]uint64{uint64(i), 10 * uint64(i), 0, 1}, m.Words)
		assert.Equal(t, uint64(srv.PID()), replies[i].Badge, "the caller sees the server's pid")
		assert.Equal(t, uint64(cli.PID()), replies[i].Label)
		assert.Equal(t, [4]uint64{uint64(i) + 1, 10*uint64(i) + 1, 1, 2}, replies[i].Words)
	}
	calls, fast, _ := ipc.Stats()
	assert.Equal(t, uint64(3), calls-calls0)
	assert.Equal(t, uint64(3), fast-fast0, "the server was waiting each time: the fast path")
}

func TestHostPolicyIsCheckedOnEveryCall(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	rogue := newTask(t, "rogue", 3, nil, []string{"other"})
	var received []abi.Message
	handle := echoServer(t, srv, "sensor", &received) // the server runs first: it has the lower slot
	var lookupR, callR, registerR, dupR int64
	rogue.Thread(func(th *hosted.Thread) {
		lookupR = lookup(th, "sensor")
		buf := rogue.Map(abi.MessageSize)
		// Handles can be guessed (an index and a generation): the rogue guesses right.
		callR = th.Syscall(abi.SysIPCCall, uint64(*handle), uint64(buf), forever)
		registerR = register(th, "sensor2")
	})
	srv.Thread(func(th *hosted.Thread) { dupR = register(th, "sensor") })
	hosted.Run()
	assert.Equal(t, int64(-abi.EPERM), lookupR)
	assert.Equal(t, int64(-abi.EPERM), callR, "a guessed handle gets no further than a lookup")
	assert.Equal(t, int64(-abi.EPERM), registerR)
	assert.Equal(t, int64(-abi.EEXIST), dupR, "a name has one server")
	assert.Empty(t, received)
	out := hosted.Output()
	assert.Contains(t, out, `call "sensor": not in its policy 'calls' list`)
	assert.Contains(t, out, `register "sensor2": not in its policy 'serves' list`)
}

func TestHostATaskCannotCallItself(t *testing.T) {
	hosted.Start()
	tk := newTask(t, "loop", 2, []string{"self"}, []string{"self"})
	var r int64
	tk.Thread(func(th *hosted.Thread) {
		h := register(th, "self")
		buf := tk.Map(abi.MessageSize)
		r = th.Syscall(abi.SysIPCCall, uint64(h), uint64(buf), forever)
	})
	hosted.Run()
	assert.Equal(t, int64(-abi.EDEADLK), r)
}

func TestHostBadMessagesGetErrors(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var received []abi.Message
	echoServer(t, srv, "sensor", &received)
	var r []int64
	cli.Thread(func(th *hosted.Thread) {
		h := uint64(lookup(th, "sensor"))
		buf := cli.Map(abi.MessageSize)
		r = append(r,
			th.Syscall(abi.SysIPCCall, h, 0x10, forever),                  // not its memory
			th.Syscall(abi.SysIPCCall, h, mm.DirectMapBase, forever),      // the kernel's
			th.Syscall(abi.SysIPCCall, h, uint64(buf)+4090, forever),      // runs off its region
			th.Syscall(abi.SysIPCCall, h+1<<16, uint64(buf), forever),     // a stale generation
			th.Syscall(abi.SysIPCCall, 0xffff_ffff, uint64(buf), forever), // no such endpoint
		)
		putMsg(cli, buf, abi.Message{GrantAddr: uint64(buf), GrantPages: abi.MaxGrantPages + 1})
		r = append(r, th.Syscall(abi.SysIPCCall, h, uint64(buf), forever))
		putMsg(cli, buf, abi.Message{GrantAddr: uint64(buf) + 1, GrantPages: 1})
		r = append(r, th.Syscall(abi.SysIPCCall, h, uint64(buf), forever))
		putMsg(cli, buf, abi.Message{GrantAddr: mm.GrantWindow, GrantPages: 1})
		r = append(r, th.Syscall(abi.SysIPCCall, h, uint64(buf), forever))
	})
	hosted.Run()
	e := func(n int) int64 { return -int64(n) }
	assert.Equal(t, []int64{e(abi.EFAULT), e(abi.EFAULT), e(abi.EFAULT), e(abi.ECONNRESET), e(abi.ECONNRESET),
		e(abi.EINVAL), e(abi.EINVAL), e(abi.EINVAL)}, r)
	assert.Empty(t, received, "no bad call reached the server")
}

func TestHostManyCallersRacingGetTheirOwnReplies(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	var received []abi.Message
	echoServer(t, srv, "sensor", &received)
	const clients, threads, calls = 4, 3, 20
	wrong := 0
	done := 0
	for c := range clients {
		cli := newTask(t, fmt.Sprint("app", c), 3, nil, []string{"sensor"})
		for th := range threads {
			cli.Thread(func(x *hosted.Thread) {
				h := uint64(lookup(x, "sensor"))
				buf := cli.Map(abi.MessageSize)
				for i := range uint64(calls) {
					tag := uint64(c)<<32 | uint64(th)<<16 | i
					putMsg(cli, buf, abi.Message{Words: [4]uint64{tag}})
					r := x.Syscall(abi.SysIPCCall, h, uint64(buf), forever)
					m := getMsg(cli, buf)
					if r != 0 || m.Words[0] != tag+1 || m.Label != uint64(cli.PID()) {
						wrong++
					}
					if i%3 == 0 {
						x.Syscall(abi.SysSchedYield) // let the others in between
					}
				}
				done++
			})
		}
	}
	hosted.Run()
	assert.Equal(t, clients*threads, done)
	assert.Zero(t, wrong)
	assert.Len(t, received, clients*threads*calls)
}

func TestHostServerDeathFailsItsCallersAndItsHandles(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var h int64
	var queued, taken []int64
	srv.Thread(func(th *hosted.Thread) {
		h = register(th, "sensor")
		buf := srv.Map(abi.MessageSize)
		th.Syscall(abi.SysIPCRecv, uint64(h), uint64(buf), forever) // takes one call, never replies
		th.Syscall(abi.SysSchedYield)                               // the other caller queues meanwhile
		th.Syscall(abi.SysExitGroup, 3)
	})
	for i := range 2 {
		cli.Thread(func(th *hosted.Thread) {
			buf := cli.Map(abi.MessageSize)
			r := th.Syscall(abi.SysIPCCall, uint64(lookup(th, "sensor")), uint64(buf), forever)
			if i == 0 {
				taken = append(taken, r)
			} else {
				queued = append(queued, r)
			}
		})
	}
	hosted.Run()
	assert.Equal(t, []int64{-abi.ECONNRESET}, taken, "the call the server had taken")
	assert.Equal(t, []int64{-abi.ECONNRESET}, queued, "the call still queued")
	ends := hosted.Ends()
	require.Len(t, ends, 2, "the server, and the client whose threads all returned")
	assert.Equal(t, srv.PID(), ends[0].PID)
	assert.Equal(t, kernel.TaskExited, ends[0].Reason)
	assert.Equal(t, int64(3), ends[0].Code)

	// A restarted server registers the name again: the old handle is dead, the name resolves
	// to the new endpoint.
	srv2 := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	var received []abi.Message
	echoServer(t, srv2, "sensor", &received)
	var stale, fresh int64
	cli = newTask(t, "app", 3, nil, []string{"sensor"})
	cli.Thread(func(th *hosted.Thread) {
		buf := cli.Map(abi.MessageSize)
		stale = th.Syscall(abi.SysIPCCall, uint64(h), uint64(buf), forever)
		h2 := lookup(th, "sensor")
		assert.NotEqual(t, h, h2)
		fresh = th.Syscall(abi.SysIPCCall, uint64(h2), uint64(buf), forever)
	})
	hosted.Run()
	assert.Equal(t, int64(-abi.ECONNRESET), stale)
	assert.Equal(t, int64(0), fresh)
	assert.Len(t, received, 1)
}

func TestHostTimeoutsEndCallsAndReceives(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var recvR, callR, lateReply int64
	srv.Thread(func(th *hosted.Thread) {
		h := register(th, "sensor")
		buf := srv.Map(abi.MessageSize)
		recvR = th.Syscall(abi.SysIPCRecv, uint64(h), uint64(buf), 1_000_000) // nobody calls
		r := th.Syscall(abi.SysIPCRecv, uint64(h), uint64(buf), forever)
		if assert.Zero(t, r) {
			th.Syscall(abi.SysNanosleep, uint64(srv.Timespec(5_000_000))) // past the caller's deadline
			lateReply = th.Syscall(abi.SysIPCReply, 0, uint64(buf))
		}
	})
	cli.Thread(func(th *hosted.Thread) {
		th.Syscall(abi.SysNanosleep, uint64(cli.Timespec(2_000_000))) // after the first receive timed out
		buf := cli.Map(abi.MessageSize)
		callR = th.Syscall(abi.SysIPCCall, uint64(lookup(th, "sensor")), uint64(buf), 1_000_000)
	})
	hosted.Run()
	assert.Equal(t, int64(-abi.ETIMEDOUT), recvR)
	assert.Equal(t, int64(-abi.ETIMEDOUT), callR)
	assert.Equal(t, int64(-abi.ESRCH), lateReply, "the caller gave up: the reply finds nobody")
}

// grantServer receives one call on name and hands its code the message, then replies.
func grantServer(t *testing.T, srv *hosted.Task, name string, code func(th *hosted.Thread, m abi.Message), replyR *int64) {
	srv.Thread(func(th *hosted.Thread) {
		h := register(th, name)
		buf := srv.Map(abi.MessageSize)
		if !assert.Zero(t, th.Syscall(abi.SysIPCRecv, uint64(h), uint64(buf), forever)) {
			return
		}
		code(th, getMsg(srv, buf))
		*replyR = th.Syscall(abi.SysIPCReply, 0, uint64(buf))
	})
}

// lender is a client that lends pages of its memory holding data to name's server. It lives
// on for 20 ms after its call (its end would end the loan too).
func lender(t *testing.T, cli *hosted.Task, name string, pages int, timeout uint64, callR *int64) uintptr {
	lent := cli.Map(pages * mm.PageSize)
	for p := range pages {
		cli.Write(lent+uintptr(p*mm.PageSize), []byte(fmt.Sprint("page ", p)))
	}
	cli.Thread(func(th *hosted.Thread) {
		buf := cli.Map(abi.MessageSize)
		putMsg(cli, buf, abi.Message{GrantAddr: uint64(lent), GrantPages: uint64(pages)})
		*callR = th.Syscall(abi.SysIPCCall, uint64(lookup(th, name)), uint64(buf), timeout)
		th.Syscall(abi.SysNanosleep, uint64(cli.Timespec(20_000_000)))
	})
	return lent
}

func TestHostGrantsAreReadOnlyAndEndWithTheCall(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var replyR, callR int64
	var window uint64
	var during []string
	var attacks map[string]int64
	grantServer(t, srv, "sensor", func(th *hosted.Thread, m abi.Message) {
		window = m.GrantAddr
		assert.Equal(t, uint64(2), m.GrantPages)
		for p := range 2 {
			b, ok := srv.Peek(uintptr(window)+uintptr(p*mm.PageSize), 6)
			assert.True(t, ok)
			during = append(during, string(b))
		}
		w := window
		attacks = map[string]int64{
			"write through a system call": th.Syscall(abi.SysGetrandom, w, 8, 0),
			"munmap":                      th.Syscall(abi.SysMunmap, w, mm.PageSize),
			"mprotect writable":           th.Syscall(abi.SysMprotect, w, mm.PageSize, syscall.PROT_READ|syscall.PROT_WRITE),
			"mmap MAP_FIXED over it":      th.Syscall(abi.SysMmap, w, mm.PageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_FIXED|syscall.MAP_ANON),
		}
	}, &replyR)
	lender(t, cli, "sensor", 2, forever, &callR)
	hosted.Run()

	assert.Equal(t, []string{"page 0", "page 1"}, during, "the server reads the lent pages")
	for what, r := range attacks {
		assert.Negative(t, r, what)
	}
	assert.Zero(t, replyR)
	assert.Zero(t, callR)
	_, ok := srv.Peek(uintptr(window), 1)
	assert.False(t, ok, "the reply ended the loan: the window is gone")
}

func TestHostAGrantEndsWhenItsCallerGivesUp(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var replyR, callR int64
	var before, after bool
	grantServer(t, srv, "sensor", func(th *hosted.Thread, m abi.Message) {
		_, before = srv.Peek(uintptr(m.GrantAddr), 1)
		th.Syscall(abi.SysNanosleep, uint64(srv.Timespec(5_000_000))) // past the caller's deadline
		_, after = srv.Peek(uintptr(m.GrantAddr), 1)
	}, &replyR)
	lender(t, cli, "sensor", 1, 1_000_000, &callR)
	hosted.Run()
	assert.True(t, before)
	assert.Equal(t, int64(-abi.ETIMEDOUT), callR)
	assert.False(t, after, "the caller timed out: its pages left the server")
	assert.Equal(t, int64(-abi.ESRCH), replyR)
}

func TestHostAGrantEndsWhenTheLenderUnmapsIt(t *testing.T) {
	hosted.Start()
	srv := newTask(t, "sensor", 2, []string{"sensor"}, nil)
	cli := newTask(t, "app", 3, nil, []string{"sensor"})
	var replyR, callR, unmapR int64
	var before, after bool
	grantServer(t, srv, "sensor", func(th *hosted.Thread, m abi.Message) {
		_, before = srv.Peek(uintptr(m.GrantAddr), 1)
		th.Syscall(abi.SysNanosleep, uint64(srv.Timespec(5_000_000)))
		_, after = srv.Peek(uintptr(m.GrantAddr), 1)
	}, &replyR)
	lent := lender(t, cli, "sensor", 2, forever, &callR)
	// A sibling of the caller frees the lent pages while the server holds them.
	cli.Thread(func(th *hosted.Thread) {
		th.Syscall(abi.SysNanosleep, uint64(cli.Timespec(1_000_000)))
		unmapR = th.Syscall(abi.SysMunmap, uint64(lent), 2*mm.PageSize)
	})
	frames := kernel.Frames().Free
	hosted.Run()
	assert.True(t, before)
	assert.Zero(t, unmapR)
	assert.False(t, after, "the lender's unmap took the pages back from the server first")
	assert.Zero(t, replyR, "the call itself goes on")
	assert.Zero(t, callR)
	assert.Greater(t, kernel.Frames().Free, frames, "the frames were freed, with no mapping left to them")
}
