package main

import (
	"fmt"
	"io"
	"os"

	"github.com/simpleos/simpleos/tier2/sensor/content"
)

const contentUsage = `usage: simpleos content check FILE...

Parses each channel file (the sensor's content, go doc ./tier2/sensor/content) and validates
it against what the sensor really supplies, as the verified deployment does. Prints
"FILE: ok (channel C, sequence S, N instances)" or every problem, naming the file and the
offset or the instance and field. Exit status: 0 all ok, 1 problems, 2 bad command line.
`

// runContent is `simpleos content check FILE...`.
func runContent(args []string) int { return contentMain(args, os.Stdout, os.Stderr) }

func contentMain(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "check" {
		fmt.Fprint(stderr, contentUsage)
		return exitUsage
	}
	status := 0
	for _, file := range args[1:] {
		b, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(stderr, "simpleos: content:", err)
			status = 1
			continue
		}
		c, err := content.Parse(file, b)
		if err == nil {
			err = content.Validate(c, content.SensorSupplies())
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (channel %d, sequence %d, %d instances)\n", file, c.Channel, c.Sequence, len(c.Instances))
	}
	return status
}
