package boot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/simpleos/simpleos/policy"
	"github.com/simpleos/simpleos/policy/bpf"
)

// PolicyModules checks a policy manifest and every eBPF filter it names on the host, and
// returns the Multiboot module strings that hand them to the core, which checks them again.
// Filter paths are relative to the manifest's folder unless absolute.
func PolicyModules(file string) ([]string, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m, err := policy.Parse(file, src)
	if err != nil {
		return nil, err
	}
	abs, err := modulePath(file)
	if err != nil {
		return nil, err
	}
	mods := []string{abs + " " + policy.ModuleMarker}
	content, err := ContentModules(file, m)
	if err != nil {
		return nil, err
	}
	mods = append(mods, content...)
	for _, mod := range m.Modules {
		for _, f := range mod.Filters {
			path := f.Program
			if !filepath.IsAbs(path) {
				path = filepath.Join(filepath.Dir(file), path)
			}
			hook := bpf.HookIPCCall
			if !mod.ServesEndpoint(f.Endpoint) {
				hook = bpf.HookEvent
			}
			b, err := os.ReadFile(path)
			if err == nil {
				_, err = bpf.LoadHookBytes(path, b, hook)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: module %q: filter on %q: %w", file, mod.Name, f.Endpoint, err)
			}
			p, err := modulePath(path)
			if err != nil {
				return nil, err
			}
			mods = append(mods, p+" "+policy.FilterMarker+" "+f.Program)
		}
	}
	return mods, nil
}

// LoadFilter reads and verifies a filter program for the IPC-call hook: a clang ELF object or
// raw little-endian instructions.
func LoadFilter(path string) (*bpf.Program, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return bpf.LoadFilterBytes(path, b)
}

func modulePath(file string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(abs, " ,") {
		return "", fmt.Errorf("%s: QEMU cannot pass a path with spaces or commas", abs)
	}
	return abs, nil
}

// ContentModules returns the Multiboot module strings of the content files a manifest names
// (paths relative to its folder): the files "on disk" the core's content store starts from.
// A missing content file is an error; a missing rollback file is not (the content file is
// then its own last-known-good copy).
func ContentModules(file string, m *policy.Manifest) ([]string, error) {
	var mods []string
	for _, mod := range m.Modules {
		for _, c := range mod.Content {
			for i, name := range []string{c.Path, c.Rollback} {
				if name == "" {
					continue
				}
				path := name
				if !filepath.IsAbs(path) {
					path = filepath.Join(filepath.Dir(file), path)
				}
				if _, err := os.Stat(path); err != nil {
					if i == 1 && os.IsNotExist(err) {
						continue
					}
					return nil, fmt.Errorf("%s: module %q: content file: %w", file, mod.Name, err)
				}
				p, err := modulePath(path)
				if err != nil {
					return nil, err
				}
				marker := policy.ContentMarker
				if i == 1 {
					marker = policy.RollbackMarker
				}
				mods = append(mods, p+" "+marker+" "+c.Path)
			}
		}
	}
	return mods, nil
}
