// Command eventwatch subscribes to the event named by its first argument (a ring-2 security
// module's view of the system) and prints every event it receives until none arrives for 2 s.
//
// Output: "eventwatch: subscribed to NAME", then "eventwatch: got A from pid P" per event
// (A = first argument word), then "eventwatch: quiet, N events"; or
// "eventwatch: subscribe: ..." and exit 1 when the policy refuses.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/simpleos/simpleos/ipc"
)

func main() {
	name := os.Args[1]
	if _, err := ipc.Subscribe(name); err != nil {
		fmt.Printf("eventwatch: subscribe: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("eventwatch: subscribed to %s\n", name)
	n := 0
	for {
		ev, err := ipc.NextEvent(2 * time.Second)
		if err == ipc.ErrTimeout {
			break
		}
		if err != nil {
			fmt.Printf("eventwatch: %v\n", err)
			os.Exit(1)
		}
		n++
		fmt.Printf("eventwatch: got %d from pid %d\n", ev.Args[0], ev.Subject)
	}
	fmt.Printf("eventwatch: quiet, %d events\n", n)
}
