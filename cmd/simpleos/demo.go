package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/simpleos/simpleos/boot/demo"
)

// runDemo is `simpleos demo cf291`: the Channel File 291 incident in three deployments.
func runDemo(args []string) int {
	if len(args) == 0 || args[0] != "cf291" {
		return fail(usageErrorf("usage: simpleos demo cf291 [--out DIR] [--timeout D] [--accel auto|kvm|tcg]"))
	}
	fs := flag.NewFlagSet("demo cf291", flag.ContinueOnError)
	out := fs.String("out", "", "write transcripts and report.md to `DIR` (default build/demo)")
	timeout := fs.Duration("timeout", 90*time.Second, "limit for each boot")
	accel := fs.String("accel", "auto", "accelerator: auto, kvm or tcg")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		return fail(usageErrorf("demo cf291: unexpected arguments %q", fs.Args()))
	}
	p, err := repoPaths()
	if err != nil {
		return fail(err)
	}
	o := demo.Options{Paths: p, Out: *out, Timeout: *timeout, Accel: *accel, Progress: os.Stderr}
	if o.Out == "" {
		o.Out = filepath.Join(p.BuildDir, "demo")
	}
	results, err := demo.CF291(context.Background(), o)
	if err != nil {
		return fail(err)
	}
	fmt.Print(demo.Timelines(results))
	fmt.Println(demo.Table(results))
	fmt.Printf("transcripts and report: %s\n", filepath.Join(o.Out, "report.md"))
	pictures := []string{filepath.Join(o.Out, demo.TimelineFile)}
	for _, r := range results {
		if r.Picture != "" {
			pictures = append(pictures, r.Picture)
		} else {
			fmt.Fprintf(os.Stderr, "simpleos: demo: %s: no picture: %s\n", r.Mode, r.PictureErr)
		}
	}
	fmt.Printf("pictures: %s\n", strings.Join(pictures, ", "))
	for _, r := range results {
		if !r.Expected {
			fmt.Fprintf(os.Stderr, "simpleos: demo: %s did not show its expected outcome: %s\n", r.Mode, r.Unmet)
			return 1
		}
	}
	return 0
}
