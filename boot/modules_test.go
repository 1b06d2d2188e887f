package boot

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindModulesByTier(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"tier1/drv/main.go":        "package main\nfunc main() {}\n",
		"tier2/mon/main.go":        "package main\nfunc main() {}\n",
		"ring3/app/main.go":        "package main\nfunc main() {}\n",
		"ring3/app/main_test.go":   "package main\n",
		"ring3/lib/lib.go":         "package lib\n",
		"ring3/testdata/x/main.go": "package main\n",
		"tier1/doc.go":             "package tier1\n",
	}
	for name, body := range files {
		path := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	}
	p := DefaultPaths(root)
	mods, err := FindModules(p)
	require.NoError(t, err)
	require.Len(t, mods, 3)
	assert.Equal(t, Bundled{Pkg: "./ring3/app", Ring: 3, Out: filepath.Join(root, "build", "modules", "ring3", "app")}, mods[0])
	assert.Equal(t, "./tier1/drv", mods[1].Pkg)
	assert.Equal(t, 1, mods[1].Ring)
	assert.Equal(t, "./tier2/mon", mods[2].Pkg)
	assert.Equal(t, 2, mods[2].Ring)
	specs := ModuleApps(mods)
	assert.Equal(t, 3, specs[0].Ring)
	assert.Equal(t, mods[0].Out, specs[0].Path)
}

func TestFindModulesReportsBrokenSources(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "tier2", "bad", "main.go")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte("this is not go"), 0o644))
	_, err := FindModules(DefaultPaths(root))
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join("tier2", "bad"))
}

func TestPolicyModuleChecksTheManifestFirst(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.policy")
	require.NoError(t, os.WriteFile(good, []byte("module hello\n binary ring3/hello\n ring 3\nend\n"), 0o644))
	m, err := PolicyModules(good)
	require.NoError(t, err)
	assert.Equal(t, []string{good + " simpleos-policy"}, m)

	bad := filepath.Join(dir, "bad.policy")
	require.NoError(t, os.WriteFile(bad, []byte("module shell\n binary ring3/shell\n ring 3\n ports 0x60\nend\n"), 0o644))
	_, err = PolicyModules(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.policy:4: rule ring3-ports")

	_, err = PolicyModules(filepath.Join(dir, "missing.policy"))
	assert.Error(t, err)
}
