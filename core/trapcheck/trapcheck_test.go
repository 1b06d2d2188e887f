package trapcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
)

// The checker finds every kind of violation in a program built to have them.
func TestCheckerFindsViolations(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bad")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/bad")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	fs, err := Check(bin, Config{Roots: []string{"main.handleTrap", "main.clean"}})
	require.NoError(t, err)
	var got []string
	for _, f := range fs {
		got = append(got, f.String())
	}
	all := strings.Join(got, "\n")
	assert.Contains(t, all, "main.handleTrap calls runtime.panicBounds")
	assert.Contains(t, all, "main.splittable is not nosplit")
	assert.Contains(t, all, "main.handleTrap makes an indirect call")
	assert.Regexp(t, `main.handleTrap calls runtime\.(newobject|mallocgc)`, all)
	assert.Contains(t, all, "main.handleTrap calls runtime.gcWriteBarrier")
	assert.NotContains(t, all, "main.clean", "a masked index is no finding")
	_, err = Check(bin, Config{Roots: []string{"main.nothere"}})
	assert.Error(t, err)
}

// The core keeps every rule of trap context: what the kernel runs from a trap, an interrupt
// or a system call is nosplit, allocates nothing, writes no heap pointer and cannot panic.
func TestCoreKeepsTrapContextRules(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	root, err := boot.FindRoot(wd)
	require.NoError(t, err)
	p := boot.DefaultPaths(root)
	require.NoError(t, boot.EnsureBuilt(p, os.Stderr)) // the ELF every other test boots
	fs, err := Check(p.ELF, Core)
	require.NoError(t, err)
	for _, f := range fs {
		t.Error(f)
	}
}
