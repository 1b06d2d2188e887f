// Package scripts tests the repository's shell scripts: scripts/deps, which installs what the
// make targets need, as a fresh machine would run it.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeAptGet records each call in $DEPS_TEST_LOG and, for install, puts a stub of each
// package's command in the directory it lives in, as the real package would.
const fakeAptGet = `#!/bin/bash
echo "apt-get $*" >>"$DEPS_TEST_LOG"
[ "$1" = install ] || exit 0
dir=$(PATH=/usr/bin:/bin dirname "$0")
for pkg in "$@"; do
	case "$pkg" in
	qemu-system-x86) cmd=qemu-system-x86_64 ;;
	mtools) cmd=mdir ;;
	dosfstools) cmd=fsck.fat ;;
	make | gcc) cmd=$pkg ;;
	*) continue ;;
	esac
	printf '#!/bin/bash\n' >"$dir/$cmd"
	PATH=/usr/bin:/bin chmod 755 "$dir/$cmd"
done
`

// fakeSudo answers sudo -n true (no password needed) and runs everything else, recorded.
const fakeSudo = `#!/bin/bash
[ "$*" = "-n true" ] && exit 0
echo "sudo $*" >>"$DEPS_TEST_LOG"
[ "$1" = -n ] && shift
exec "$@"
`

// freshMachine is a bin directory standing in for PATH on a machine with only Go, bash and
// apt (fake: it installs stubs), and the log the fakes write.
type freshMachine struct {
	bin, log string
}

func newFreshMachine(t *testing.T) freshMachine {
	t.Helper()
	dir := t.TempDir()
	m := freshMachine{bin: filepath.Join(dir, "bin"), log: filepath.Join(dir, "apt.log")}
	require.NoError(t, os.Mkdir(m.bin, 0o755))
	// bash runs the script (#!/usr/bin/env bash), env carries DEBIAN_FRONTEND through sudo.
	for _, name := range []string{"bash", "env", "go"} {
		path, err := exec.LookPath(name)
		require.NoError(t, err)
		require.NoError(t, os.Symlink(path, filepath.Join(m.bin, name)))
	}
	require.NoError(t, os.WriteFile(filepath.Join(m.bin, "apt-get"), []byte(fakeAptGet), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(m.bin, "sudo"), []byte(fakeSudo), 0o755))
	return m
}

// stub puts an executable named name in the machine's PATH.
func (m freshMachine) stub(t *testing.T, name string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(m.bin, name), []byte("#!/bin/bash\n"), 0o755))
}

// deps runs scripts/deps with args on the machine: its PATH only, no /usr/sbin or /sbin
// (DEPS_SBIN empty, so that a host's fsck.fat does not count). It returns the output and the
// exit status.
func (m freshMachine) deps(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("./deps", args...)
	cmd.Env = []string{"PATH=" + m.bin, "DEPS_SBIN=", "DEPS_TEST_LOG=" + m.log}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil {
		require.ErrorAs(t, err, &ee, "%s", out)
		return string(out), ee.ExitCode()
	}
	return string(out), 0
}

// calls returns what the fakes recorded: apt-get and sudo command lines.
func (m freshMachine) calls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(m.log)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// aptGet is how the script runs apt-get here: directly as root, otherwise through sudo -n.
func aptGet() string {
	if os.Geteuid() == 0 {
		return "apt-get"
	}
	return "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get"
}

func TestDepsDryRunOnAFreshMachine(t *testing.T) {
	m := newFreshMachine(t)

	out, status := m.deps(t, "--dry-run", "run")
	assert.Equal(t, 0, status, out)
	assert.Equal(t, "deps: would install qemu-system-x86 (for make run)\n"+
		"deps: would run: "+aptGet()+" update && "+aptGet()+" install -y --no-install-recommends qemu-system-x86\n", out)

	out, status = m.deps(t, "--dry-run", "test")
	assert.Equal(t, 0, status, out)
	assert.Contains(t, out, "deps: would install qemu-system-x86 make gcc libc6-dev mtools dosfstools (for make test)\n")

	out, status = m.deps(t, "--dry-run", "bench", "inject")
	assert.Equal(t, 0, status, out)
	assert.Contains(t, out, "deps: would install qemu-system-x86 dosfstools (for make bench inject)\n")

	out, status = m.deps(t, "--dry-run", "slurm")
	assert.Equal(t, 0, status, out)
	assert.Contains(t, out, "deps: would install slurm-wlm munge (for the Slurm tests)\n")

	assert.Empty(t, m.calls(t), "a dry run installs nothing")
	_, err := os.Stat(filepath.Join(m.bin, "qemu-system-x86_64"))
	assert.True(t, os.IsNotExist(err), "a dry run installs nothing")
}

func TestDepsInstallsOnlyWhatIsMissing(t *testing.T) {
	m := newFreshMachine(t)
	m.stub(t, "make")
	m.stub(t, "mdir")

	out, status := m.deps(t, "test")
	assert.Equal(t, 0, status, out)
	assert.True(t, strings.HasPrefix(out, "deps: installing qemu-system-x86 gcc libc6-dev dosfstools (for make test)\n"), out)
	install := "apt-get install -y --no-install-recommends qemu-system-x86 gcc libc6-dev dosfstools"
	want := []string{"apt-get update", install}
	if os.Geteuid() != 0 { // the fake sudo, then the fake apt-get it runs, record each call
		sudo := "sudo -n env DEBIAN_FRONTEND=noninteractive "
		want = []string{sudo + "apt-get update", "apt-get update", sudo + install, install}
	}
	assert.Equal(t, want, m.calls(t))

	// Everything is there now: silent, and apt-get is not run again.
	out, status = m.deps(t, "test")
	assert.Equal(t, 0, status)
	assert.Empty(t, out)
	assert.Len(t, m.calls(t), len(want))
}

func TestDepsLooksInSbin(t *testing.T) {
	m := newFreshMachine(t)
	m.stub(t, "qemu-system-x86_64")
	sbin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(sbin, "fsck.fat"), []byte("#!/bin/bash\n"), 0o755))

	cmd := exec.Command("./deps", "--dry-run", "inject")
	cmd.Env = []string{"PATH=" + m.bin, "DEPS_SBIN=" + t.TempDir() + ":" + sbin, "DEPS_TEST_LOG=" + m.log}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Empty(t, string(out), "fsck.fat is found outside PATH: nothing to install")

	text, status := m.deps(t, "--dry-run", "inject")
	assert.Equal(t, 0, status)
	assert.Contains(t, text, "deps: would install dosfstools (for make inject)\n")
}

func TestDepsWithoutAptGetOrGo(t *testing.T) {
	m := newFreshMachine(t)
	require.NoError(t, os.Remove(filepath.Join(m.bin, "apt-get")))
	out, status := m.deps(t, "run")
	assert.Equal(t, 1, status)
	assert.Contains(t, out, "deps: missing qemu-system-x86_64 (for make run), and there is no apt-get to install qemu-system-x86 with")

	require.NoError(t, os.Remove(filepath.Join(m.bin, "go")))
	m.stub(t, "qemu-system-x86_64")
	out, status = m.deps(t, "run")
	assert.Equal(t, 1, status)
	assert.Contains(t, out, "deps: go not found in PATH (for make run): install Go 1.26 from https://go.dev/dl/")

	out, status = m.deps(t, "walk")
	assert.Equal(t, 2, status)
	assert.Contains(t, out, "usage: scripts/deps [--dry-run] GROUP...")
	assert.Empty(t, m.calls(t))
}

// TestMakeRunsDeps checks that every make target that needs more than Go runs scripts/deps
// with its group first.
func TestMakeRunsDeps(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	for target, group := range map[string]string{
		"run": "run", "debug": "run", "demo": "run", "gotest": "run", "fuzz": "run",
		"inject": "inject", "inject-disk": "inject", "inject-files": "inject", "inject-slurm": "inject",
		"bench": "bench", "bench-full": "bench", "test": "test", "deps": "test",
	} {
		cmd := exec.Command("make", "-n", target)
		cmd.Dir = ".."
		cmd.Env = withoutMakeFlags(os.Environ()) // under make test: not the outer make's flags
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "make -n %s: %s", target, out)
		first, _, _ := strings.Cut(string(out), "\n")
		assert.Equal(t, "scripts/deps "+group, first, "make -n %s:\n%s", target, out)
	}
}

// withoutMakeFlags drops what an outer make passes its commands (MAKEFLAGS, MAKELEVEL, ...).
func withoutMakeFlags(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "MAKE") && !strings.HasPrefix(kv, "MFLAGS=") {
			out = append(out, kv)
		}
	}
	return out
}
