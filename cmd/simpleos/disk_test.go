package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runDiskCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = diskMain(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestDiskRoundTrip(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	code, out, errs := runDiskCLI("create", img, "--size", "40M")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, img+": 40M FAT32 image\n", out)
	st, err := os.Stat(img)
	require.NoError(t, err)
	assert.EqualValues(t, 40<<20, st.Size())

	host := filepath.Join(dir, "hello.txt")
	require.NoError(t, os.WriteFile(host, []byte("hello from the host\n"), 0o644))
	code, _, errs = runDiskCLI("put", img, host, "/etc/motd")
	require.Equal(t, 0, code, errs)

	code, out, errs = runDiskCLI("ls", img)
	require.Equal(t, 0, code, errs)
	assert.Regexp(t, `^d +0 [-0-9: ]+ etc/\n$`, out)
	code, out, _ = runDiskCLI("ls", img, "etc")
	assert.Equal(t, 0, code)
	assert.Regexp(t, `^- +20 [-0-9: ]+ motd\n$`, out)

	code, out, _ = runDiskCLI("cat", img, "etc/motd")
	assert.Equal(t, 0, code)
	assert.Equal(t, "hello from the host\n", out)

	back := filepath.Join(dir, "back.txt")
	code, _, errs = runDiskCLI("get", img, "/etc/motd", back)
	require.Equal(t, 0, code, errs)
	got, err := os.ReadFile(back)
	require.NoError(t, err)
	assert.Equal(t, "hello from the host\n", string(got))

	code, _, errs = runDiskCLI("cat", img, "/etc/missing")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, img+": /etc/missing: no such file or directory")
}

func TestDiskErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.img")
	require.NoError(t, os.WriteFile(junk, bytes.Repeat([]byte("junk"), 1<<16), 0o644))
	for _, args := range [][]string{{"ls", junk}, {"cat", junk, "a"}, {"get", junk, "a", filepath.Join(dir, "a")}} {
		code, _, errs := runDiskCLI(args...)
		assert.Equal(t, 1, code, "%q", args)
		assert.Contains(t, errs, junk+" is not a SimpleOS disk image", "%q", args)
	}
	code, _, errs := runDiskCLI("put", junk, junk, "/x")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, junk+" is not a SimpleOS disk image")

	code, _, errs = runDiskCLI("create", junk)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "already exists")

	for _, args := range [][]string{
		nil, {"help"}, {"frob"}, {"create"}, {"create", "a", "b"}, {"create", "a", "--size", "lots"},
		{"ls"}, {"ls", "a", "b", "c"}, {"cat", "a"}, {"put", "a", "b"}, {"get", "a", "b"}, {"ls", "--long", "a"},
	} {
		code, out, errs := runDiskCLI(args...)
		assert.Equal(t, 2, code, "%q", args)
		assert.Empty(t, out, "%q", args)
		assert.Contains(t, errs, "usage: simpleos disk", "%q", args)
	}
}

func TestDiskIsACommand(t *testing.T) {
	var stderr bytes.Buffer
	usage(&stderr)
	assert.True(t, strings.Contains(stderr.String(), "disk "), stderr.String())
}

func TestDiskRmTakesTheOperatorsPattern(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	code, _, errs := runDiskCLI("create", img, "--size", "40M")
	require.Equal(t, 0, code, errs)
	host := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(host, []byte("x"), 0o644))
	for _, p := range []string{"/CrowdStrike/C-00000291-00000000-00000002.sys", "/CrowdStrike/C-00000291-00000000-00000001.sys", "/CrowdStrike/C-00000292-00000000-00000001.sys"} {
		code, _, errs = runDiskCLI("put", img, host, p)
		require.Equal(t, 0, code, errs)
	}
	code, out, errs := runDiskCLI("rm", img, "/CrowdStrike/c-00000291*.sys")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "removed /CrowdStrike/C-00000291-00000000-00000001.sys\nremoved /CrowdStrike/C-00000291-00000000-00000002.sys\n", out)
	code, out, _ = runDiskCLI("ls", img, "/CrowdStrike")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "C-00000292-00000000-00000001.sys")
	assert.NotContains(t, out, "C-00000291")
	code, _, errs = runDiskCLI("rm", img, "/CrowdStrike/C-00000291*.sys")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "nothing matches")
}
