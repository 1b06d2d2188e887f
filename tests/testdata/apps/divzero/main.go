// Command divzero checks that a divide error (#DE) from a real DIV instruction
// (in assembly, so Go's own zero check is not involved) becomes a Go runtime
// panic: first recovered, then (with argument "crash") not recovered.
//
// Output:
//
//	recovered: runtime error: integer divide by zero
//	divzero ok                        (no argument: exit 0)
//
// With "crash", after the recovered line:
//
//	divzero: dividing by zero without recover
//	(the Go runtime panics: "panic: runtime error: integer divide by zero"
//	 on stderr, exit 2)
package main

import (
	"fmt"
	"os"
)

// div returns a/b using the DIV instruction (insn_amd64.s).
func div(a, b uint64) uint64

var zero uint64 // a variable, so nothing is folded at compile time

func recovered() (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Printf("recovered: %v\n", r)
			ok = true
		}
	}()
	fmt.Printf("divzero: 1/0 = %d without fault\n", div(1, zero))
	return false
}

func main() {
	if !recovered() {
		os.Exit(1)
	}
	if len(os.Args) > 1 && os.Args[1] == "crash" {
		fmt.Println("divzero: dividing by zero without recover")
		fmt.Printf("divzero: 1/0 = %d without fault\n", div(1, zero))
		os.Exit(1)
	}
	fmt.Println("divzero ok")
}
