// Command stackoverflow recurses forever (not a tail call, with a local array
// in every frame) so the goroutine stack grows until the Go runtime's limit:
// the runtime prints "runtime: goroutine stack exceeds <limit>-byte limit" and
// "fatal error: stack overflow" on stderr and exits with status 2. The default
// limit is 1 GB; with argument "small" it is set to 1 MiB first
// (debug.SetMaxStack) so the task dies quickly (tests use "small").
//
// Output (stdout): stackoverflow: recursing
// Exit status: 2.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
)

var sink byte

//go:noinline
func recurse(depth int) byte {
	var frame [256]byte
	frame[depth%len(frame)] = byte(depth)
	r := recurse(depth + 1) // not a tail call: the result is used below
	return r + frame[(depth*7)%len(frame)]
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "small" {
		debug.SetMaxStack(1 << 20)
	}
	fmt.Println("stackoverflow: recursing")
	sink = recurse(0)
	fmt.Println("stackoverflow: returned")
}
