package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/simpleos/simpleos/policy"
)

// runPolicy is `simpleos policy check FILE [--root DIR]`.
func runPolicy(args []string) int {
	return policyMain(args, os.Stdout, os.Stderr)
}

const policyUsage = `usage: simpleos policy check FILE [--root DIR]

Parses and validates a policy manifest (see go doc ./policy) and prints "FILE: ok (N modules)"
or every error, one per line. Exit status: 0 ok, 1 errors, 2 bad command line.

  --root DIR  also check that each module's binary directory exists under DIR
`

// policyMain runs `simpleos policy` with explicit output streams, for tests.
func policyMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && args[0] != "help" && args[0] != "-h" && args[0] != "--help" {
			fmt.Fprintf(stderr, "simpleos policy: unknown subcommand %q\n\n", args[0])
		}
		fmt.Fprint(stderr, policyUsage)
		return exitUsage
	}
	file, root, err := parsePolicyCheckArgs(args[1:])
	if err != nil {
		fmt.Fprintf(stderr, "simpleos: %v\n\n%s", err, policyUsage)
		return exitUsage
	}
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, "simpleos: policy:", err)
		return 1
	}
	m, err := policy.Parse(file, src)
	if err == nil && root != "" {
		err = checkBinaries(m, root)
	}
	if err != nil {
		var es policy.Errors
		if errors.As(err, &es) {
			for _, e := range es {
				fmt.Fprintln(stderr, e)
			}
		} else {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok (%d modules)\n", file, len(m.Modules))
	return 0
}

// parsePolicyCheckArgs reads FILE and --root DIR, flags before or after the file.
func parsePolicyCheckArgs(args []string) (file, root string, err error) {
	fs := flag.NewFlagSet("simpleos policy check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&root, "root", "", "repository root: check that each binary's directory exists")
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", "", usageErrorf("policy check: %w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(files) == 0:
		return "", "", usageErrorf("policy check: no manifest file given")
	case len(files) > 1:
		return "", "", usageErrorf("policy check: one manifest file at a time, got %q", files)
	case root == "" && flagGiven(fs, "root"):
		return "", "", usageErrorf("policy check: --root needs a directory")
	}
	return files[0], root, nil
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// checkBinaries reports, under rule binary-exists, each module whose binary directory is
// missing under root.
func checkBinaries(m *policy.Manifest, root string) error {
	var es policy.Errors
	for _, mod := range m.Modules {
		dir := filepath.Join(root, filepath.FromSlash(mod.Binary))
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			es = append(es, &policy.Error{File: m.File, Line: mod.LineOf("binary", ""), Rule: "binary-exists",
				Message: fmt.Sprintf("module %q: binary directory %s does not exist", mod.Name, dir)})
		}
	}
	if len(es) == 0 {
		return nil
	}
	return es
}
