package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/simpleos/simpleos/bench/linux"
	"github.com/simpleos/simpleos/bench/result"
)

// LinuxRun measures Linux with bench/guest under the environment's QEMU settings (package
// bench/linux). Tests replace it.
var LinuxRun = func(ctx context.Context, o linux.RunOptions) ([]result.Result, []byte, error) {
	return linux.Run(ctx, o)
}

// runLinux boots Debian's kernel with bench/guest as /init, in the same environment as the
// SimpleOS figures it is compared with.
func (s *suite) runLinux(ctx context.Context, e Env) {
	name := e.Name + "-linux"
	s.progress.boot(e.Name + ": the Linux baseline (bench/guest as /init of Debian's cloud kernel)")
	dir := s.cfg.LinuxDir
	if dir == "" {
		dir = filepath.Join(s.cfg.Out, "linux")
	}
	only := s.cfg.Sizes.GuestOnly
	if len(only) > 0 && s.has(PartDisk) {
		only = append(slices.Clone(only), DiskBenchmarks...) // the disk figures' twins
	}
	o := linux.RunOptions{
		Dir:     dir,
		Root:    s.cfg.Paths.Root,
		Quick:   s.cfg.Sizes.GuestQuick,
		Only:    only,
		Accel:   e.Accel,
		Icount:  e.Icount,
		Timeout: s.cfg.Sizes.LinuxTimeout,
		Log:     s.cfg.Log,
	}
	rs, out, err := LinuxRun(ctx, o)
	if len(out) > 0 {
		_ = os.WriteFile(filepath.Join(s.cfg.Out, "logs", name+".log"), out, 0o644)
	}
	args := "-poweroff -disk /dev/vda"
	if o.Quick {
		args += " -quick"
	}
	for _, r := range rs {
		source := "bench/guest " + args + " as /init of Debian's cloud kernel"
		if f, ok := diskFigure(r, e, Linux, source+", /dev/vda opened O_DIRECT (virtio-blk, IOMMU left off: Debian's default)"); ok {
			s.add(f)
			continue
		}
		s.add(figureOf(r, "Guest/"+r.Name+"/linux", e, Linux, source))
	}
	switch {
	case err != nil && len(rs) == 0:
		s.report.Linux = mergeStatus(s.report.Linux, e.Name+": failed")
		s.errorf("%s: %s", name, strings.ReplaceAll(err.Error(), "\n", "; "))
	case err != nil:
		s.report.Linux = mergeStatus(s.report.Linux, e.Name+": partly measured")
		s.errorf("%s: %s", name, strings.ReplaceAll(err.Error(), "\n", "; "))
	default:
		s.report.Linux = mergeStatus(s.report.Linux, fmt.Sprintf("%s: measured (%d benchmarks)", e.Name, len(rs)))
	}
}

// mergeStatus adds one environment's outcome to the report's Linux status.
func mergeStatus(status, add string) string {
	if status == "" || status == "not run" {
		return add
	}
	return status + "; " + add
}
