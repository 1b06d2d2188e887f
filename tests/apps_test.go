package tests

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appNames lists the task programs in tests/testdata/apps.
var appNames = []string{
	"hello", "nilrecover", "nilcrash", "peek", "secret", "priv", "portecho",
	"stackoverflow", "divzero", "spin", "memhog", "threadbomb", "sysstorm",
	"crashloop", "heartbeat", "contentpeek", "attack",
}

var (
	appRootOnce sync.Once
	appRootDir  string
	appRootErr  error

	appBuildMu sync.Mutex
	appBuilds  = map[string]*appBuild{}
)

type appBuild struct {
	once sync.Once
	path string
	err  error
}

// appRepoRoot walks up from the working directory to the go.mod that declares
// module github.com/simpleos/simpleos.
func appRepoRoot(t *testing.T) string {
	t.Helper()
	appRootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			appRootErr = err
			return
		}
		for {
			data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil {
				for _, line := range strings.Split(string(data), "\n") {
					if strings.TrimSpace(line) == "module github.com/simpleos/simpleos" {
						appRootDir = dir
						return
					}
				}
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				appRootErr = errors.New("no go.mod for github.com/simpleos/simpleos above the working directory")
				return
			}
			dir = parent
		}
	})
	require.NoError(t, appRootErr)
	return appRootDir
}

// appPath builds tests/testdata/apps/<name> once per test binary (static,
// CGO_ENABLED=0, GOOS=linux, GOARCH=amd64) into <repo>/build/apps/<name> and
// returns the path. Safe for parallel tests.
func appPath(t *testing.T, name string) string {
	t.Helper()
	root := appRepoRoot(t)
	appBuildMu.Lock()
	b := appBuilds[name]
	if b == nil {
		b = &appBuild{}
		appBuilds[name] = b
	}
	appBuildMu.Unlock()
	b.once.Do(func() {
		out := filepath.Join(root, "build", "apps", name)
		cmd := exec.Command("go", "build", "-o", out, "./tests/testdata/apps/"+name)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = errors.New("go build " + name + ": " + err.Error() + "\n" + string(msg))
			return
		}
		b.path = out
	})
	require.NoError(t, b.err)
	return b.path
}

// appRun runs a built program directly on the host and returns its stdout
// lines and exit status.
func appRun(t *testing.T, timeout time.Duration, dir, path string, args ...string) ([]string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "%s %v timed out; stdout:\n%s\nstderr:\n%s", path, args, stdout.String(), stderr.String())
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	require.NotEqual(t, -1, code, "%s %v killed by a signal; stderr:\n%s", path, args, stderr.String())
	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	return lines, code
}

func TestAppsBuildAndRunOnHost(t *testing.T) {
	paths := map[string]string{}
	var mu sync.Mutex
	t.Run("build", func(t *testing.T) {
		for _, name := range appNames {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				p := appPath(t, name)
				fi, err := os.Stat(p)
				require.NoError(t, err)
				assert.True(t, fi.Mode().IsRegular())
				mu.Lock()
				paths[name] = p
				mu.Unlock()
			})
		}
	})
	require.Len(t, paths, len(appNames))
	dir := t.TempDir()

	t.Run("hello", func(t *testing.T) {
		p := paths["hello"]
		lines, code := appRun(t, 30*time.Second, dir, p, "a", "b c")
		require.Len(t, lines, 1)
		assert.Regexp(t, `^hello from `+regexp.QuoteMeta(p)+` pid=[1-9][0-9]* args=a,b c$`, lines[0])
		assert.Equal(t, 0, code)

		lines, code = appRun(t, 30*time.Second, dir, p, "x", "exit=3")
		assert.Regexp(t, `^hello from .* pid=[1-9][0-9]* args=x,exit=3$`, lines[0])
		assert.Equal(t, 3, code)
	})
	t.Run("nilrecover", func(t *testing.T) {
		lines, code := appRun(t, 30*time.Second, dir, paths["nilrecover"])
		assert.Equal(t, []string{
			"recovered: runtime error: invalid memory address or nil pointer dereference",
			"recovered fault: runtime error: invalid memory address or nil pointer dereference",
			"nilrecover ok",
		}, lines)
		assert.Equal(t, 0, code)
	})
	t.Run("divzero", func(t *testing.T) {
		lines, code := appRun(t, 30*time.Second, dir, paths["divzero"])
		assert.Equal(t, []string{"recovered: runtime error: integer divide by zero", "divzero ok"}, lines)
		assert.Equal(t, 0, code)
	})
	t.Run("spin", func(t *testing.T) {
		start := time.Now()
		lines, code := appRun(t, 30*time.Second, dir, paths["spin"], "seconds=1")
		assert.Equal(t, []string{"spin: spinning", "spin: done"}, lines)
		assert.Equal(t, 0, code)
		assert.GreaterOrEqual(t, time.Since(start), time.Second)
	})
	t.Run("memhog", func(t *testing.T) {
		lines, code := appRun(t, 60*time.Second, dir, paths["memhog"], "limit=32")
		assert.Equal(t, []string{"memhog: 16 MiB", "memhog: 32 MiB", "memhog: done 32 MiB"}, lines)
		assert.Equal(t, 0, code)
	})
	t.Run("threadbomb", func(t *testing.T) {
		lines, code := appRun(t, 60*time.Second, dir, paths["threadbomb"], "max=50")
		assert.Equal(t, []string{
			"threadbomb: 16 threads", "threadbomb: 32 threads", "threadbomb: 48 threads", "threadbomb: done 50",
		}, lines)
		assert.Equal(t, 0, code)
	})
	t.Run("sysstorm", func(t *testing.T) {
		// In a directory of its own: the storm creates files with random names.
		lines, code := appRun(t, 60*time.Second, t.TempDir(), paths["sysstorm"], "20000", "seed=1")
		require.Len(t, lines, 3, "%q", lines)
		assert.Equal(t, "sysstorm: seed=1 calls=20000", lines[0])
		assert.Regexp(t, `^sysstorm: 20000 calls, [0-9]+ errors$`, lines[1])
		assert.Equal(t, "sysstorm ok", lines[2])
		assert.Equal(t, 0, code)
	})
}
