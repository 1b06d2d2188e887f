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
}

// diskNames are the benchmarks that need -disk.
var diskNames = allNames[6:]

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
	} {
		_, err := parseArgs(args, io.Discard)
		assert.Error(t, err, "%q", args)
	}
	var usage bytes.Buffer
	_, err := parseArgs([]string{"-h"}, &usage)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, usage.String(), "usage: guest [-quick] [-only NAMES] [-disk DISK] [-poweroff]")
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

func resultNames(rs []result.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}
