package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/policy"
)

func runPolicyCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = policyMain(args, &out, &errb)
	return code, out.String(), errb.String()
}

const systemPolicy = "../../policy/system.policy"

func TestPolicyCheckSystemManifest(t *testing.T) {
	code, out, errs := runPolicyCLI("check", systemPolicy)
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, systemPolicy+": ok (9 modules)\n", out)
	assert.Empty(t, errs)
}

func TestPolicyCheckReportsEveryError(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.policy")
	require.NoError(t, os.WriteFile(f, []byte("module shell\n binary ring3/shell\n ring 3\n ports 0x2f8\n events pipe.created\nend\n"), 0o644))
	code, out, errs := runPolicyCLI("check", f)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Equal(t, f+`:4: rule ring3-ports: module "shell" runs in ring 3 and may not be granted I/O ports`+"\n"+
		f+`:5: rule events-ring: module "shell" runs in ring 3 and may not subscribe to events (only ring-2 security modules observe system events)`+"\n", errs)
}

func TestPolicyCheckRoot(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"tier1/console", "tier2/sensor", "ring3/pipesvc", "ring3/updater", "ring3/sysinfo", "tier1/blk", "ring3/blktest", "ring3/fs"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	code, out, errs := runPolicyCLI("check", "--root", root, systemPolicy)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	require.Len(t, lines, 1, errs)
	assert.Regexp(t, `^`+systemPolicy+`:\d+: rule binary-exists: module "app": binary directory .*ring3/app does not exist$`, lines[0])

	require.NoError(t, os.MkdirAll(filepath.Join(root, "ring3/app"), 0o755))
	code, out, errs = runPolicyCLI("check", systemPolicy, "--root", root) // flag after the file
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, systemPolicy+": ok (9 modules)\n", out)
}

func TestPolicyCheckUsage(t *testing.T) {
	for _, args := range [][]string{
		nil, {"help"}, {"frob"}, {"check"}, {"check", "a", "b"}, {"check", "--bogus", "a"},
		{"check", "a", "--root"}, {"check", "--root=", "a"},
	} {
		code, out, errs := runPolicyCLI(args...)
		assert.Equal(t, 2, code, "%q", args)
		assert.Empty(t, out, "%q", args)
		assert.Contains(t, errs, "usage: simpleos policy check FILE", "%q", args)
	}
	code, _, errs := runPolicyCLI("check", filepath.Join(t.TempDir(), "missing.policy"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "no such file")
}

func TestPolicyDispatch(t *testing.T) {
	var stderr bytes.Buffer
	assert.Equal(t, 2, dispatch([]string{"policy"}, &stderr))
	usage(&stderr)
	assert.Contains(t, stderr.String(), "policy")
}

// The policy package keeps copies of boot's limits (it cannot import boot, which does I/O).
func TestPolicyMatchesBoot(t *testing.T) {
	assert.Equal(t, boot.MaxApps, policy.MaxModules)
	require.Len(t, policy.TierDirs, len(boot.Tiers))
	for i, tier := range boot.Tiers {
		assert.Equal(t, tier.Dir, policy.TierDirs[i].Dir)
		assert.Equal(t, tier.Ring, policy.TierDirs[i].Ring)
	}
}
