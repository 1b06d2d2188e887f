package tests

// The content store's system calls from tasks: a module the policy does not grant a content
// file gets EPERM; bad pointers get EFAULT; the core keeps running.

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
)

func TestContentStoreRefusesStrangersAndBadPointers(t *testing.T) {
	t.Parallel()
	p := kernelPaths(t)
	dir := t.TempDir()
	chanFile, err := os.ReadFile(filepath.Join(p.Root, "policy", "sensor.chan"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sensor.chan"), chanFile, 0o644))
	manifest := filepath.Join(dir, "test.policy")
	require.NoError(t, os.WriteFile(manifest, []byte(`
module owner
    binary  owner
    ring    2
    content sensor.chan rollback sensor.chan.lkg
    restart never
end
`), 0o644))
	pol, err := boot.PolicyModules(manifest)
	require.NoError(t, err)
	specs := []boot.AppSpec{
		{Ring: 2, Path: appPath(t, "contentpeek"), Name: "owner"},
		{Ring: 3, Path: appPath(t, "contentpeek"), Name: "stranger"},
	}
	apps, err := boot.AppModules(specs)
	require.NoError(t, err)
	res, err := boot.Run(context.Background(), boot.Options{
		Image: p.Image, Modules: append(append([]string{p.ELF}, apps...), pol...), Timeout: time.Minute,
	})
	require.NoError(t, err)
	out := string(res.Output)
	t.Logf("status %d\n%s", res.Status, out)
	require.NotContains(t, out, "CORE CRASH")
	assert.Contains(t, out, "core: content sensor.chan: channel 291 sequence 0")

	assert.Contains(t, out, "[stranger] contentpeek: read sensor.chan: ipc: denied by policy")
	assert.Contains(t, out, "[stranger] contentpeek: write sensor.chan: ipc: denied by policy")
	assert.Contains(t, out, "[stranger] contentpeek: done")

	assert.Contains(t, out, "[owner] contentpeek: read sensor.chan: <nil>")
	assert.Contains(t, out, "[owner] contentpeek: write sensor.chan: <nil>", "the owner may write")
	assert.Regexp(t, `content: sensor\.chan is now 1 bytes, sha256 [0-9a-f]{12} \(no file system: not written to a disk\)`, out)
	for _, addr := range []string{"0x0", "0xffff800000000000", "0x800000000000"} {
		assert.Contains(t, out, "[owner] contentpeek: write from "+addr+": bad address")
		assert.Contains(t, out, "[owner] contentpeek: read with name at "+addr+": invalid argument")
	}
	assert.Contains(t, out, "[owner] contentpeek: done")
	// It exited cleanly: what it wrote stands (a clean exit was once taken for a crash, and
	// rolled back and struck the content towards quarantine).
	assert.Regexp(t, `supervisor: content sensor\.chan \(1 bytes, sha256 [0-9a-f]{12}\) confirmed: its writer owner exited cleanly`, out)
	assert.NotContains(t, out, "rolled back")
}

// A channel file damaged on disk: the sensor says which file and where, runs without content,
// and the system carries on.
func TestDamagedContentOnDisk(t *testing.T) {
	t.Parallel()
	p := kernelPaths(t)
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(p.Root, "policy", "system.policy"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "system.policy"), b, 0o644))
	c, err := os.ReadFile(filepath.Join(p.Root, "policy", "sensor.chan"))
	require.NoError(t, err)
	c[30] ^= 0xff // a flipped byte: the CRC no longer matches
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sensor.chan"), c, 0o644))

	o, err := boot.System(p, boot.SystemSpec{Policy: filepath.Join(dir, "system.policy")}, nil)
	require.NoError(t, err)
	o.Timeout = 2 * time.Minute
	res, err := boot.Run(context.Background(), o)
	require.NoError(t, err)
	out := string(res.Output)
	t.Logf("status %d\n%s", res.Status, out)
	assert.Regexp(t, `\[sensor\] sensor: content not loaded: sensor\.chan: offset \d+: CRC-32 mismatch`, out)
	assert.Contains(t, out, "[app] app: done: 120/120 pipes created")
	assert.NotContains(t, out, "CORE CRASH")
	assert.Equal(t, 0, res.Status)
}
