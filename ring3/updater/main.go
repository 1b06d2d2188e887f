// Command updater plays the vendor's cloud delivering Rapid Response Content: it sends the
// sensor a good channel-file update, then the Channel File 291 update, through the sensor's
// content-update endpoint, and keeps offering the newest file — as the real sensor fetched it
// again after every reboot — until the sensor has it in force, rejects it, or the core has
// quarantined it.
//
// Flags: -good MS and -bad MS: when to send each update after the sensor answers (default
// 300 and 1500); -retry MS: pause between offers (default 300); -offers N: most offers of
// the bad update (default 8).
//
// Output: one "updater: ..." line per offer and a last line "updater: done: ...".
package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/simpleos/simpleos/ipc"
	"github.com/simpleos/simpleos/tier2/sensor/content"
	"github.com/simpleos/simpleos/tier2/sensor/engine"
)

func main() {
	goodAt := flag.Int("good", 300, "send the good update this many `ms` after the sensor answers")
	badAt := flag.Int("bad", 1500, "send the bad update this many `ms` after the sensor answers")
	retry := flag.Int("retry", 300, "pause between offers, `ms`")
	offers := flag.Int("offers", 8, "most offers of the bad update")
	flag.Parse()

	good, bad := content.Fixtures()
	c := ipc.NewClient(engine.UpdateEndpoint, 2*time.Second)
	start := waitForSensor()
	time.Sleep(time.Until(start.Add(time.Duration(*goodAt) * time.Millisecond)))
	offer(c, good)
	time.Sleep(time.Until(start.Add(time.Duration(*badAt) * time.Millisecond)))
	for i := 1; i <= *offers; i++ {
		st, seq, ok := offer(c, bad)
		switch {
		case !ok:
			// The sensor is down or restarting: offer again.
		case st == engine.Rejected, st == engine.Quarantined, st == engine.Malformed:
			fmt.Printf("updater: done: %s %s by the sensor after %d offers; sequence %d in force\n", bad.Name, engine.StatusText(st), i, seq)
			return
		case st == engine.Stale:
			fmt.Printf("updater: done: %s in force after %d offers\n", bad.Name, i)
			return
		}
		time.Sleep(time.Duration(*retry) * time.Millisecond)
	}
	fmt.Printf("updater: done: gave up offering %s after %d offers\n", bad.Name, *offers)
}

// waitForSensor waits until the content-update endpoint exists.
func waitForSensor() time.Time {
	for {
		if _, err := ipc.Lookup(engine.UpdateEndpoint); err == nil {
			return time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func offer(c *ipc.Client, f *content.ChannelFile) (status, seq uint64, ok bool) {
	st, seq, err := engine.SendUpdate(c, f.Name, content.Encode(f))
	if err != nil {
		fmt.Printf("updater: offering %s (sequence %d): %v\n", f.Name, f.Sequence, err)
		return 0, 0, false
	}
	fmt.Printf("updater: offered %s (sequence %d): %s; sequence %d in force\n", f.Name, f.Sequence, engine.StatusText(st), seq)
	return st, seq, true
}
