package linux

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/simpleos/simpleos/bench/result"
	"github.com/simpleos/simpleos/boot"
)

// GuestPackage is the benchmark program, relative to the module root.
const GuestPackage = "./bench/guest"

// DefaultRunTimeout bounds a Run's boot when RunOptions.Timeout is zero.
const DefaultRunTimeout = 10 * time.Minute

// RunOptions describes one measurement of Linux.
type RunOptions struct {
	Dir    string   // work directory: the kernel (under kernel/), the guest, the initramfs
	Root   string   // module root to build the guest from; default: found from the working directory
	Quick  bool     // guest -quick
	Only   []string // guest -only (default all)
	Accel  string   // as Options.Accel
	Icount string   // as Options.Icount
	MemMB  int      // as Options.MemMB
	Disk   string   // as Options.Disk
	// GuestArgs replace the guest's default disk arguments ("-disk /dev/vda"); -poweroff,
	// -quick and -only are added as usual.
	GuestArgs []string
	NoIOMMU   bool          // as Options.NoIOMMU
	Timeout   time.Duration // the boot; default DefaultRunTimeout
	Stdout    io.Writer     // the serial console as it arrives (may be nil)
	Log       io.Writer     // progress: apt, the Go build, notes (may be nil)
}

// Run fetches the kernel, builds the guest program and its initramfs, boots Linux and parses
// the results. It returns the console output as well, and an error if the guest reported one.
func Run(ctx context.Context, o RunOptions) ([]result.Result, []byte, error) {
	if o.Dir == "" {
		return nil, nil, errors.New("linux: Run needs a work directory")
	}
	if o.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, nil, err
		}
		if o.Root, err = boot.FindRoot(wd); err != nil {
			return nil, nil, err
		}
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultRunTimeout
	}
	k, err := Fetch(ctx, filepath.Join(o.Dir, "kernel"), o.Log)
	if err != nil {
		return nil, nil, err
	}
	guest := filepath.Join(o.Dir, "guest")
	if err := BuildGuest(ctx, o.Root, guest, o.Log); err != nil {
		return nil, nil, err
	}
	initramfs := filepath.Join(o.Dir, "initramfs.cpio.gz")
	var mods []string
	for _, m := range append(slices.Clone(DiskModules), FileSystemModules...) {
		mods = append(mods, filepath.Join(filepath.Dir(filepath.Dir(k.Path)), "lib", "modules", k.Release, "kernel", m))
	}
	if err := BuildInitramfs(guest, initramfs, mods...); err != nil {
		return nil, nil, err
	}
	// The machine always has the disk (a fresh scratch image unless Disk names one): the guest
	// loads the virtio modules and overwrites it from sector 0.
	args := []string{"-poweroff", "-disk", "/dev/vda"}
	if o.GuestArgs != nil {
		args = append([]string{"-poweroff"}, o.GuestArgs...)
	}
	if o.Quick {
		args = append(args, "-quick")
	}
	if len(o.Only) > 0 {
		args = append(args, "-only", strings.Join(o.Only, ","))
	}
	if o.Log != nil {
		fmt.Fprintf(o.Log, "linux: booting %s (%s) with /init %s\n", k.Release, k.PackageVersion, strings.Join(args, " "))
	}
	out, err := Boot(ctx, Options{
		Kernel: k.Path, Initramfs: initramfs, Accel: o.Accel, Icount: o.Icount, MemMB: o.MemMB,
		Args: args, Timeout: o.Timeout, Stdout: o.Stdout, Log: o.Log, Disk: o.Disk, NoIOMMU: o.NoIOMMU,
	})
	if err != nil {
		return nil, out, err
	}
	results, err := result.Parse(out)
	if err != nil {
		return results, out, fmt.Errorf("linux: %w", err)
	}
	if failed := errorLineRE.FindAllString(string(out), -1); len(failed) > 0 {
		return results, out, fmt.Errorf("linux: the guest reported:\n%s", strings.Join(failed, "\n"))
	}
	return results, out, nil
}

// errorLineRE matches the guest's line for a benchmark that failed (without the "\r").
var errorLineRE = regexp.MustCompile(`bench error [^\r\n]*`)

// BuildGuest builds the guest program statically for linux/amd64 (how SimpleOS runs it, too).
func BuildGuest(ctx context.Context, root, out string, w io.Writer) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, GuestPackage)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	output, err := cmd.CombinedOutput()
	if w != nil && len(output) > 0 {
		w.Write(output)
	}
	if err != nil {
		return fmt.Errorf("linux: building %s: %v:\n%s", GuestPackage, err, output)
	}
	return nil
}
