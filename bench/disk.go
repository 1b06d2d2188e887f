package bench

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/simpleos/simpleos/bench/result"
	"github.com/simpleos/simpleos/boot"
)

// The disk benchmarks: bench/guest's disk/ benchmarks (64 KiB sequential writes and reads,
// 4 KiB random reads) through SimpleOS's ring-1 virtio-blk driver, once with the IOMMU
// confining the driver's DMA and once on the same machine without intel-iommu, and on Linux's
// virtio-blk (the Linux baseline's boot runs them on /dev/vda).

// DiskPolicy is the policy of the disk boots (bench/policy/disk.policy).
//
//go:embed policy/disk.policy
var DiskPolicy []byte

// DiskBenchmarks are bench/guest's disk benchmarks, in the order they run (the reads read
// what the writes wrote).
var DiskBenchmarks = []string{"disk/seq-write", "disk/seq-read", "disk/rand-read-4k"}

// Systems of the disk figures besides SimpleOS and Linux: SimpleOS without the IOMMU.
const SimpleOSNoIOMMU = "simpleos-noiommu"

// diskVariant is one SimpleOS disk boot.
type diskVariant struct {
	system  string // the last element of the figure names
	noIOMMU bool
	append  string
	how     string
}

var diskVariants = []diskVariant{
	{system: SimpleOS, how: "through the ring-1 driver (endpoint blk), DMA confined by the IOMMU"},
	{system: SimpleOSNoIOMMU, noIOMMU: true, append: "dma=unconfined",
		how: "through the ring-1 driver, the machine without intel-iommu, booted with dma=unconfined (DMA at physical addresses, not confined)"},
}

// diskFigure turns one of bench/guest's disk results into a figure named Disk/KIND/system:
// elapsed guest time per request (it includes waiting for the device: under -icount it is not
// an instruction count), with MB/s or IOPS.
func diskFigure(r result.Result, e Env, system, source string) (Figure, bool) {
	kind, ok := strings.CutPrefix(r.Name, "disk/")
	if !ok {
		return Figure{}, false
	}
	f := figureOf(r, "Disk/"+kind+"/"+system, e, systemOf(system), source)
	f.Elapsed = true
	if r.NsPerOp > 0 {
		if strings.HasPrefix(kind, "seq-") {
			f.Extra = []Metric{{Unit: "MB/s", Value: 65536 / r.NsPerOp * 1e3}}
		} else {
			f.Extra = []Metric{{Unit: "IOPS", Value: 1e9 / r.NsPerOp}}
		}
	}
	return f, true
}

// systemOf is the Figure.System of a figure-name system.
func systemOf(s string) string {
	if s == Linux {
		return Linux
	}
	return SimpleOS
}

// runDisk boots the disk benchmarks on SimpleOS with and without the IOMMU.
func (s *suite) runDisk(ctx context.Context, e Env) {
	for _, v := range diskVariants {
		s.runDiskBoot(ctx, e, v)
	}
}

func (s *suite) runDiskBoot(ctx context.Context, e Env, v diskVariant) {
	name := e.Name + "-disk"
	what := "IOMMU on"
	if v.noIOMMU {
		name, what = name+"-noiommu", "no IOMMU, dma=unconfined"
	}
	s.progress.boot(fmt.Sprintf("%s: disk through the ring-1 driver (%s)", e.Name, what))
	if s.guest == "" || s.blk == "" {
		s.errorf("%s: %s or tier1/blk was not built", name, GuestPackage)
		return
	}
	policyFile := filepath.Join(s.cfg.Out, "policy", "disk.policy")
	if err := os.WriteFile(policyFile, DiskPolicy, 0o644); err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	args := []string{"-disk", "blk", "-only", strings.Join(DiskBenchmarks, ",")}
	if s.cfg.Sizes.GuestQuick {
		args = append([]string{"-quick"}, args...)
	}
	o, err := boot.System(s.cfg.Paths, boot.SystemSpec{
		Apps:      []boot.AppSpec{{Ring: 1, Path: s.blk}, {Ring: 3, Path: s.guest, Args: args}},
		NoModules: true,
		Policy:    policyFile,
		Append:    strings.TrimSpace("taskmem=160 " + v.append),
	}, s.cfg.Log)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	o.Accel, o.Icount, o.NoIOMMU = e.Accel, e.Icount, v.noIOMMU
	o.Timeout = s.bootTimeout(10 * time.Minute)
	res, err := s.runBoot(ctx, name, o) // Disk empty: a fresh scratch image for this boot
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	rs, problems := guestResults(res.Output)
	want := map[string]bool{}
	for _, b := range DiskBenchmarks {
		want[b] = true
	}
	for _, r := range rs {
		f, ok := diskFigure(r, e, v.system, "bench/guest "+strings.Join(args, " ")+", "+v.how)
		if !ok || !want[r.Name] {
			problems = append(problems, "unexpected result "+r.Name)
			continue
		}
		delete(want, r.Name)
		s.add(f)
	}
	for _, b := range DiskBenchmarks {
		if want[b] {
			problems = append(problems, "no result for "+b)
		}
	}
	for _, m := range skipRE.FindAllStringSubmatch(string(res.Output), -1) {
		problems = append(problems, fmt.Sprintf("%s skipped: %s", m[1], strings.TrimSpace(m[2])))
	}
	if !bytes.Contains(res.Output, []byte("bench done")) {
		problems = append(problems, "no \"bench done\" line")
	}
	if why := bootEnded(res); why != "" {
		problems = append(problems, "the boot "+why)
	}
	if len(problems) > 0 {
		s.errorf("%s: %s (transcript: %s)", name, strings.Join(problems, "; "), s.logPath(name))
	}
}

// diskRows are the disk table's rows: figure kind, label, metric.
var diskRows = []struct{ kind, label, unit string }{
	{"seq-write", "sequential write, 64 KiB requests", "MB/s"},
	{"seq-read", "sequential read, 64 KiB requests", "MB/s"},
	{"rand-read-4k", "random 4 KiB reads", "IOPS"},
}

// diskTable compares, in every environment, SimpleOS with and without the IOMMU and Linux:
// throughput, and the ratios of the same run.
func (r *Report) diskTable(b *strings.Builder) {
	var rows []string
	for _, e := range r.Envs {
		for _, row := range diskRows {
			get := func(system, figSystem string) (float64, bool) {
				f, ok := r.Find("Disk/"+row.kind+"/"+system, e.Name, figSystem)
				if !ok {
					return 0, false
				}
				return f.Metric(row.unit)
			}
			on, okOn := get(SimpleOS, SimpleOS)
			off, okOff := get(SimpleOSNoIOMMU, SimpleOS)
			lx, okLx := get(Linux, Linux)
			if !okOn && !okOff && !okLx {
				continue
			}
			cell := func(v float64, ok bool) string {
				if !ok {
					return "not measured"
				}
				return num(v)
			}
			ratio := func(a, b float64, okA, okB bool) string {
				if !okA || !okB || b == 0 {
					return "—"
				}
				return fmt.Sprintf("%.2f", a/b)
			}
			rows = append(rows, fmt.Sprintf("| %s | %s (%s) | %s | %s | %s | %s | %s |", e.Name, row.label, row.unit,
				cell(on, okOn), cell(off, okOff), cell(lx, okLx), ratio(on, lx, okOn, okLx), ratio(on, off, okOn, okOff)))
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Disk\n\n")
	b.WriteString("bench/guest's disk benchmarks: SimpleOS through the ring-1 virtio-blk driver with the IOMMU " +
		"confining its DMA, the same without intel-iommu (`dma=unconfined`), and Linux's virtio-blk on /dev/vda " +
		"(O_DIRECT), on the same machine and QEMU settings, each on a fresh scratch image. Throughput in guest " +
		"time, which includes waiting for the device: under -icount it is not an instruction count. " +
		"*× Linux* and *IOMMU on/off* divide throughputs: below 1 is slower.\n\n")
	b.WriteString("| env | what | SimpleOS | SimpleOS, no IOMMU | Linux | × Linux | IOMMU on/off |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|\n")
	for _, row := range rows {
		b.WriteString(row + "\n")
	}
	b.WriteString("\n")
}
