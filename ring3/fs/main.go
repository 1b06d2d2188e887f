// Command fs is SimpleOS's file-system server, a ring-3 task (docs/files.md). It mounts the
// disk's FAT32 volume at "/" (through the block driver, endpoint "blk") and a memory file
// system at "/tmp", registers endpoint abi.FSEndpoint and answers the file protocol of
// abi/fs.go, which the core's VFS speaks on behalf of every task's file system calls (package
// ring3/fs/server does the work). A few worker threads serve at once, so one task's slow disk
// read does not hold up another's stat.
//
// When the disk cannot be mounted (no block driver, no disk, not FAT32) it says why in one
// line and serves "/" from memory instead, so that the system still runs.
//
// Flags: --tmp-size=SIZE bounds /tmp (and a memory "/"): ENOSPC beyond (default 32MiB);
// --workers=N serving threads (default 4); --blk-wait=D how long to wait for the block driver
// to come up (default 5s).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/fs/memfs"
	"github.com/simpleos/simpleos/ipc"
	"github.com/simpleos/simpleos/ring3/fs/server"
)

func main() {
	flags := flag.NewFlagSet("fs", flag.ExitOnError)
	tmpSize := sizeFlag(32 << 20)
	flags.Var(&tmpSize, "tmp-size", "the most bytes /tmp holds (KiB, MiB, GiB suffixes)")
	workers := flags.Int("workers", 4, "threads serving requests")
	blkWait := flags.Duration("blk-wait", 5*time.Second, "how long to wait for the block driver")
	_ = flags.Parse(os.Args[1:])

	// Register first: the core's calls wait in the endpoint's queue while the disk mounts.
	ep, err := ipc.Register(abi.FSEndpoint)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fs: register %q: %v\n", abi.FSEndpoint, err)
		os.Exit(1)
	}
	s := server.New(server.Options{})
	root, opts, what, err := mountDisk(*blkWait)
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
	for range max(1, *workers) - 1 {
		go serve(ep, s)
	}
	serve(ep, s)
}

// serve is one worker: it answers a request and receives the next in one system call, into
// its own FSRequest, on its own OS thread (the core sends the reply through the thread that
// received the call).
func serve(ep *ipc.Endpoint, s *server.Server) {
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
		req.Msg = s.Handle(req, ipc.GrantOf(&req.Msg))
	}
}
