package boot

// A normal boot of the whole system: the core, the bundled modules, any extra programs, the
// policy in force and whatever other Multiboot modules a tool adds (such as a fault-injection
// plan). `simpleos run` and `simpleos inject` both assemble their boots here.

import (
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/simpleos/simpleos/policy"
)

// SystemSpec is what a boot carries besides the core.
type SystemSpec struct {
	Apps      []AppSpec // extra programs (--app), parsed and checked; System names them with the bundled ones
	NoModules bool      // leave out the bundled tier1/, tier2/ and ring3/ programs
	Policy    string    // a policy manifest to enforce instead of the built-in policy/system.policy
	Extra     []string  // further Multiboot module strings, passed last
	Append    string    // kernel command line
}

// SpecError is a SystemSpec the core cannot take (too many apps, a name or argument list it
// cannot read, a policy that does not check), as opposed to a failed build.
type SpecError struct{ Err error }

func (e *SpecError) Error() string { return e.Err.Error() }
func (e *SpecError) Unwrap() error { return e.Err }

// System builds what a boot needs (the core when stale, the bundled modules) and returns the
// options that boot it: Image, Append and Modules set, every other field zero for the caller
// to fill. The modules are, in order: the core's ELF (module 0: the kernel reads its own
// symbols from it), the bundled programs, s.Apps, the policy manifest and its filters, and
// s.Extra. Build output goes to w (which may be nil). Problems with s itself are *SpecError.
func System(p Paths, s SystemSpec, w io.Writer) (Options, error) {
	if w == nil {
		w = io.Discard
	}
	if err := EnsureBuilt(p, w); err != nil {
		return Options{}, err
	}
	specs := slices.Clone(s.Apps)
	if !s.NoModules {
		mods, err := FindModules(p)
		if err != nil {
			return Options{}, err
		}
		if err := BuildModules(p, mods, w); err != nil {
			return Options{}, err
		}
		specs = append(ModuleApps(mods), specs...)
	}
	NameApps(specs)
	apps, err := AppModules(specs)
	if err != nil {
		return Options{}, &SpecError{err}
	}
	if s.Policy != "" {
		mods, err := PolicyModules(s.Policy)
		if err != nil {
			return Options{}, &SpecError{err}
		}
		apps = append(apps, mods...)
	} else {
		// The core enforces its built-in copy of policy/system.policy; the content files it
		// names ("the disk") come from the checkout.
		mods, err := systemContent(p)
		if err != nil {
			return Options{}, err
		}
		apps = append(apps, mods...)
	}
	modules := append([]string{p.ELF}, apps...)
	return Options{
		Image:   p.Image,
		Modules: append(modules, s.Extra...),
		Append:  s.Append,
	}, nil
}

// systemContent returns the content-file modules of the repository's policy/system.policy.
func systemContent(p Paths) ([]string, error) {
	file := filepath.Join(p.Root, "policy", "system.policy")
	src, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil, nil // not a checkout with a system policy: no content files to pass
	}
	if err != nil {
		return nil, err
	}
	m, err := policy.Parse(file, src)
	if err != nil {
		return nil, err
	}
	return ContentModules(file, m)
}
