package content

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nativeChildEnv selects what the re-executed test binary does in TestMatchNativeBadFile:
// "ungated" runs MatchNative on the bad file, "gated" runs it only after Validate accepts.
const nativeChildEnv = "SIMPLEOS_CONTENT_NATIVE_CHILD"

// nativeChild is the child's side: it loads the fixtures as the sensor would and screens one
// ordinary pipe creation. It never returns.
func nativeChild(mode string) {
	good, bad := Fixtures()
	loaded := bad
	if mode == "gated" {
		if err := Validate(bad, SensorSupplies()); err != nil {
			fmt.Fprintln(os.Stderr, "child: rejected update:", err)
			loaded = good
		}
	}
	fmt.Fprintf(os.Stderr, "child: screening with %s\n", loaded.Name)
	in := NewInput(benign())
	d, ok := loaded.MatchNative(&in.Values)
	fmt.Fprintf(os.Stderr, "child: survived: detection=%v matched=%v\n", d, ok)
	os.Exit(0)
}

// runNativeChild re-executes the test binary running only TestMatchNativeBadFile in mode.
func runNativeChild(t *testing.T, mode string) (stderr string, exit int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMatchNativeBadFile$", "-test.count=1")
	cmd.Env = append(os.Environ(), nativeChildEnv+"="+mode, "GOTRACEBACK=single")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil {
		require.True(t, errors.As(err, &ee), "running child: %v", err)
		return out.String(), ee.ExitCode()
	}
	return out.String(), 0
}

// TestMatchNativeBadFile runs the native interpreter on the bad update in a child process: it
// reads value 21 past the end of the 20-value array, gets the stale header and dereferences
// 0xdead0000, which kills the child with SIGSEGV, a real fault and not a Go bounds panic. With
// Validate in front, the same child rejects the update and survives.
func TestMatchNativeBadFile(t *testing.T) {
	if mode := os.Getenv(nativeChildEnv); mode != "" {
		nativeChild(mode)
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}

	out, exit := runNativeChild(t, "ungated")
	t.Logf("ungated child exited %d:\n%s", exit, firstLines(out, 12))
	assert.NotEqual(t, 0, exit)
	assert.Contains(t, out, "child: screening with C-00000291-00000002.sys")
	assert.Contains(t, out, "unexpected fault address 0xdead0000")
	assert.Contains(t, out, "fatal error: fault")
	assert.Contains(t, out, "signal SIGSEGV")
	assert.Contains(t, out, "addr=0xdead0000")
	assert.Contains(t, out, "MatchNative")
	assert.NotContains(t, out, "index out of range")
	assert.NotContains(t, out, "child: survived")

	out, exit = runNativeChild(t, "gated")
	t.Logf("gated child exited %d:\n%s", exit, firstLines(out, 4))
	assert.Equal(t, 0, exit)
	assert.Contains(t, out, `child: rejected update: C-00000291-00000002.sys: instance 7 ("NamedPipeC2") of template type 3 ("IPC") has a non-wildcard criterion on field 21, but the sensor supplies only 20 values`)
	assert.Contains(t, out, "child: screening with C-00000291-00000001.sys")
	assert.Contains(t, out, "child: survived: detection={0 0 0 0  info log} matched=false")
}

func firstLines(s string, n int) string {
	lines := bytes.SplitN([]byte(s), []byte("\n"), n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
