// Command attack attacks one interface of the SimpleOS core the way a hostile module would,
// chosen by its first argument, and reports what the core let it do. Lines containing
// "BREACH" mean the core let it do something it must not; tests/containment_test.go boots it
// in rings 1, 2 and 3.
//
// Modes:
//
//	insns [FILTER]      the instruction-level attacks of package inject/attack
//	ksp ADDR            UD2 with the stack pointer (and RBP) at ADDR
//	kspin ADDR          a loop with the stack pointer at ADDR while timer interrupts arrive
//	grant-serve         serve "grant-test" and attack the pages lent to it (see grant.go)
//	grant-call          lend pages to "grant-test", then give up on the call (timeout, EINTR)
//	mmio-buf PHYS       map granted device memory at PHYS and pass it to system calls as a buffer
//	flood               writev 1024 iovecs over one 32 MiB buffer, five times
//	ticker MS           print the time every 20 ms for MS milliseconds, then the largest gap
//	exhaust             take every pipe, epoll instance, eventfd and thread the core gives it
//	after-exhaust       wait a second, then create the same objects (a bystander)
//	alloc MS MB         wait MS milliseconds, then allocate and touch MB MiB (a bystander)
//	pipe-reuse          read a pipe while a sibling closes it and makes another
//	epoll-reuse         epoll_wait while a sibling closes the epoll descriptor
//	names-serve N...    register each name N
//	names-call N...     look each name N up
//	deny-flood N        N lookups the policy denies, then one more a second later
//	post EVENT          publish EVENT
//	random              read getrandom twice and try to predict the second from the first
//	forge-disk          print a "disk: write" line that would rewrite sensor.chan
//	device              attack the device interface as the driver owning the disk (device.go)
//	device-none         the device system calls from a task that owns no device
//
// Exit status: 0 when every step behaved as a contained task should, 1 otherwise, 2 on bad
// usage.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/simpleos/simpleos/inject/attack"
)

var failed bool

// breach reports something the core must not have allowed.
func breach(format string, args ...any) {
	fmt.Printf("attack: BREACH: "+format+"\n", args...)
	failed = true
}

func say(format string, args ...any) { fmt.Printf("attack: "+format+"\n", args...) }

var modes = map[string]func(args []string){
	"insns":         insns,
	"ksp":           func(a []string) { hostileStack(a, false) },
	"kspin":         func(a []string) { hostileStack(a, true) },
	"grant-serve":   grantServe,
	"grant-call":    grantCall,
	"mmio-buf":      mmioBuf,
	"flood":         flood,
	"ticker":        ticker,
	"exhaust":       exhaust,
	"after-exhaust": afterExhaust,
	"alloc":         alloc,
	"pipe-reuse":    pipeReuse,
	"epoll-reuse":   epollReuse,
	"names-serve":   namesServe,
	"names-call":    namesCall,
	"deny-flood":    denyFlood,
	"post":          post,
	"random":        random,
	"forge-disk":    forgeDisk,
	"device":        device,
	"device-none":   deviceNone,
}

func main() {
	if len(os.Args) < 2 || modes[os.Args[1]] == nil {
		fmt.Println("usage: attack MODE [ARGS] (see the package documentation)")
		os.Exit(2)
	}
	modes[os.Args[1]](os.Args[2:])
	if failed {
		os.Exit(1)
	}
}

func insns(args []string) {
	filter := ""
	if len(args) > 0 {
		filter = args[0]
	}
	runAttacks(attack.Catalogue(attack.Ring()), filter)
}

func hostileStack(args []string, spinning bool) {
	runAttacks([]attack.Attack{attack.HostileStack(number(args, 0), spinning)}, "")
}

func runAttacks(as []attack.Attack, filter string) {
	r, err := attack.RunAll(as, attack.Ring(), filter, os.Stdout)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	fmt.Println(r.Summary())
	if r.Breaches+r.Mismatches > 0 {
		failed = true
	}
}

// number parses args[i] (decimal or 0x hexadecimal).
func number(args []string, i int) uint64 {
	if len(args) <= i {
		fmt.Println("attack: missing argument")
		os.Exit(2)
	}
	v, err := strconv.ParseUint(args[i], 0, 64)
	if err != nil {
		fmt.Printf("attack: bad number %q\n", args[i])
		os.Exit(2)
	}
	return v
}
