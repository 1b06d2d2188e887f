// Command nilcrash dereferences nil without recovering. On Linux the Go
// runtime prints "panic: runtime error: invalid memory address or nil pointer
// dereference" plus a goroutine trace to stderr and exits with status 2; under
// SimpleOS the task dies the same way and the kernel reports the fault.
//
// Output (stdout): nilcrash: about to dereference nil
// Exit status: 2.
package main

import "fmt"

//go:noinline
func deref(p *int) int { return *p }

func main() {
	fmt.Println("nilcrash: about to dereference nil")
	var p *int
	fmt.Println("nilcrash: survived", deref(p))
}
