package bench

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/bench/result"
)

func TestDiskFiguresAndTable(t *testing.T) {
	e := EnvTCG
	r := &Report{Envs: []Env{e}}
	add := func(name string, ns float64, system string) {
		f, ok := diskFigure(result.Result{Name: name, Iters: 10, NsPerOp: ns}, e, system, "test")
		require.True(t, ok)
		r.Figures = append(r.Figures, f)
	}
	add("disk/seq-write", 1e6, SimpleOS)          // 65.5 MB/s
	add("disk/seq-write", 0.5e6, SimpleOSNoIOMMU) // 131 MB/s
	add("disk/seq-write", 0.25e6, Linux)          // 262 MB/s
	add("disk/rand-read-4k", 1e6, SimpleOS)       // 1,000 IOPS
	_, ok := diskFigure(result.Result{Name: "syscall/getppid"}, e, Linux, "")
	assert.False(t, ok)

	f, ok := r.Find("Disk/seq-write/simpleos-noiommu", e.Name, SimpleOS)
	require.True(t, ok)
	assert.True(t, f.Elapsed)
	v, _ := f.Metric("MB/s")
	assert.InDelta(t, 131.072, v, 0.001)
	iops, _ := r.Figures[3].Metric("IOPS")
	assert.InDelta(t, 1000, iops, 0.001)
	assert.Equal(t, Linux, r.Figures[2].System)

	ln, factor, ok := linuxTwin("Disk/seq-write/simpleos-noiommu")
	assert.Equal(t, "Disk/seq-write/linux", ln)
	assert.Equal(t, 1.0, factor)
	assert.True(t, ok)
	ln, _, _ = linuxTwin("Disk/rand-read-4k/simpleos")
	assert.Equal(t, "Disk/rand-read-4k/linux", ln)

	var b strings.Builder
	r.diskTable(&b)
	assert.Contains(t, b.String(), "| tcg | sequential write, 64 KiB requests (MB/s) | 65.5 | 131 | 262 | 0.25 | 0.50 |")
	assert.Contains(t, b.String(), "| tcg | random 4 KiB reads (IOPS) | 1,000 | not measured | not measured | — | — |")
	assert.NotContains(t, b.String(), "sequential read", "no row without figures")
}
