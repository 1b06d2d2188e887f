// Command attack runs the instruction-level attacks of package inject/attack against the
// kernel from the ring it was started in, recovering from each fault itself.
//
// Usage:
//
//	attack insns [FILTER]     every attack of the catalogue (or those whose name contains FILTER)
//	attack ksp ADDR           UD2 with the stack pointer (and RBP) set to ADDR
//	attack kspin ADDR         a 1M-iteration loop with the stack pointer at ADDR: timer
//	                          interrupts arrive while it runs
//
// Output: a line per breach or mismatch, then "attack: ring N: A attacks, P passed, B
// breaches, M mismatches"; exit 0 only if every attack passed.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/simpleos/simpleos/inject/attack"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: attack insns [FILTER] | ksp ADDR | kspin ADDR")
		os.Exit(2)
	}
	ring := attack.Ring()
	var as []attack.Attack
	filter := ""
	switch os.Args[1] {
	case "insns":
		as = attack.Catalogue(ring)
		if len(os.Args) > 2 {
			filter = os.Args[2]
		}
	case "ksp", "kspin":
		if len(os.Args) < 3 {
			fmt.Println("attack: want an address")
			os.Exit(2)
		}
		addr, err := strconv.ParseUint(os.Args[2], 0, 64)
		if err != nil {
			fmt.Printf("attack: bad address %q\n", os.Args[2])
			os.Exit(2)
		}
		as = []attack.Attack{attack.HostileStack(addr, os.Args[1] == "kspin")}
	default:
		fmt.Printf("attack: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
	r, err := attack.RunAll(as, ring, filter, os.Stdout)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	fmt.Println(r.Summary())
	if r.Breaches+r.Mismatches > 0 {
		os.Exit(1)
	}
}
