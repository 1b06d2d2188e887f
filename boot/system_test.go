package boot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSystem is a checkout with one bundled module (tier1/drv) and an up-to-date core build,
// so System builds only the module.
func fakeSystem(t *testing.T) Paths {
	t.Helper()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"go.mod":            "module " + ModulePath + "\n\ngo 1.26\n",
		"tier1/drv/main.go": "package main\n\nfunc main() {}\n",
		"ring3/doc.go":      "package ring3\n",
	})
	p := DefaultPaths(root)
	require.NoError(t, os.MkdirAll(p.BuildDir, 0o755))
	future := time.Now().Add(time.Hour)
	for _, f := range []string{p.ELF, p.Image} {
		require.NoError(t, os.WriteFile(f, []byte("built"), 0o644))
		require.NoError(t, os.Chtimes(f, future, future))
	}
	return p
}

func TestSystemAssemblesModulesInOrder(t *testing.T) {
	p := fakeSystem(t)
	dir := t.TempDir()
	manifest := filepath.Join(dir, "test.policy")
	require.NoError(t, os.WriteFile(manifest, []byte("module drv\n binary tier1/drv\n ring 1\nend\n"), 0o644))
	apps := []AppSpec{{Ring: 2, Path: "/x/drv", Args: []string{"a b"}}, {Ring: 3, Path: "/x/hello"}}

	o, err := System(p, SystemSpec{
		Apps:   apps,
		Policy: manifest,
		Extra:  []string{"/tmp/plan simpleos-inject"},
		Append: "inject=on",
	}, nil)
	require.NoError(t, err)
	drv := filepath.Join(p.BuildDir, "modules", "tier1", "drv")
	assert.FileExists(t, drv, "the bundled module was built")
	assert.Equal(t, Options{
		Image: p.Image,
		Modules: []string{
			p.ELF,
			drv + " simpleos-app ring=1 name=drv -- drv",
			"/x/drv simpleos-app ring=2 name=drv-2 -- drv-2 a%20b",
			"/x/hello simpleos-app ring=3 name=hello -- hello",
			manifest + " simpleos-policy",
			"/tmp/plan simpleos-inject",
		},
		Append: "inject=on",
	}, o)
	assert.Empty(t, apps[0].Name, "the caller's specs are not modified")
}

func TestSystemWithoutModules(t *testing.T) {
	p := fakeSystem(t)
	o, err := System(p, SystemSpec{NoModules: true, Apps: []AppSpec{{Ring: 3, Path: "/x/hello"}, {Ring: 1, Path: "/y/hello"}}}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{
		p.ELF,
		"/x/hello simpleos-app ring=3 name=hello -- hello",
		"/y/hello simpleos-app ring=1 name=hello-2 -- hello-2",
	}, o.Modules)
	assert.NoDirExists(t, filepath.Join(p.BuildDir, "modules"), "no bundled module was built")

	o, err = System(p, SystemSpec{NoModules: true}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{p.ELF}, o.Modules)
}

func TestSystemSpecErrors(t *testing.T) {
	p := fakeSystem(t)
	many := make([]AppSpec, MaxApps+1)
	for i := range many {
		many[i] = AppSpec{Ring: 3, Path: "/x/app"}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.policy")
	require.NoError(t, os.WriteFile(bad, []byte("module shell\n binary ring3/shell\n ring 3\n ports 0x60\nend\n"), 0o644))

	for _, c := range []struct {
		spec SystemSpec
		want string
	}{
		{SystemSpec{NoModules: true, Apps: many}, "at most 63"},
		{SystemSpec{Apps: many[:MaxApps]}, "at most 63"}, // the bundled module makes 64
		{SystemSpec{NoModules: true, Apps: []AppSpec{{Ring: 4, Path: "/x/a"}}}, "ring must be 1, 2 or 3"},
		{SystemSpec{NoModules: true, Apps: []AppSpec{{Ring: 3, Path: "/x/a", Args: []string{strings.Repeat("x", 5000)}}}}, "too long"},
		{SystemSpec{NoModules: true, Policy: bad}, "bad.policy:4: rule ring3-ports"},
		{SystemSpec{NoModules: true, Policy: filepath.Join(dir, "missing.policy")}, "missing.policy"},
	} {
		_, err := System(p, c.spec, nil)
		if assert.Error(t, err, c.want) {
			assert.ErrorAs(t, err, new(*SpecError), c.want)
			assert.Contains(t, err.Error(), c.want)
		}
	}
}

func TestSystemReportsBuildFailures(t *testing.T) {
	p := fakeSystem(t)
	require.NoError(t, os.Remove(p.Image)) // stale: System must build ./core, which is missing
	_, err := System(p, SystemSpec{NoModules: true}, nil)
	require.Error(t, err)
	assert.False(t, errors.As(err, new(*SpecError)), "a failed build is not the spec's fault: %v", err)
	assert.Contains(t, err.Error(), "go build ./core failed")

	p = fakeSystem(t)
	writeTree(t, p.Root, map[string]string{"tier2/broken/main.go": "package main\n\nfunc main() { undefined() }\n"})
	future := time.Now().Add(2 * time.Hour) // keep the core build fresh despite the new source
	require.NoError(t, os.Chtimes(p.Image, future, future))
	_, err = System(p, SystemSpec{}, nil)
	require.Error(t, err)
	assert.False(t, errors.As(err, new(*SpecError)))
	assert.Contains(t, err.Error(), "./tier2/broken")
}
