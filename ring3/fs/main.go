// Command fs is SimpleOS's file-system server, a ring-3 task (docs/files.md). It mounts the
// disk's FAT32 volume at "/" (through the block driver, endpoint "blk") and a memory file
// system at "/tmp", registers endpoint abi.FSEndpoint and answers the file protocol of
// abi/fs.go, which the core's VFS speaks on behalf of every task's file system calls (package
// ring3/fs/server does the work). A few worker threads serve at once, so one task's slow disk
// read does not hold up another's stat.
//
// When the disk cannot be mounted (no block driver, no disk, not FAT32) it says why in one
// line and serves "/" from memory instead, so that the system still runs. A disk that is
// there but fails a read is mounted again (10 tries, 300 ms apart), then the server exits for
// a restart: it never stands in for a disk it could not read.
//
// Flags: --tmp-size=SIZE bounds /tmp (and a memory "/"): ENOSPC beyond (default 32MiB);
// --workers=N serving threads (default 4); --blk-wait=D how long to wait for the block driver
// to come up (default 5s); --stuck-after=D (default 8s): the server sends the supervisor's
// watchdog a heartbeat every 250 ms while no request has been in a worker for longer than D, so
// that a policy with a watchdog (watchdog 2s) has a hung server killed and restarted;
// --crash-on-open=PATH, for the durability tests only: the server crashes (a nil
// dereference) when asked to open PATH.
//
// A fault-injection campaign may pass -inject=CLASS,...: the file-system classes
// (fs-crash-mid-write, fs-corrupt-read, fs-hang) are committed in the request path by package
// ring3/fs/fsfault.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/fs/memfs"
	"github.com/simpleos/simpleos/inject/fault"
	"github.com/simpleos/simpleos/ipc"
	"github.com/simpleos/simpleos/ring3/fs/fsfault"
	"github.com/simpleos/simpleos/ring3/fs/server"
)

func main() {
	spec, armed := fault.Arm() // a fault-injection campaign may pass -inject=... (package inject/fault)
	flags := flag.NewFlagSet("fs", flag.ExitOnError)
	tmpSize := sizeFlag(32 << 20)
	flags.Var(&tmpSize, "tmp-size", "the most bytes /tmp holds (KiB, MiB, GiB suffixes)")
	workers := flags.Int("workers", 4, "threads serving requests")
	blkWait := flags.Duration("blk-wait", 5*time.Second, "how long to wait for the block driver")
	stuckAfter := flags.Duration("stuck-after", 8*time.Second, "stop the heartbeat when a request takes longer")
	crashOnOpen := flags.String("crash-on-open", "", "crash when asked to open this path (tests only)")
	_ = flags.Parse(os.Args[1:])

	w := &workerSet{busy: make([]atomic.Int64, max(1, *workers)), crashOnOpen: *crashOnOpen}
	go w.heartbeat(*stuckAfter)
	if armed {
		w.sab = fsfault.New(spec)
		if w.sab == nil {
			fmt.Printf("fs: fault %s is not a file-system class: ignored\n", spec.Class)
		} else {
			w.sab.Logf = func(format string, args ...any) { fmt.Printf("fs: "+format+"\n", args...) }
		}
	}

	// Register first: the core's calls wait in the endpoint's queue while the disk mounts.
	ep, err := ipc.Register(abi.FSEndpoint)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fs: register %q: %v\n", abi.FSEndpoint, err)
		os.Exit(1)
	}
	s := server.New(server.Options{})
	root, opts, what, err := mountDisk(*blkWait, w.sab)
	for try := 1; errors.Is(err, errUnreadable); try++ {
		// A disk that is there but failed a read (its driver died under the request): serving
		// "/" from memory instead would hide every file and lose whatever is written there.
		// Try again; in the end exit, and let the supervisor restart (or quarantine) us.
		if try == 10 {
			fmt.Fprintf(os.Stderr, "fs: /: %v: exiting for a restart\n", err)
			os.Exit(1)
		}
		fmt.Printf("fs: /: %v: trying again\n", err)
		time.Sleep(300 * time.Millisecond)
		root, opts, what, err = mountDisk(*blkWait, w.sab)
	}
	if err != nil {
		fmt.Printf("fs: /: %v: serving / from memory instead (nothing written there survives a restart)\n", err)
		root, opts, what = memfs.New(int64(tmpSize)), server.MountOptions{}, "memory, "+formatSize(uint64(tmpSize))
	}
	if err := s.Mount("/", root, opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// /data is where programs the policy does not list keep their files: made when missing.
	switch err := root.Mkdir("data", 0o755); {
	case err == nil:
		if err := root.Sync(); err != nil {
			fmt.Printf("fs: /data: %v\n", err)
		}
		fmt.Println("fs: made /data")
	case !errors.Is(err, syscall.EEXIST):
		fmt.Printf("fs: /data: %v\n", err)
	}
	if err := s.Mount("/tmp", memfs.New(int64(tmpSize)), server.MountOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("fs: serving / (%s) and /tmp (memory, %s)\n", what, formatSize(uint64(tmpSize)))
	for i := 1; i < len(w.busy); i++ {
		go w.serve(ep, s, i)
	}
	w.serve(ep, s, 0)
}

// workerSet is the serving threads: when each started its current request, for the heartbeat.
type workerSet struct {
	busy        []atomic.Int64 // per worker: UnixNano when its request began, 0 when idle
	sab         *fsfault.Sabotage
	crashOnOpen string
}

// heartbeat tells the supervisor's watchdog the server is alive every 250 ms, as long as no
// worker has been on one request for longer than stuck: a hung server stops beating, and a
// policy with a watchdog has it killed and restarted (calls in flight then fail with EIO).
// Without a watchdog in the policy the beats change nothing.
func (w *workerSet) heartbeat(stuck time.Duration) {
	for {
		oldest := int64(0)
		for i := range w.busy {
			if b := w.busy[i].Load(); b != 0 && (oldest == 0 || b < oldest) {
				oldest = b
			}
		}
		if oldest == 0 || time.Since(time.Unix(0, oldest)) < stuck {
			ipc.Heartbeat()
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// serve is worker i: it answers a request and receives the next in one system call, into
// its own FSRequest, on its own OS thread (the core sends the reply through the thread that
// received the call).
func (w *workerSet) serve(ep *ipc.Endpoint, s *server.Server, i int) {
	runtime.LockOSThread()
	req := new(abi.FSRequest) // req.Msg starts as a reply to nobody: the core only receives
	failures := 0
	for {
		if err := ep.ReplyRecvFS(req); err != nil {
			// Nothing was received: nothing to answer. A bad endpoint handle will not heal.
			failures++
			if errors.Is(err, syscall.EBADF) || failures > 100 {
				fmt.Fprintf(os.Stderr, "fs: receive: %v: exiting for a restart\n", err)
				os.Exit(1)
			}
			req.Msg = abi.Message{}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		failures = 0
		w.busy[i].Store(time.Now().UnixNano())
		w.sab.Request() // fs-hang blocks here
		if w.crashOnOpen != "" && req.Msg.Label == abi.FSOpen && cstring(req.Path[:]) == w.crashOnOpen {
			fmt.Printf("fs: --crash-on-open: asked to open %s: crashing\n", w.crashOnOpen)
			var p *int
			*p = 1
		}
		req.Msg = s.Handle(req, ipc.GrantOf(&req.Msg))
		w.busy[i].Store(0)
	}
}

// cstring is b up to its first NUL.
func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
