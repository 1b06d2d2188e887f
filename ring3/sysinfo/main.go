// Command sysinfo is the sample ring-3 application bundled with SimpleOS: an ordinary Go
// program that reports what the Go runtime sees of the machine from inside its own isolated
// address space, then exits 0.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

func main() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	host, _ := os.Hostname()
	fmt.Printf("sysinfo: pid %d on %q, %s/%s, %d CPU, GOMAXPROCS %d, heap %d KiB, time %s\n",
		os.Getpid(), host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0),
		m.HeapAlloc>>10, time.Now().UTC().Format(time.RFC3339))
}
