// Command crashloop crashes on every start (for the quarantine test): it
// prints one line and then dereferences nil without recovering.
//
// Output (stdout): crashloop: starting
// Exit status: 2 (Go runtime panic; the kernel reports the fault).
package main

import "fmt"

//go:noinline
func deref(p *int) int { return *p }

func main() {
	fmt.Println("crashloop: starting")
	var p *int
	fmt.Println("crashloop: survived", deref(p))
}
