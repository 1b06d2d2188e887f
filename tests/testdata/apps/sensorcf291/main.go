// Command sensorcf291 runs the Falcon-like sensor's content interpreter
// (tier2/sensor/content) as a task — the tiered deployment of the CF291 check that the core
// runs in ring 0 with selftest=cf291:monolithic. It screens pipe events with the good channel
// file, applies the bad update and screens again: the native-style interpreter reads the 21st
// of 20 values and faults at 0xdead0000. In ring 2 that kills only this task.
//
// Output: "sensorcf291: ... detections" lines, then the fault.
package main

import (
	"fmt"

	"github.com/simpleos/simpleos/tier2/sensor/content"
)

func screen(c *content.ChannelFile) int {
	hits := 0
	for _, v := range content.DemoEvents() {
		if _, ok := c.MatchNative(&content.NewInput(v).Values); ok {
			hits++
		}
	}
	return hits
}

func main() {
	good, bad := content.Fixtures()
	fmt.Printf("sensorcf291: %s: %d detections\n", good.Name, screen(good))
	fmt.Printf("sensorcf291: applying %s\n", bad.Name)
	fmt.Printf("sensorcf291: %s: %d detections\n", bad.Name, screen(bad))
}
