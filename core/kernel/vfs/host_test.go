package vfs_test

// The VFS on the host (package hosted): a client task's file system calls go through the
// kernel's trap path to a server task that serves endpoint "fs" with the real file-system
// server (ring3/fs/server) over memory file systems, its grants read and written as the
// kernel lent them.

import (
	"encoding/binary"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/hosted"
	"github.com/simpleos/simpleos/fs/memfs"
	"github.com/simpleos/simpleos/ring3/fs/server"
)

// fileServer starts a task serving "fs" with a server over memory file systems at / and /tmp
// (with /data made), one thread.
func fileServer(t *testing.T) *hosted.Task {
	t.Helper()
	srv, err := hosted.NewTask(kernel.TaskSpec{Name: "fs", Ring: 3, Serves: []string{abi.FSEndpoint}})
	require.NoError(t, err)
	s := server.New(server.Options{})
	root := memfs.New(1 << 20)
	require.NoError(t, root.Mkdir("data", 0o755))
	require.NoError(t, s.Mount("/", root, server.MountOptions{}))
	require.NoError(t, s.Mount("/tmp", memfs.New(1<<20), server.MountOptions{}))
	srv.Thread(func(th *hosted.Thread) {
		va, n := th.Task.String(abi.FSEndpoint)
		h := th.Syscall(abi.SysIPCRegister, va, n)
		buf := th.Task.Map(abi.FSRequestSize)
		th.Task.Write(buf, make([]byte, abi.MessageSize)) // no reply owed yet
		for {
			if r := th.Syscall(abi.SysIPCReplyRecv, uint64(h), uint64(buf), 0); r != 0 {
				return
			}
			var req abi.FSRequest
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&req)), abi.FSRequestSize), th.Task.Read(buf, abi.FSRequestSize))
			var grant []byte
			pages := req.Msg.GrantPages &^ abi.GrantWrite
			if pages != 0 {
				grant = th.Task.Read(uintptr(req.Msg.GrantAddr), int(pages)*4096)
			}
			reply := s.Handle(&req, grant)
			t.Logf("server: op %d words %v path %q grant %d -> label %d", req.Msg.Label, req.Msg.Words, cString(req.Path[:]), len(grant), int64(reply.Label))
			if pages != 0 && req.Msg.GrantPages&abi.GrantWrite != 0 {
				th.Task.Write(uintptr(req.Msg.GrantAddr), grant)
			}
			th.Task.Write(buf, unsafe.Slice((*byte)(unsafe.Pointer(&reply)), abi.MessageSize))
		}
	})
	return srv
}

// client is a task with the grants an unlisted program gets: /data and /tmp read-write.
func client(t *testing.T, files ...string) *hosted.Task {
	t.Helper()
	if files == nil {
		files = []string{"/data:rw", "/tmp:rw"}
	}
	c, err := hosted.NewTask(kernel.TaskSpec{Name: "app", Ring: 3, Files: files, Cwd: "/data"})
	require.NoError(t, err)
	return c
}

// cstr puts a NUL-terminated path in the task's memory.
func cstr(tk *hosted.Task, s string) uint64 {
	va, _ := tk.String(s)
	return va
}

const atFDCWD = uint64(1<<64 - 100)

func open(th *hosted.Thread, path string, flags, mode uint64) int64 {
	return th.Syscall(abi.SysOpenat, atFDCWD, cstr(th.Task, path), flags, mode)
}

func write(th *hosted.Thread, fd int64, b []byte) int64 {
	va := th.Task.Map(len(b))
	th.Task.Write(va, b)
	return th.Syscall(abi.SysWrite, uint64(fd), uint64(va), uint64(len(b)))
}

func read(th *hosted.Thread, fd int64, n int) ([]byte, int64) {
	va := th.Task.Map(n)
	r := th.Syscall(abi.SysRead, uint64(fd), uint64(va), uint64(n))
	if r < 0 {
		return nil, r
	}
	return th.Task.Read(va, int(r)), r
}

func errno(e syscall.Errno) int64 { return -int64(e) }

func TestCreateWriteReadStatThroughTheServer(t *testing.T) {
	hosted.Start()
	fileServer(t)
	app := client(t)
	var got struct {
		fd, wrote, off, closed int64
		back                   []byte
		size                   uint64
		mode                   uint32
		excl, missing, denied  int64
		wd                     string
	}
	app.Thread(func(th *hosted.Thread) {
		settle(th)
		got.fd = open(th, "/data/hello", abi.O_CREAT|abi.O_RDWR, 0o644)
		got.wrote = write(th, got.fd, []byte("hello, world"))
		got.off = th.Syscall(abi.SysLseek, uint64(got.fd), 0, 0)
		got.back, _ = read(th, got.fd, 100)
		st := th.Task.Map(144)
		if th.Syscall(abi.SysFstat, uint64(got.fd), uint64(st)) == 0 {
			b := th.Task.Read(st, 144)
			got.size = binary.LittleEndian.Uint64(b[48:])
			got.mode = binary.LittleEndian.Uint32(b[24:])
		}
		got.closed = th.Syscall(abi.SysClose, uint64(got.fd))
		got.excl = open(th, "hello", abi.O_CREAT|abi.O_EXCL|abi.O_WRONLY, 0o644) // relative to /data
		got.missing = open(th, "/data/nope", 0, 0)
		got.denied = open(th, "/etc/passwd", 0, 0)
		buf := th.Task.Map(64)
		if n := th.Syscall(abi.SysGetcwd, uint64(buf), 64); n > 0 {
			got.wd = string(th.Task.Read(buf, int(n)-1))
		}
	})
	hosted.Run()
	assert.EqualValues(t, 3, got.fd, "the lowest free descriptor")
	assert.EqualValues(t, 12, got.wrote)
	assert.EqualValues(t, 0, got.off)
	assert.Equal(t, "hello, world", string(got.back))
	assert.EqualValues(t, 12, got.size)
	assert.EqualValues(t, abi.S_IFREG, got.mode&abi.S_IFMT)
	assert.EqualValues(t, 0, got.closed)
	assert.Equal(t, errno(syscall.EEXIST), got.excl)
	assert.Equal(t, errno(syscall.ENOENT), got.missing)
	assert.Equal(t, errno(syscall.EACCES), got.denied)
	assert.Contains(t, hosted.Output(), `open "/etc/passwd": not in its policy's files grants`)
	assert.Equal(t, "/data", got.wd)
}

func TestNoServerMeansNoFiles(t *testing.T) {
	hosted.Start()
	app := client(t)
	var r int64
	app.Thread(func(th *hosted.Thread) { r = open(th, "/data/x", 0, 0) })
	hosted.Run()
	assert.Equal(t, errno(syscall.ENOENT), r)
}

// settle lets the server register first.
func settle(th *hosted.Thread) {
	th.Syscall(abi.SysNanosleep, uint64(th.Task.Timespec(1e6)), 0)
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func TestLargeTransfersAreShortAndWhole(t *testing.T) {
	hosted.Start()
	fileServer(t)
	app := client(t)
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var wrote []int64
	var back []byte
	app.Thread(func(th *hosted.Thread) {
		settle(th)
		fd := open(th, "/tmp/big", abi.O_CREAT|abi.O_RDWR, 0o644)
		va := th.Task.Map(len(data) + 100)
		th.Task.Write(va+100, data) // not page-aligned
		for off := 0; off < len(data); {
			r := th.Syscall(abi.SysWrite, uint64(fd), uint64(va+100+uintptr(off)), uint64(len(data)-off))
			wrote = append(wrote, r)
			if r <= 0 {
				return
			}
			off += int(r)
		}
		th.Syscall(abi.SysLseek, uint64(fd), 0, 0)
		for len(back) < len(data) {
			b, r := read(th, fd, len(data))
			if r <= 0 {
				return
			}
			back = append(back, b...)
		}
	})
	hosted.Run()
	require.NotEmpty(t, wrote)
	assert.EqualValues(t, 16*4096-100, wrote[0], "one request: what 16 pages hold from the buffer's offset")
	assert.Equal(t, data, back)
}

// A server of "fs" that receives on the IPC register path cannot take a file call: the core
// sends the call's paths after the message, and registers hold the message only. The file
// call fails with EIO, whether the server was waiting already or the call was queued first,
// and never waits for a receiver that will not come.
func TestAFileServerOnTheRegisterPathFailsFileCallsWithEIO(t *testing.T) {
	for _, serverFirst := range []bool{true, false} {
		hosted.Start()
		srv, err := hosted.NewTask(kernel.TaskSpec{Name: "fs", Ring: 3, Serves: []string{abi.FSEndpoint}})
		require.NoError(t, err)
		app := client(t)
		var registered bool
		var received []int64
		srv.Thread(func(th *hosted.Thread) {
			va, n := th.Task.String(abi.FSEndpoint)
			h := th.Syscall(abi.SysIPCRegister, va, n)
			registered = h > 0
			if !serverFirst {
				th.Syscall(abi.SysSchedYield) // the app's call queues first
			}
			for range 2 {
				th.Frame().RBX = 50_000_000 // a timeout: nothing more comes
				received = append(received, th.Syscall(abi.SysIPCRecvRegs, uint64(h)))
			}
		})
		var opened int64 = 1
		app.Thread(func(th *hosted.Thread) {
			opened = open(th, "/data/x", 0, 0)
		})
		hosted.Run()
		require.True(t, registered, "server first: %v", serverFirst)
		assert.Equal(t, errno(syscall.EIO), opened, "server first: %v", serverFirst)
		assert.NotContains(t, received, int64(0), "server first: %v: no call arrived in registers", serverFirst)
		assert.Equal(t, errno(syscall.ETIMEDOUT), received[len(received)-1], "server first: %v: the call is gone from the queue", serverFirst)
	}
}
