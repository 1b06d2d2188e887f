package boot

// Bundled modules: every program (package main) under tier1/, tier2/ and ring3/ is built by
// `make` into build/modules/<tier>/<name> and passed at boot as a task in its tier's ring,
// next to any --app programs.

import (
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Tiers maps each module folder to the ring its programs run in.
var Tiers = []struct {
	Dir  string
	Ring int
}{{"tier1", 1}, {"tier2", 2}, {"ring3", 3}}

// Bundled is one module program of the repository.
type Bundled struct {
	Pkg  string // import path relative to the root, e.g. ./ring3/sysinfo
	Ring int
	Out  string // the built binary
}

// FindModules lists the main packages directly under each tier folder.
func FindModules(p Paths) ([]Bundled, error) {
	var mods []Bundled
	for _, t := range Tiers {
		entries, err := os.ReadDir(filepath.Join(p.Root, t.Dir))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || e.Name() == "testdata" {
				continue
			}
			dir := filepath.Join(p.Root, t.Dir, e.Name())
			main, err := isMainPackage(dir)
			if err != nil {
				return nil, err
			}
			if main {
				mods = append(mods, Bundled{
					Pkg:  "./" + t.Dir + "/" + e.Name(),
					Ring: t.Ring,
					Out:  filepath.Join(p.BuildDir, "modules", t.Dir, e.Name()),
				})
			}
		}
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Pkg < mods[j].Pkg })
	return mods, nil
}

func isMainPackage(dir string) (bool, error) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.PackageClauseOnly)
	if err != nil {
		return false, fmt.Errorf("boot: %s: %v", dir, err)
	}
	_, ok := pkgs["main"]
	return ok, nil
}

// BuildModules builds every bundled module as a static executable (go build is incremental).
func BuildModules(p Paths, mods []Bundled, w io.Writer) error {
	for _, m := range mods {
		if err := os.MkdirAll(filepath.Dir(m.Out), 0o755); err != nil {
			return err
		}
		cmd := exec.Command("go", "build", "-o", m.Out, m.Pkg)
		cmd.Dir = p.Root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		out, err := cmd.CombinedOutput()
		if err != nil {
			w.Write(out)
			return fmt.Errorf("boot: go build %s failed: %v\n%s", m.Pkg, err, out)
		}
	}
	return nil
}

// ModuleApps turns bundled modules into app specs (not yet named).
func ModuleApps(mods []Bundled) []AppSpec {
	var specs []AppSpec
	for _, m := range mods {
		specs = append(specs, AppSpec{Ring: m.Ring, Path: m.Out})
	}
	return specs
}
