// Command simpleos builds SimpleOS and boots it in QEMU.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// exitUsage is the status for a command line we could not understand.
const exitUsage = 2

// A command is one `simpleos <name>` subcommand. run returns the process exit status.
type command struct {
	name    string
	summary string
	run     func(args []string) int
}

// commands is the dispatch table; a new subcommand is one more entry here.
var commands = []command{
	{"build", "build build/simpleos.elf and the bootable build/simpleos.img", runBuild},
	{"run", "boot SimpleOS in QEMU (rebuilding when stale); `simpleos run -h` for flags", runRun},
	{"bpf", "`simpleos bpf verify [--hook ipc|event] FILE`: verify policy programs", runBPF},
	{"policy", "`simpleos policy check FILE [--root DIR]`: validate a policy manifest", runPolicy},
	{"inject", "run a fault-injection campaign; `simpleos inject -h` for flags", runInject},
	{"fuzz", "fuzz the system calls from rings 1-3 at once; `simpleos fuzz -h` for flags", runFuzz},
	{"demo", "`simpleos demo cf291`: the Channel File 291 incident in three deployments", runDemo},
	{"content", "`simpleos content check FILE...`: parse and validate channel files", runContent},
	{"bench", "run the benchmark suite; `simpleos bench -h` for flags", runBench},
	{"disk", "`simpleos disk create|ls|cat|put|get IMAGE ...`: the FAT32 disk image", runDisk},
	{"test", "`simpleos test [flags] PKG...`: go test, the test binaries run in SimpleOS", runTest},
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stderr))
}

func dispatch(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:])
		}
	}
	if args[0] != "help" && args[0] != "-h" && args[0] != "--help" {
		fmt.Fprintf(stderr, "simpleos: unknown command %q\n\n", args[0])
	}
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: simpleos <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-8s %s\n", "help", "show this help")
}

// usageError is a command line we could not understand: reported, then exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// fail prints err and returns the matching exit status.
func fail(err error) int {
	fmt.Fprintln(os.Stderr, "simpleos:", err)
	if errors.As(err, new(usageError)) {
		return exitUsage
	}
	return 1
}
