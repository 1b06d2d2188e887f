package tests

// The benchmark suite (package bench, `simpleos bench`): every benchmark runs on a booted
// SimpleOS and produces well-formed figures. No figure is checked against a target: under
// emulation they say little about what the design can do, and the goals are reported, not
// enforced.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/bench"
)

// benchTiny keeps every benchmark to a few batches: enough to exercise each one.
var benchTiny = bench.Sizes{
	Batches: 3, SyscallOps: 200, SwitchTrips: 20, FaultPages: 64, IPCCalls: 50,
	GuestQuick: true, GuestOnly: []string{"syscall/getppid", "futex/roundtrip/thread", "pagefault/first-touch"},
	RestartKills: 2, RestartDelay: 50 * time.Millisecond, Pipes: 100, PipelineRuns: 1, BootRuns: 1,
}

func TestBenchSuiteRunsEveryBenchmark(t *testing.T) {
	t.Parallel()
	p := kernelPaths(t)
	parts := []string{bench.PartMicro, bench.PartSlowIPC, bench.PartGuest, bench.PartRestart, bench.PartBoot, bench.PartPipeline, bench.PartDisk}
	withLinux := false
	if _, err := exec.LookPath("apt-get"); err == nil {
		parts, withLinux = append(parts, bench.PartLinux), true // the baseline needs Debian's kernel package
	}
	out := t.TempDir()
	start := time.Now()
	report, err := bench.Run(context.Background(), bench.Config{
		Paths:    p,
		Preset:   "test",
		Sizes:    benchTiny,
		Envs:     []bench.Env{bench.EnvTCGIcount},
		Parts:    parts,
		Out:      out,
		LinuxDir: filepath.Join(p.BuildDir, "bench", "linux"), // shared with TestLinuxBaseline: one download
		Progress: t.Output(),
	})
	t.Logf("suite: %v", time.Since(start).Round(time.Millisecond))
	require.NoError(t, err)
	require.NotNil(t, report)
	assert.Empty(t, report.Errors, "every part ran")

	env := bench.EnvTCGIcount.Name
	micro := []string{
		"Syscall/getppid/r1", "Syscall/getppid/r2", "Syscall/getppid/r3", "ThreadSwitch/futex",
		"PageFault/first-touch",
		"IPCCallReply/r3-r2/fast", "IPCCallReply/r3-r1/fast", "IPCCallReply/r3-r2-filtered/fast",
		"IPCCallReply/r2-r1/fast", "IPCCallReply/r2-r1/slow", "IPCCallReply/r3-r2-4w/fast", "IPCCallReply/r3-r2-1k/fast", "IPCCallReply/r3-r2-x4/fast", "IPCCallReply/r3-r2-locked/fast",
		"IPCCallReply/r3-r2/slow", "IPCCallReply/r3-r1/slow", "IPCCallReply/r3-r2-filtered/slow",
	}
	for _, name := range micro {
		f, ok := report.Find(name, env, bench.SimpleOS)
		if !assert.True(t, ok, "no figure %s", name) {
			continue
		}
		assert.Positive(t, f.NsPerOp, name)
		assert.Positive(t, f.CyclesPerOp, name)
		assert.Len(t, f.Samples, benchTiny.Batches, name)
		assert.Positive(t, f.Iters, name)
	}
	for _, path := range []string{"fast", "slow"} {
		_, ok := report.Find("EBPFFilter/r3-r2/"+path, env, bench.SimpleOS)
		assert.True(t, ok, "the filter's cost on the %s path", path)
	}
	systems := []string{bench.SimpleOS}
	if withLinux {
		systems = append(systems, bench.Linux)
	}
	for _, sys := range systems {
		for _, g := range benchTiny.GuestOnly {
			f, ok := report.Find("Guest/"+g+"/"+sys, env, sys)
			if assert.True(t, ok, "no figure for bench/guest's %s on %s", g, sys) {
				assert.Positive(t, f.NsPerOp)
				assert.NotEmpty(t, f.Samples)
			}
		}
	}
	// Two kills of each module, from its snapshot and cold: both before any crash budget.
	for _, m := range bench.RestartModules {
		for _, cold := range []bool{false, true} {
			name := bench.RestartFigureName(m, cold)
			restart, ok := report.Find(name, env, bench.SimpleOS)
			if assert.True(t, ok, "no figure %s", name) {
				assert.Equal(t, int64(benchTiny.RestartKills), restart.Iters, name)
				assert.Positive(t, restart.NsPerOp, name)
				_, ok := restart.Metric(bench.MetricExclBackoff)
				assert.True(t, ok, "%s: the backoff of every restart is known", name)
				assert.NotContains(t, restart.Note, "cold starts, not restores", name)
			}
		}
	}
	ready, ok := report.Find("BootToReady/bundled", env, bench.SimpleOS)
	if assert.True(t, ok) {
		assert.Positive(t, ready.NsPerOp)
	}
	for _, dep := range []string{"tiered", "monolithic"} {
		f, ok := report.Find("SensorPipeline/"+dep, env, bench.SimpleOS)
		if assert.True(t, ok, dep) {
			assert.Equal(t, int64(benchTiny.Pipes), f.Iters)
			rate, ok := f.Metric("events/s")
			assert.True(t, ok)
			assert.Positive(t, rate)
		}
	}

	// The disk group: through the ring-1 driver with and without the IOMMU, and Linux's
	// virtio-blk when the baseline ran.
	for _, sys := range append([]string{bench.SimpleOSNoIOMMU}, systems...) {
		for _, b := range bench.DiskBenchmarks {
			name := "Disk/" + strings.TrimPrefix(b, "disk/") + "/" + sys
			f, ok := report.Find(name, env, map[bool]string{true: bench.Linux, false: bench.SimpleOS}[sys == bench.Linux])
			if !assert.True(t, ok, "no figure %s", name) {
				continue
			}
			assert.Positive(t, f.NsPerOp, name)
			assert.NotEmpty(t, f.Samples, name)
			assert.Len(t, f.Extra, 1, "%s: MB/s or IOPS", name)
		}
	}

	written, err := report.WriteAll(out)
	require.NoError(t, err)
	for _, f := range []string{bench.BenchFile, bench.JSONFile, bench.MarkdownFile, "bench-ipccallreply.svg", "bench-syscall.svg"} {
		assert.Contains(t, written, filepath.Join(out, f))
	}
	txt, err := os.ReadFile(filepath.Join(out, bench.BenchFile))
	require.NoError(t, err)
	line := regexp.MustCompile(`^Benchmark\S+/tcg-icount\t[1-9][0-9]*\t-?[0-9.]+ ns/op(\t-?[0-9.]+ \S+)*$`)
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(string(txt)), "\n") {
		if strings.HasPrefix(l, "Benchmark") {
			n++
			assert.Regexp(t, line, l)
		}
	}
	assert.Equal(t, len(report.Figures), n)
	md, err := os.ReadFile(filepath.Join(out, bench.MarkdownFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## tcg-icount\n\naccel tcg, -icount shift=0")
	assert.Contains(t, string(md), "## Goals")
	assert.Contains(t, string(md), "## Disk")
}

// TestBenchFilesGroup runs the files group (bench/files.go) with a 1 MiB sequential file under
// icount: every files benchmark gives a figure on SimpleOS, in /data and /tmp, and on Linux
// (vfat and tmpfs) when the baseline can run; the report has the Files table.
func TestBenchFilesGroup(t *testing.T) {
	t.Parallel()
	p := kernelPaths(t)
	_, err := exec.LookPath("apt-get")
	withLinux := err == nil
	out := t.TempDir()
	sizes := benchTiny
	sizes.FilesMiB = 1
	report, err := bench.Run(context.Background(), bench.Config{
		Paths:    p,
		Preset:   "test",
		Sizes:    sizes,
		Envs:     []bench.Env{bench.EnvTCGIcount},
		Parts:    []string{bench.PartFiles},
		NoLinux:  !withLinux,
		Out:      out,
		LinuxDir: filepath.Join(p.BuildDir, "bench", "linux"),
		Progress: t.Output(),
	})
	require.NoError(t, err)
	assert.Empty(t, report.Errors)
	systems := []string{bench.SimpleOS}
	if withLinux {
		systems = append(systems, bench.Linux)
	}
	for _, sys := range systems {
		for _, label := range []string{"data", "tmp"} {
			for _, b := range bench.FilesBenchmarks {
				name := "Files/" + label + "/" + strings.TrimPrefix(b, "files/") + "/" + sys
				f, ok := report.Find(name, bench.EnvTCGIcount.Name, sys)
				if !assert.True(t, ok, "no figure %s", name) {
					continue
				}
				assert.Positive(t, f.NsPerOp, name)
				assert.NotEmpty(t, f.Samples, name)
				if strings.Contains(name, "/seq-") {
					_, ok := f.Metric("MB/s")
					assert.True(t, ok, "%s: MB/s", name)
				}
			}
		}
	}
	_, err = report.WriteAll(out)
	require.NoError(t, err)
	md, err := os.ReadFile(filepath.Join(out, bench.MarkdownFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## Files")
}

// The instruction profile (part profile): QEMU's execution log between the client's marks,
// attributed to the core and both tasks. A round trip is thousands of instructions, most of
// them the core's, both halves of it answered by the IPC fastpath (never the general
// handlers), and the client's own clock agrees with the count.
func TestInstructionProfileOfRoundTrips(t *testing.T) {
	t.Parallel()
	p := kernelPaths(t)
	report, err := bench.Run(context.Background(), bench.Config{
		Paths: p, Preset: "test", Sizes: benchTiny, Envs: []bench.Env{bench.EnvTCGIcount},
		Parts: []string{bench.PartProfile}, Out: t.TempDir(), Progress: t.Output(),
	})
	require.NoError(t, err)
	assert.Empty(t, report.Errors)
	require.Len(t, report.Profiles, 8, "every stretch profiled")
	byName := map[string]bench.Profile{}
	for _, pr := range report.Profiles {
		byName[pr.Name] = pr
	}
	rt, ok := byName["IPC r3-r2"]
	require.True(t, ok)
	per := rt.Profile.PerTrip(rt.Profile.Total)
	assert.Greater(t, per, 1000.0)
	assert.Less(t, per, 10000.0)
	assert.InDelta(t, per, rt.Clocked, per*0.02, "the trace's count and the client's -icount clock agree")
	assert.Greater(t, rt.Profile.Levels[0], rt.Profile.Levels[3], "most of a round trip is the core's")
	assert.Positive(t, rt.Profile.Levels[2], "the ring-2 server ran")
	named := map[string]bool{}
	for _, r := range rt.Profile.Rows {
		if r.Level == 0 {
			named[r.Func[strings.LastIndex(r.Func, "/")+1:]] = true
		}
	}
	assert.True(t, named["ipc.fastCall"] && named["ipc.fastReplyRecv"], "the fastpath answered the calls and replies: %v", named)
	assert.False(t, named["ipc.SysCall"] || named["ipc.SysReplyRecv"], "the general handlers did not run")
	null, ok := byName["getppid r3"]
	require.True(t, ok)
	assert.Less(t, null.Profile.PerTrip(null.Profile.Total), per/3, "a null call is a fraction of a round trip")
	assert.Zero(t, null.Profile.Levels[1]+null.Profile.Levels[2], "no server ran")
	// By source line: every instruction of every side has its line, the trampoline's copy too.
	var lineSum uint64
	lines := map[string]bool{}
	for _, l := range rt.Profile.Lines {
		lineSum += l.Instr
		if l.Level == 0 && l.File != "" {
			lines[l.File[strings.LastIndex(l.File, "/")+1:]] = true
		}
	}
	assert.Equal(t, rt.Profile.Total, lineSum, "the lines add up to the round trip")
	for _, f := range []string{"fastpath.go", "handoff.go", "trap_amd64.s", "trampoline_amd64.s"} {
		assert.True(t, lines[f], "instructions of %s by line: %v", f, lines)
	}
}
