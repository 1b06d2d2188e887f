package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostSuite is a suite that runs only the host part, with its guest program at guest.
func hostSuite(t *testing.T, guest string) *suite {
	out := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(out, "logs"), 0o755))
	return &suite{
		cfg:      Config{Out: out, Sizes: Quick, Parts: []string{PartHost}},
		report:   &Report{Start: time.Now(), Preset: "quick", Envs: []Env{EnvTCG}, Linux: "not run"},
		progress: newProgress(nil, false, 1),
		guest:    guest,
	}
}

func TestHostFiguresFromCannedResults(t *testing.T) {
	out := "bench start quick=true pid=12\n" +
		"bench result name=syscall/getppid iters=2000 ns_per_op=61.5 cycles_per_op=0 samples=61,62\n" +
		"bench result name=pipe/roundtrip/thread iters=100 ns_per_op=5300 cycles_per_op=0 samples=5200,5400\n" +
		"bench error name=sched/yield err=boom\n" +
		"bench done\n"
	oldRun, oldEBPF := HostGuestRun, HostEBPF
	t.Cleanup(func() { HostGuestRun, HostEBPF = oldRun, oldEBPF })
	var gotArgs []string
	HostGuestRun = func(_ context.Context, _ string, args []string) ([]byte, error) {
		gotArgs = args
		return []byte(out), nil
	}
	HostEBPF = func() (HostEBPFResult, error) {
		return HostEBPFResult{FilterNs: 12, EmptyNs: 9, Samples: []float64{11, 13}, Iters: 200000}, nil
	}
	s := hostSuite(t, "/nonexistent/guest")
	s.runHost(context.Background())
	r := s.report

	assert.Equal(t, []string{"-quick"}, gotArgs)
	assert.Equal(t, []Env{EnvTCG, EnvHost}, r.Envs)
	require.Len(t, r.Figures, 3)
	g, ok := r.Find("Guest/syscall/getppid/host", "host", HostSystem)
	require.True(t, ok)
	assert.Equal(t, 61.5, g.NsPerOp)
	assert.Equal(t, "BenchmarkGuest/syscall/getppid/host/host", g.BenchName())
	f, ok := r.Find("EBPFFilter/host", "host", HostSystem)
	require.True(t, ok)
	assert.Equal(t, 12.0, f.NsPerOp)
	assert.Contains(t, f.Note, "about 3 ns")
	require.Len(t, r.Errors, 1)
	assert.Contains(t, r.Errors[0], "sched/yield failed: boom")

	var md, bench bytes.Buffer
	require.NoError(t, r.WriteMarkdown(&md, nil))
	require.NoError(t, r.WriteBench(&bench))
	assert.Contains(t, md.String(), "## host\n\nHOST FIGURES, not a comparison of like with like: the host's own Linux on real hardware, not emulated")
	assert.Contains(t, md.String(), "| EBPFFilter/host | 12 ns |")
	assert.Contains(t, bench.String(), "env-host: HOST FIGURES")
	assert.Contains(t, bench.String(), "BenchmarkEBPFFilter/host/host\t200000\t12.00 ns/op\n")
}

func TestHostEBPFNotMeasuredIsANote(t *testing.T) {
	old := HostEBPF
	t.Cleanup(func() { HostEBPF = old })
	HostEBPF = func() (HostEBPFResult, error) { return HostEBPFResult{}, os.ErrPermission }
	s := hostSuite(t, "")
	s.hostEBPF()
	assert.Empty(t, s.report.Figures)
	assert.Empty(t, s.report.Errors)
	assert.Equal(t, []string{"host eBPF not measured: permission denied"}, s.report.Notes)
}

func TestHostFilterIsFiveInstructions(t *testing.T) {
	assert.Len(t, hostFilter(), 5)
	assert.Len(t, denyLabel7(), 5)
}

// TestHostPartOnThisMachine runs the host part for real: figures that are well formed, or a
// note / an error saying why not. It never asserts figures.
func TestHostPartOnThisMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs bench/guest")
	}
	dir := t.TempDir()
	guest := filepath.Join(dir, "guest")
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	if err := goBuild(context.Background(), root, GuestPackage, guest); err != nil {
		t.Logf("cannot build bench/guest (the eBPF half still runs): %v", err)
		guest = ""
	}
	s := hostSuite(t, guest)
	s.cfg.Sizes.GuestOnly = []string{"syscall/getppid", "sched/yield"}
	s.runHost(context.Background())
	r := s.report
	for _, f := range r.Figures {
		assert.Equal(t, "host", f.Env)
		assert.Equal(t, HostSystem, f.System)
		assert.Positive(t, f.Iters, f.Name)
		assert.Positive(t, f.NsPerOp, f.Name)
		assert.True(t, strings.HasPrefix(f.Name, "Guest/") || f.Name == "EBPFFilter/host", f.Name)
		t.Logf("%s  %s", BenchLine(f, EnvHost), f.Note)
	}
	_, ebpfOK := r.Find("EBPFFilter/host", "host", HostSystem)
	noted := false
	for _, n := range r.Notes {
		noted = noted || strings.HasPrefix(n, "host eBPF not measured: ")
		t.Logf("note: %s", n)
	}
	assert.True(t, ebpfOK != noted, "the eBPF figure or a note, not both or neither")
	guestFigs := 0
	for _, f := range r.Figures {
		if strings.HasPrefix(f.Name, "Guest/") {
			guestFigs++
		}
	}
	assert.True(t, guestFigs > 0 || len(r.Errors) > 0, "guest figures or an error")
	for _, e := range r.Errors {
		t.Logf("error: %s", e)
	}
}
