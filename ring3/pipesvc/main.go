// Command pipesvc is the pipe service: applications create named pipes by calling its "pipes"
// endpoint, and for every pipe it publishes a pipe.created event carrying the name and the
// creator's pid — taken from the call's badge, which the core sets and no caller can forge.
// Security modules subscribed to the event (the sensor) screen it.
//
// Protocol: Label CreatePipe, Words[0..2] the name (1 to 24 bytes, NUL-padded). Reply: Label 0
// and Words[0] the pipe's number, or Label 1 for a bad name.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/simpleos/simpleos/inject/fault"

	"github.com/simpleos/simpleos/ipc"
	"github.com/simpleos/simpleos/tier2/sensor/engine"
)

// publish sends a pipe.created event. The core drops an event a subscriber has no room for,
// so when nobody took it, the service waits a little and tries again (up to 100 ms): flow
// control that keeps a fast creator from outrunning the sensor's screening, and the reason a
// stream of pipes goes no faster than the sensor screens them. With no subscriber at all
// (the sensor restarting), the event is given up after those tries.
func publish(args [4]uint64) {
	for try := 0; try < 100; try++ {
		if n, err := ipc.Publish(engine.PipeEvent, args); err != nil || n > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// CreatePipe is the only request.
const CreatePipe = 1

func main() {
	fault.Arm() // a fault-injection campaign may pass -inject=... (package inject/fault)
	runtime.LockOSThread()
	ep, err := ipc.Register("pipes")
	if err != nil {
		fmt.Println("pipesvc:", err)
		os.Exit(1)
	}
	ipc.Ready() // a restart resumes here, from the core's snapshot
	fmt.Println("pipesvc: serving pipes")
	var created uint64
	err = ep.Serve(func(m ipc.Msg) ipc.Msg {
		name := engine.DecodeName([3]uint64{m.Words[0], m.Words[1], m.Words[2]})
		args, err := engine.PipeArgs(name, m.Badge)
		if m.Label != CreatePipe || err != nil {
			return ipc.Msg{Label: 1}
		}
		created++
		publish(args)
		return ipc.Msg{Words: [4]uint64{created}}
	})
	fmt.Println("pipesvc:", err)
	os.Exit(1)
}
