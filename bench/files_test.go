package bench

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/bench/result"
	"github.com/simpleos/simpleos/policy"
)

func TestFilesFiguresAndTable(t *testing.T) {
	r := &Report{Envs: []Env{EnvTCG, EnvTCGIcount}}
	add := func(e Env, name string, ns float64, system string) {
		f, ok := filesFigure(result.Result{Name: name, Iters: 10, NsPerOp: ns}, e, system, "test")
		require.True(t, ok, name)
		r.Figures = append(r.Figures, f)
	}
	add(EnvTCG, "files/data/create-4k", 250e3, SimpleOS)
	add(EnvTCG, "files/data/create-4k", 50e3, Linux)
	add(EnvTCG, "files/data/seq-write-64k", 1e6, SimpleOS) // 65.5 MB/s
	add(EnvTCG, "files/data/seq-write-64k", 0.5e6, Linux)  // 131 MB/s
	add(EnvTCG, "files/tmp/seq-read-1m", 1e6, SimpleOS)    // 1,049 MB/s
	add(EnvTCGIcount, "files/tmp/stat", 12345, SimpleOS)
	add(EnvTCGIcount, "files/tmp/stat", 5000, Linux)
	add(EnvTCGIcount, "files/data/stat", 40e3, SimpleOS)
	for _, bad := range []string{"disk/seq-write", "files/stat", "files/data/", "files/data/a/b"} {
		_, ok := filesFigure(result.Result{Name: bad}, EnvTCG, SimpleOS, "")
		assert.False(t, ok, bad)
	}

	f, ok := r.Find("Files/data/seq-write-64k/linux", EnvTCG.Name, Linux)
	require.True(t, ok)
	assert.True(t, f.Elapsed, "the disk's figures include waiting for the device")
	v, _ := f.Metric("MB/s")
	assert.InDelta(t, 131.072, v, 0.001)
	f, _ = r.Find("Files/tmp/seq-read-1m/simpleos", EnvTCG.Name, SimpleOS)
	v, _ = f.Metric("MB/s")
	assert.InDelta(t, 1048.576, v, 0.001)
	f, _ = r.Find("Files/tmp/stat/simpleos", EnvTCGIcount.Name, SimpleOS)
	assert.False(t, f.Elapsed, "memory: instructions under -icount")
	assert.True(t, f.Instructions(EnvTCGIcount))
	assert.Empty(t, f.Extra)

	ln, factor, ok := linuxTwin("Files/data/create-4k/simpleos")
	assert.Equal(t, "Files/data/create-4k/linux", ln)
	assert.Equal(t, 1.0, factor)
	assert.True(t, ok)

	var b strings.Builder
	r.filesTable(&b)
	s := b.String()
	assert.Contains(t, s, "## Files\n")
	assert.Contains(t, s, "| tcg | /data (FAT32 disk) | create + write 4 KiB + close | 250 µs | 50 µs | 5.00 |")
	assert.Contains(t, s, "| tcg | /data (FAT32 disk) | sequential write + fsync, 64 KiB calls | 65.5 MB/s | 131 MB/s | 2.00 |")
	assert.Contains(t, s, "| tcg | /tmp (memory) | sequential read, 1 MiB calls | 1,049 MB/s | not measured | — |")
	assert.Contains(t, s, "| tcg-icount | /tmp (memory) | stat | 12,345 instr | 5,000 instr | 2.47 |")
	assert.Contains(t, s, "| tcg-icount | /data (FAT32 disk) | stat | 40 µs | not measured | — |", "the disk in guest time")
	assert.NotContains(t, s, "unlink", "no row without figures")

	// The environment tables give the same ratio.
	var md strings.Builder
	require.NoError(t, r.WriteMarkdown(&md, nil))
	assert.Contains(t, md.String(), "| Files/data/create-4k/simpleos | 250 µs |")
	assert.Contains(t, md.String(), "| 50 µs | 5.00× |")

	var empty strings.Builder
	(&Report{Envs: []Env{EnvTCG}}).filesTable(&empty)
	assert.Empty(t, empty.String())
}

func TestAddFilesChecksTheTranscript(t *testing.T) {
	var lines []string
	for _, label := range []string{"data", "tmp"} {
		for _, b := range FilesBenchmarks {
			lines = append(lines, result.Result{Name: "files/" + label + "/" + strings.TrimPrefix(b, "files/"), Iters: 4, NsPerOp: 1000}.Line())
		}
	}
	s := &suite{report: &Report{}, progress: newProgress(nil, false, 0)}
	problems := s.addFiles([]byte(strings.Join(lines, "\r\n")+"\r\nbench done\r\n"), EnvTCG, SimpleOS, "test")
	assert.Empty(t, problems)
	assert.Len(t, s.report.Figures, 2*len(FilesBenchmarks))
	for _, f := range s.report.Figures {
		assert.True(t, strings.HasPrefix(f.Name, "Files/") && strings.HasSuffix(f.Name, "/simpleos"), f.Name)
	}

	s = &suite{report: &Report{}, progress: newProgress(nil, false, 0)}
	out := lines[0] + "\nbench error name=files/data/read-4k err=open: EIO\nbench skip name=files/tmp/stat reason=mount failed\n" +
		result.Result{Name: "files/data/stat/x", Iters: 1, NsPerOp: 1}.Line() + "\n"
	problems = s.addFiles([]byte(out), EnvTCG, Linux, "test")
	assert.Contains(t, problems, "files/data/read-4k failed: open: EIO")
	assert.Contains(t, problems, "files/tmp/stat skipped: mount failed")
	assert.Contains(t, problems, "unexpected result files/data/stat/x")
	assert.Contains(t, problems, "no result for 15 benchmarks")
	assert.Len(t, s.report.Figures, 1)

	assert.Equal(t, []string{"no results"}, s.addFiles([]byte("kernel panic\n"), EnvTCG, Linux, "test"))
}

func TestFilesPolicyChecks(t *testing.T) {
	m, err := policy.Parse("files.policy", FilesPolicy)
	require.NoError(t, err)
	var names []string
	for _, mod := range m.Modules {
		names = append(names, mod.Name)
	}
	assert.Equal(t, []string{"blk", "fs", "guest"}, names)
}
