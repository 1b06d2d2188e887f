package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/bench/result"
)

func names(bs []benchmark) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.name)
	}
	return out
}

var allNames = []string{
	"pipe/roundtrip/process", "pipe/roundtrip/thread", "futex/roundtrip/thread",
	"syscall/getppid", "sched/yield", "pagefault/first-touch",
	"disk/seq-write", "disk/seq-read", "disk/rand-read-4k",
	"files/create-4k", "files/read-4k", "files/stat", "files/unlink",
	"files/seq-write-64k", "files/seq-read-64k", "files/seq-write-1m", "files/seq-read-1m",
}

// diskNames are the benchmarks that need -disk, fileNames those that need -files.
var (
	diskNames = allNames[6:9]
	fileNames = allNames[9:]
)

func TestParseArgs(t *testing.T) {
	o, err := parseArgs(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, options{}, o)
	assert.Equal(t, allNames, names(o.selected()))

	o, err = parseArgs([]string{"-quick", "-poweroff", "-only", "sched/yield,syscall/getppid"}, io.Discard)
	require.NoError(t, err)
	assert.True(t, o.quick)
	assert.True(t, o.poweroff)
	assert.Equal(t, []string{"syscall/getppid", "sched/yield"}, names(o.selected()), "table order")

	o, err = parseArgs([]string{"-only", ",futex/roundtrip/thread,"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"futex/roundtrip/thread"}, names(o.selected()))
}

func TestParseArgsErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-only", "pipe/roundtrip"},   // not a prefix match
		{"-only", "sched/yield,nope"}, // one unknown name
		{"-quick", "extra"},           // no positional arguments
		{"-fast"},                     // no such flag
		{"-files", "data"},            // not absolute
		{"-files", "/a/data,/b/data"}, // two directories labelled data
		{"-files", "/a/Data Dir"},     // a label results cannot carry
		{"-mount", "vfat:/dev/vda"},   // no target
		{"-files-mib", "-1"},
	} {
		_, err := parseArgs(args, io.Discard)
		assert.Error(t, err, "%q", args)
	}
	var usage bytes.Buffer
	_, err := parseArgs([]string{"-h"}, &usage)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, usage.String(), "usage: guest [-quick] [-only NAMES] [-disk DISK] [-files DIRS] [-files-mib N] [-mount SPECS] [-poweroff]")
	assert.Contains(t, usage.String(), "pagefault/first-touch")
}

func TestNoProcessCreationIsASkip(t *testing.T) {
	defer func(f func() string) { executable = f }(executable)
	executable = func() string { return "/nonexistent/guest" }
	_, err := pipeProcess("pipe/roundtrip/process", 1, 1)
	var skip skipError
	require.ErrorAs(t, err, &skip)
	assert.Contains(t, skip.reason, "cannot start a process")

	var out bytes.Buffer
	assert.False(t, run(&out, options{only: []string{"pipe/roundtrip/process"}}), "a skip is no failure")
	assert.True(t, strings.HasPrefix(out.String(), "bench skip name=pipe/roundtrip/process reason="), out.String())
}

// TestNativeQuick runs the program on the host as an ordinary Linux process: every benchmark
// prints a well-formed result line (the figures are not checked).
func TestNativeQuick(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "guest")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(build.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	out, err = exec.Command(bin, "-quick").CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("%s", out)
	results, err := result.Parse(out)
	require.NoError(t, err)
	assert.Equal(t, allNames[:6], resultNames(results), "no disk without -disk")
	for _, r := range results {
		assert.Positive(t, r.Iters, r.Name)
		assert.Len(t, r.Samples, batchCount, r.Name)
	}
	for _, name := range diskNames {
		assert.Contains(t, string(out), "bench skip name="+name+" reason=no disk given")
	}
	for _, name := range fileNames {
		assert.Contains(t, string(out), "bench skip name="+name+" reason=no directories given")
	}
	assert.Contains(t, string(out), "\nbench done\n")

	// The disk benchmarks on a file standing in for the device.
	img := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, os.WriteFile(img, nil, 0o644))
	require.NoError(t, os.Truncate(img, 8<<20))
	out, err = exec.Command(bin, "-quick", "-disk", img, "-only", strings.Join(diskNames, ",")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	results, err = result.Parse(out)
	require.NoError(t, err)
	assert.Equal(t, diskNames, resultNames(results))
	for _, r := range results {
		batches, n := diskSizes(r.Name, true)
		assert.Equal(t, int64(batches*n), r.Iters, r.Name)
		assert.Len(t, r.Samples, batches, r.Name)
		assert.Positive(t, r.NsPerOp, r.Name)
	}
	// 5 MiB written from sector 0: the pattern of seq-write, not zeros.
	b, err := os.ReadFile(img)
	require.NoError(t, err)
	assert.NotEqual(t, make([]byte, 64), b[5<<20-64:5<<20], "the last request's data")
	assert.Equal(t, make([]byte, 64), b[5<<20:5<<20+64], "nothing past the region")

	// A disk too small for the region is an error, not a crash.
	require.NoError(t, os.Truncate(img, 1<<20))
	out, _ = exec.Command(bin, "-quick", "-disk", img, "-only", "disk/seq-write").CombinedOutput()
	assert.Contains(t, string(out), "bench error name=disk/seq-write err=the disk (1 MiB) is smaller than the 5 MiB")

	out, err = exec.Command(bin, "-quick", "-only", "sched/yield").CombinedOutput()
	require.NoError(t, err, "%s", out)
	results, err = result.Parse(out)
	require.NoError(t, err)
	assert.Equal(t, []string{"sched/yield"}, resultNames(results))

	err = exec.Command(bin, "-only", "nope").Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 2, exit.ExitCode())
}

// TestNativeFiles runs the files benchmarks on the host in two directories: one result per
// benchmark and directory, named by the directory, with the guest's sizes; the directories are
// left empty.
func TestNativeFiles(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "guest")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(build.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	root := t.TempDir()
	data, tmp := filepath.Join(root, "data"), filepath.Join(root, "tmp")
	require.NoError(t, os.Mkdir(data, 0o755))
	out, err = exec.Command(bin, "-quick", "-files-mib", "2", "-files", data+","+tmp, "-only", strings.Join(fileNames, ",")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("%s", out)
	results, err := result.Parse(out)
	require.NoError(t, err)
	var want []string
	for _, label := range []string{"data", "tmp"} {
		for _, n := range fileNames {
			want = append(want, "files/"+label+"/"+strings.TrimPrefix(n, "files/"))
		}
	}
	assert.Equal(t, want, resultNames(results), "directory by directory, in table order")
	filesState.mib = 2
	defer func() { filesState.mib = 0 }()
	for _, r := range results {
		batches, n := filesSizes(r.Name, true)
		assert.Equal(t, int64(batches*n), r.Iters, r.Name)
		assert.Len(t, r.Samples, batches, r.Name)
		assert.Positive(t, r.NsPerOp, r.Name)
	}
	for _, d := range []string{data, tmp} {
		left, err := os.ReadDir(filepath.Join(d, smallDir))
		require.NoError(t, err)
		assert.Empty(t, left, "unlink removed the small files and seq-read its file")
	}

	// Without create-4k, the reads make their files first (untimed).
	out, err = exec.Command(bin, "-quick", "-files", data, "-only", "files/stat").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "bench result name=files/data/stat iters=200 ")

	// A mount that fails is a skip of every files benchmark.
	out, err = exec.Command(bin, "-quick", "-files", data, "-mount", "nofs:none:"+filepath.Join(root, "m"), "-only", "files/stat,files/unlink").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "bench skip name=files/data/stat reason=mount none (nofs)")
	assert.Contains(t, string(out), "bench skip name=files/data/unlink reason=mount none (nofs)")
}

func resultNames(rs []result.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}
