// Command eventpub publishes the event named by its first argument once per following
// argument (a number, the event's first word), after waiting 300 ms for subscribers.
//
// Output: "eventpub: NAME V delivered to N" per event.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/simpleos/simpleos/ipc"
)

func main() {
	time.Sleep(300 * time.Millisecond)
	name := os.Args[1]
	for _, a := range os.Args[2:] {
		v, _ := strconv.ParseUint(a, 10, 64)
		n, err := ipc.Publish(name, [4]uint64{v, 0, 0, 0})
		if err != nil {
			fmt.Printf("eventpub: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("eventpub: %s %d delivered to %d\n", name, v, n)
	}
}
