// Command heartbeat prints a line every 100 ms, N times (first argument,
// default 20), then exits. Each time it also sends SimpleOS's heartbeat system
// call (0x401), which the watchdog checks; on Linux that call fails with ENOSYS,
// harmlessly. Tests use it as a well-behaved neighbour that must keep making
// progress while other tasks misbehave.
//
// Output: heartbeat 0, heartbeat 1, ..., heartbeat N-1 (one per line).
// Exit status: 0 (2 on a bad argument).
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/abi"
)

func main() {
	n := 20
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 0 {
			fmt.Printf("heartbeat: bad count %q\n", os.Args[1])
			os.Exit(2)
		}
		n = v
	}
	for i := 0; i < n; i++ {
		fmt.Printf("heartbeat %d\n", i)
		syscall.Syscall(abi.SysHeartbeat, 0, 0, 0)
		time.Sleep(100 * time.Millisecond)
	}
}
