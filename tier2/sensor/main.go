// Command sensor is SimpleOS's Falcon-like security sensor as a ring-2 module (the tiered
// deployment; package engine has the code every deployment shares). Flags: -verify makes it
// validate every channel file before accepting it (the verified deployment; the core passes
// it with sensor=verified).
package main

import (
	"fmt"
	"github.com/simpleos/simpleos/inject/fault"
	"os"

	"github.com/simpleos/simpleos/tier2/sensor/engine"
)

func main() {
	fault.Arm() // a fault-injection campaign may pass -inject=... (package inject/fault)
	cfg := engine.Config{Prefix: "sensor: "}
	for _, a := range os.Args[1:] {
		switch a {
		case "-verify":
			cfg.Verify = true
		default:
			fmt.Fprintf(os.Stderr, "sensor: unknown argument %q\n", a)
			os.Exit(2)
		}
	}
	if err := engine.Run(cfg); err != nil {
		fmt.Println("sensor:", err)
		os.Exit(1)
	}
}
