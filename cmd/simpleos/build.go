package main

import (
	"fmt"
	"io"
	"os"

	"github.com/simpleos/simpleos/boot"
)

// runBuild always rebuilds the core and prints where the image will load.
func runBuild(args []string) int {
	if len(args) > 0 {
		return fail(usageErrorf("build takes no arguments, got %q", args))
	}
	p, err := repoPaths()
	if err != nil {
		return fail(err)
	}
	if err := boot.BuildCore(p, io.Discard); err != nil { // the error carries the compiler output
		return fail(err)
	}
	info, err := boot.ReadImageInfo(p.Image)
	if err != nil {
		return fail(err)
	}
	fmt.Printf("%s: %s\n", p.Image, info)
	mods, err := boot.FindModules(p)
	if err != nil {
		return fail(err)
	}
	if err := boot.BuildModules(p, mods, os.Stderr); err != nil {
		return fail(err)
	}
	for _, m := range mods {
		fmt.Printf("%s: ring %d module %s\n", m.Out, m.Ring, m.Pkg)
	}
	return 0
}

// repoPaths locates the checkout from the working directory.
func repoPaths() (boot.Paths, error) {
	wd, err := os.Getwd()
	if err != nil {
		return boot.Paths{}, err
	}
	root, err := boot.FindRoot(wd)
	if err != nil {
		return boot.Paths{}, err
	}
	return boot.DefaultPaths(root), nil
}
