// Command app is the demo's application: it does its work — creating named pipes through the
// pipe service, as programs on a Windows machine do all day — and reports how much it got
// done. Arguments: the number of pipes (default 120) and the pause between them in
// milliseconds (default 40).
//
// Output: "app: N/M pipes created" every ten pipes, then
// "app: done: N/M pipes created in DURATION (R pipes/s)".
// Exit status 0 when every pipe was created.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/simpleos/simpleos/ipc"
	"github.com/simpleos/simpleos/tier2/sensor/engine"
)

// names cycles through benign and suspicious pipe names (the good content detects the
// MSSE, PSEXESVC and postex ones).
var names = []string{
	"chrome.sync.%d", "MSSE-%d-server", "mojo.%d", "PSEXESVC", "spoolss.%d", "postex_%04d",
	"wkssvc.%d", "crashpad_%d",
}

func arg(i, def int) int {
	if len(os.Args) > i {
		if v, err := strconv.Atoi(os.Args[i]); err == nil && v >= 0 {
			return v
		}
		fmt.Printf("app: bad argument %q\n", os.Args[i])
		os.Exit(2)
	}
	return def
}

func main() {
	total, pause := arg(1, 120), arg(2, 40)
	start := time.Now()
	c := ipc.NewClient("pipes", time.Second)
	done := 0
	for i := 0; i < total; i++ {
		name := names[i%len(names)]
		if strings.Contains(name, "%") {
			name = fmt.Sprintf(name, 1000+i)
		}
		a, _ := engine.PipeArgs(name, 0)
		for try := 0; try < 50; try++ { // the service may still be starting or restarting
			r, err := c.Call(ipc.Msg{Label: 1, Words: [4]uint64{a[0], a[1], a[2]}})
			if err == nil && r.Label == 0 {
				done++
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if (i+1)%10 == 0 {
			fmt.Printf("app: %d/%d pipes created\n", done, total)
		}
		time.Sleep(time.Duration(pause) * time.Millisecond)
	}
	took := time.Since(start)
	fmt.Printf("app: done: %d/%d pipes created in %v (%.0f pipes/s)\n", done, total, took.Round(time.Millisecond), float64(done)/took.Seconds())
	if done != total {
		os.Exit(1)
	}
}
