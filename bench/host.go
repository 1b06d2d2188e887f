package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// The host figures: bench/guest run natively on the machine that runs the suite, and the
// micro policy's eBPF filter run by the host kernel (BPF_PROG_TEST_RUN). They are the host's
// own Linux on real hardware, not emulated: a reference point, not a comparison of like with
// like (every other figure is measured inside QEMU).

// PartHost is the host figures; it runs once per suite, not once per environment.
const PartHost = "host"

// HostSystem is the system of the host figures.
const HostSystem = "host"

// EnvHost is the pseudo-environment of the host figures.
var EnvHost = Env{Name: "host", Accel: "none"}

// hostEnvText says what the host environment is, in every table.
const hostEnvText = "HOST FIGURES, not a comparison of like with like: the host's own Linux on real hardware, " +
	"not emulated (no QEMU); bench/guest run as a normal process, the eBPF filter run by the host kernel " +
	"through BPF_PROG_TEST_RUN; ns are the host's wall clock, cycles its TSC"

// describeEnv is e.Describe(), with the host environment's own description.
func describeEnv(e Env) string {
	if e.Name == EnvHost.Name {
		return hostEnvText
	}
	return e.Describe()
}

// HostGuestRun runs bench/guest natively and returns its output. Tests replace it.
var HostGuestRun = func(ctx context.Context, guest string, args []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, guest, args...)
	cmd.Stderr = os.Stderr
	return cmd.Output()
}

// HostEBPF measures the filter in the host kernel: ns per run of the filter and of an empty
// program, and the per-batch samples of the filter. Tests replace it.
var HostEBPF = hostEBPF

// hostEBPFBatches and hostEBPFRepeat size the host eBPF measurement.
const (
	hostEBPFBatches = 20
	hostEBPFRepeat  = 100000
)

// HostEBPFResult is what HostEBPF measured.
type HostEBPFResult struct {
	FilterNs float64   // mean ns per run of the filter
	EmptyNs  float64   // mean ns per run of a 2-instruction program (r0 = 0; exit)
	Samples  []float64 // per-batch ns per run of the filter
	Iters    int64
}

// hostFilter is denyLabel7 for a socket filter: the same five instructions, except that the
// label load is 4 bytes (the verifier allows no 8-byte loads of a socket filter's
// context; offset 16 is __sk_buff.protocol, which the verifier rewrites into a single load).
func hostFilter() asm.Instructions {
	ins := denyLabel7()
	ins[0] = asm.LoadMem(asm.R2, asm.R1, 16, asm.Word)
	return ins
}

func hostEBPF() (HostEBPFResult, error) {
	var r HostEBPFResult
	if runtime.GOOS != "linux" {
		return r, fmt.Errorf("not Linux (%s)", runtime.GOOS)
	}
	load := func(ins asm.Instructions) (*ebpf.Program, error) {
		return ebpf.NewProgram(&ebpf.ProgramSpec{
			Name: "bench_host", Type: ebpf.SocketFilter, License: "GPL", Instructions: ins,
		})
	}
	filter, err := load(hostFilter())
	if err != nil {
		return r, fmt.Errorf("loading the filter: %w", err)
	}
	defer filter.Close()
	empty, err := load(asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()})
	if err != nil {
		return r, fmt.Errorf("loading the empty program: %w", err)
	}
	defer empty.Close()
	in := make([]byte, 64) // a packet: the test run needs at least an Ethernet header
	bench := func(p *ebpf.Program) (time.Duration, error) {
		ret, d, err := p.Benchmark(in, hostEBPFRepeat, nil)
		if err != nil {
			return 0, fmt.Errorf("BPF_PROG_TEST_RUN: %w", err)
		}
		if p == filter && ret != 0 {
			return 0, fmt.Errorf("the filter returned %d for a packet of protocol 0, want 0", ret)
		}
		return d, nil
	}
	var sumF, sumE float64
	for range hostEBPFBatches {
		df, err := bench(filter)
		if err != nil {
			return r, err
		}
		de, err := bench(empty)
		if err != nil {
			return r, err
		}
		ns := float64(df.Nanoseconds())
		r.Samples = append(r.Samples, ns)
		sumF += ns
		sumE += float64(de.Nanoseconds())
	}
	r.FilterNs = sumF / hostEBPFBatches
	r.EmptyNs = sumE / hostEBPFBatches
	r.Iters = hostEBPFBatches * hostEBPFRepeat
	return r, nil
}

// runHost measures the host figures.
func (s *suite) runHost(ctx context.Context) {
	s.progress.boot("host: bench/guest natively and the eBPF filter in the host kernel (host figures, not emulated)")
	if !slices.ContainsFunc(s.report.Envs, func(e Env) bool { return e.Name == EnvHost.Name }) {
		s.report.Envs = append(s.report.Envs, EnvHost)
	}
	s.hostGuest(ctx)
	s.hostEBPF()
}

// hostGuestFigures turns bench/guest's output into host figures and the problems it shows.
func hostGuestFigures(out []byte, args []string) ([]Figure, []string) {
	rs, problems := guestResults(out)
	var figs []Figure
	for _, r := range rs {
		figs = append(figs, figureOf(r, "Guest/"+r.Name+"/host", EnvHost, HostSystem,
			"bench/guest "+strings.Join(args, " ")+" as a normal process on the host (not emulated)"))
	}
	return figs, problems
}

func (s *suite) hostGuest(ctx context.Context) {
	if s.guest == "" {
		s.errorf("host: bench/guest was not built")
		return
	}
	var args []string
	if s.cfg.Sizes.GuestQuick {
		args = append(args, "-quick")
	}
	if len(s.cfg.Sizes.GuestOnly) > 0 {
		args = append(args, "-only", strings.Join(s.cfg.Sizes.GuestOnly, ","))
	}
	out, runErr := HostGuestRun(ctx, s.guest, args)
	if len(out) > 0 && s.cfg.Out != "" {
		_ = os.WriteFile(filepath.Join(s.cfg.Out, "logs", "host-guest.log"), out, 0o644)
	}
	figs, problems := hostGuestFigures(out, args)
	s.add(figs...)
	if runErr != nil {
		problems = append([]string{runErr.Error()}, problems...)
	}
	if len(figs) == 0 && runErr == nil {
		problems = append(problems, "no result lines")
	}
	if len(problems) > 0 {
		s.errorf("host: bench/guest: %s", strings.ReplaceAll(strings.Join(problems, "; "), "\n", "; "))
	}
}

func (s *suite) hostEBPF() {
	r, err := HostEBPF()
	if err != nil {
		s.report.Notes = append(s.report.Notes, "host eBPF not measured: "+err.Error())
		return
	}
	s.add(hostEBPFFigure(r))
}

// hostEBPFFigure is the host's figure for the filter.
func hostEBPFFigure(r HostEBPFResult) Figure {
	return Figure{
		Name: "EBPFFilter/host", Env: EnvHost.Name, System: HostSystem, Iters: r.Iters,
		NsPerOp: r.FilterNs, Samples: r.Samples,
		Source: "the 5-instruction filter as a socket filter, BPF_PROG_TEST_RUN on the host kernel (JIT as configured), ns per run",
		Note: fmt.Sprintf("each run includes the test-run loop's own cost: a 2-instruction program takes %s ns, so the filter's own share is about %s ns",
			num(r.EmptyNs), num(r.FilterNs-r.EmptyNs)),
	}
}
