package main

// The sensor's deployments (sensor= on the kernel command line): the same code, package
// tier2/sensor/engine, runs as the ring-2 task "sensor" (tiered, and verified with -verify)
// or inside the core itself (monolithic), where a fault in it is a fault of the kernel.

import (
	"fmt"
	"os"

	"github.com/simpleos/simpleos/tier2/sensor/engine"
)

// sensorModule is the sensor's module name in the policy.
const sensorModule = "sensor"

func sensorMode(args map[string]string) (string, error) {
	switch m := args["sensor"]; m {
	case "", "tiered":
		return "tiered", nil
	case "verified", "monolithic":
		return m, nil
	default:
		return "", fmt.Errorf("sensor=%q: want tiered, verified or monolithic", m)
	}
}

// runSensorInCore is the monolithic deployment: the sensor's main loop in a core goroutine,
// in ring 0, with the core's privileges and none of a task's containment.
func runSensorInCore() {
	fmt.Println("core: sensor linked into the core (monolithic): it runs in ring 0")
	if err := engine.Run(engine.Config{Prefix: "core: sensor: "}); err != nil {
		fmt.Fprintln(os.Stderr, "core: sensor:", err)
	}
}
