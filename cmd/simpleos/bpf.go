package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/simpleos/simpleos/policy/bpf"
)

// bpfArgs is a parsed `simpleos bpf verify` command line.
type bpfArgs struct {
	hook  bpf.Hook
	files []string
}

func bpfUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: simpleos bpf verify [--hook ipc|event] FILE...")
	fmt.Fprintln(w, "  FILE is a clang -target bpf ELF object or raw little-endian instructions.")
}

func parseBPFArgs(args []string) (bpfArgs, error) {
	if len(args) == 0 || args[0] != "verify" {
		return bpfArgs{}, usageErrorf("bpf: expected the verify subcommand")
	}
	fs := flag.NewFlagSet("simpleos bpf verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	hook := fs.String("hook", "ipc", "hook to verify for: ipc or event")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return bpfArgs{}, err
		}
		return bpfArgs{}, usageErrorf("bpf verify: %v", err)
	}
	var a bpfArgs
	switch *hook {
	case "ipc":
		a.hook = bpf.HookIPCCall
	case "event":
		a.hook = bpf.HookEvent
	default:
		return bpfArgs{}, usageErrorf("bpf verify: unknown hook %q (want ipc or event)", *hook)
	}
	a.files = fs.Args()
	if len(a.files) == 0 {
		return bpfArgs{}, usageErrorf("bpf verify: no FILE given")
	}
	return a, nil
}

// bpfVerifyFile verifies every program in path and prints one line per
// program to w. It reports whether all of them verified.
func bpfVerifyFile(path string, hook bpf.Hook, w io.Writer) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(w, "%s: %v\n", path, err)
		return false
	}
	if !bpf.IsELF(b) {
		p, err := bpf.LoadRaw(b, hook)
		if err != nil {
			fmt.Fprintf(w, "%s: %v\n", path, err)
			return false
		}
		fmt.Fprintf(w, "%s: program %s: ok (%d instructions)\n", path, p.Name(), p.Len())
		return true
	}
	progs, err := bpf.LoadELF(bytes.NewReader(b), hook)
	type line struct{ name, text string }
	var lines []line
	for _, p := range progs {
		lines = append(lines, line{p.Name(), fmt.Sprintf("program %s: ok (%d instructions)", p.Name(), p.Len())})
	}
	ok := err == nil
	if err != nil {
		errs := []error{err}
		if j, isJoin := err.(interface{ Unwrap() []error }); isJoin {
			errs = j.Unwrap()
		}
		for _, e := range errs {
			var le *bpf.LoadError
			name := ""
			if errors.As(e, &le) {
				name = le.Program
			}
			lines = append(lines, line{name, e.Error()})
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].name < lines[j].name })
	for _, l := range lines {
		fmt.Fprintf(w, "%s: %s\n", path, l.text)
	}
	return ok
}

func bpfMain(args []string, stdout, stderr io.Writer) int {
	a, err := parseBPFArgs(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			bpfUsage(stdout)
			return 0
		}
		fmt.Fprintln(stderr, "simpleos:", err)
		bpfUsage(stderr)
		return exitUsage
	}
	status := 0
	for _, f := range a.files {
		if !bpfVerifyFile(f, a.hook, stdout) {
			status = 1
		}
	}
	return status
}

func runBPF(args []string) int { return bpfMain(args, os.Stdout, os.Stderr) }
