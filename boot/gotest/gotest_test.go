package gotest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/policy"
)

func TestTaskNamesAreModuleNames(t *testing.T) {
	used := map[string]bool{"blk": true, "fs": true}
	assert.Equal(t, "regexp-test", TaskName("regexp", used))
	assert.Equal(t, "compress-gzip-test", TaskName("compress/gzip", used))
	assert.Equal(t, "compress-gzip-2-test", TaskName("compress.gzip", used), "unique")
	long := TaskName("github.com/simpleos/simpleos/tests/testdata/gotestfail", used)
	assert.Equal(t, "tests-testdata-gotestfail-test", long, "the path's end is kept")
	assert.LessOrEqual(t, len(TaskName("example.com/a/very/long/import/path/that/goes/on/and/on", used)), 32)
}

func TestDefaultQuotaFollowsTheGuest(t *testing.T) {
	assert.Equal(t, int64(64<<20), DefaultQuota(256))
	assert.Equal(t, int64(256<<20), DefaultQuota(1024))
	assert.Equal(t, int64(1<<30), DefaultQuota(16384), "the policy's largest quota")
}

// The generated manifest passes the policy checker: names, paths, quotas, quoted arguments.
func TestManifestChecks(t *testing.T) {
	o := Options{Paths: boot.DefaultPaths("/repo"), Ring: 2, Run: "Test(A|B) #x", Skip: "Example", MemMB: 1024, Timeout: time.Minute}
	o.defaults()
	rs := []*Result{
		{Pkg: "image/png", Name: "image-png-test", Binary: "/repo/build/gotest/image-png-test.test", Testdata: []string{"/pkg/image/testdata"}},
		{Pkg: "regexp", Name: "regexp-test", Binary: "/repo/build/gotest/regexp-test.test"},
	}
	src := Manifest(o, rs)
	m, err := policy.Parse("test.policy", []byte(src))
	require.NoError(t, err, src)
	mod, ok := m.Module("image-png-test")
	require.True(t, ok)
	assert.Equal(t, "build/gotest/image-png-test.test", mod.Binary)
	assert.Equal(t, 2, mod.Ring)
	assert.Equal(t, "/pkg/image/png", mod.Cwd)
	assert.Equal(t, []string{"/pkg/image/png", "/pkg/image/testdata", "/tmp:rw"}, mod.FileGrants(), "read-only unless :rw")
	assert.Equal(t, uint64(256<<20), mod.Quota)
	assert.Equal(t, []string{"-test.v=false", "-test.paniconexit0", "-test.timeout=1m0s", "-test.run=Test(A|B) #x", "-test.skip=Example"}, mod.Args)
	fs, ok := m.Module("fs")
	require.True(t, ok)
	assert.Equal(t, []string{"--tmp-size=128MiB"}, fs.Args)
}

func TestParseReadsTheSupervisorsLine(t *testing.T) {
	out := []byte("[regexp-test] PASS\n" +
		"app regexp-test exited 0 [ring 3, pid 4, cpu 1.5s, ran 2.25s; not restarted: rule never (exited 0)]\n" +
		"[png-test] --- FAIL: TestX (0.00s)\n" +
		"app png-test killed: memory quota exceeded [ring 3, pid 5, cpu 3s, ran 4s; not restarted: rule never (killed)]\n" +
		"supervisor: png-test reached its memory quota of 256 MiB: raise it with ...\n")
	r := &Result{Name: "regexp-test"}
	Parse(r, boot.Result{Output: out})
	assert.Equal(t, "ok", r.Status)
	assert.Equal(t, 2250*time.Millisecond, r.Time)
	assert.Equal(t, []string{"PASS"}, r.Output)

	r = &Result{Name: "png-test"}
	Parse(r, boot.Result{Output: out})
	assert.Equal(t, "FAIL", r.Status)
	assert.Equal(t, "app png-test killed: memory quota exceeded: its memory quota of 256 MiB exceeded (raise it with simpleos test --quota MiB, or --mem)", r.Reason)

	r = &Result{Name: "gone-test"}
	Parse(r, boot.Result{Output: out, TimedOut: true, Duration: time.Minute})
	assert.Equal(t, "FAIL", r.Status)
	assert.Contains(t, r.Reason, "timed out")
}

func TestFATNames(t *testing.T) {
	assert.Empty(t, fatRefuses("issue12594.tar"))
	assert.NotEmpty(t, fatRefuses("a:b"))
	assert.NotEmpty(t, fatRefuses("trailing."))
}

// A package directory goes onto the image under /pkg/IMPORTPATH; FAT's limits are reported.
func TestMakeImage(t *testing.T) {
	dir := t.TempDir()
	pkg := filepath.Join(dir, "x", "y")
	require.NoError(t, os.MkdirAll(filepath.Join(pkg, "testdata"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "x", "testdata"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(pkg, "y_test.go"), []byte("package y"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(pkg, "testdata", "A.txt"), []byte("a"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(pkg, "testdata", "a.txt"), []byte("b"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(pkg, "testdata", "big"), make([]byte, 2048), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x", "testdata", "up"), []byte("u"), 0o644))
	require.NoError(t, os.Symlink("A.txt", filepath.Join(pkg, "testdata", "link")))
	o := Options{Disk: filepath.Join(dir, "disk.img"), MaxFile: 1024}
	o.defaults()
	r := &Result{Pkg: "x/y"}
	require.NoError(t, makeImage(o, []*Result{r}, map[string]string{"x/y": pkg}, 0))
	assert.Equal(t, []string{"/pkg/x/testdata"}, r.Testdata)
	assert.Len(t, r.Skipped, 3, "%q", r.Skipped)
	assert.Contains(t, r.Skipped, "testdata/a.txt: FAT's names ignore case: testdata/A.txt is there already")
}
