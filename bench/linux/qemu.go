package linux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/simpleos/simpleos/boot"
)

// DoneLine is what the guest program prints last.
const DoneLine = "bench done"

// Options describes one boot of Linux with the guest program as /init.
type Options struct {
	Kernel    string        // bzImage (Kernel.Path)
	Initramfs string        // from BuildInitramfs
	Accel     string        // "auto" (default), "kvm" or "tcg": boot.ResolveAccel
	Icount    string        // "" or e.g. "shift=0": -icount shift=0 (TCG only)
	MemMB     int           // default 256, like SimpleOS
	Args      []string      // the guest program's arguments (no spaces or quotes)
	Timeout   time.Duration // 0 = none
	Stdout    io.Writer     // the serial console, copied as it arrives (may be nil)
	Log       io.Writer     // notes such as the TCG fallback (may be nil)
	QEMU      string        // default qemu-system-x86_64 in PATH
	Disk      string        // the virtio-blk disk's image, as boot.Options.Disk (default: a scratch image)
	NoIOMMU   bool          // the machine without intel-iommu, as boot.Options.NoIOMMU
}

// CommandLine is the kernel command line: the serial console, no boot chatter, QEMU ends on a
// panic (panic=-1 reboots at once, and -no-reboot turns that into an exit), and after "--"
// the arguments Linux passes on to /init.
func (o Options) CommandLine() (string, error) {
	s := "console=ttyS0 quiet panic=-1"
	if len(o.Args) == 0 {
		return s, nil
	}
	for _, a := range o.Args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'") {
			return "", fmt.Errorf("linux: guest argument %q cannot be passed on the kernel command line", a)
		}
	}
	return s + " -- " + strings.Join(o.Args, " "), nil
}

// QEMUArgs is QEMU's command line for a resolved accelerator ("kvm" or "tcg"). It is
// SimpleOS's own (boot.Options.Args): the same machine (q35 with intel-iommu and the
// virtio-blk disk), CPU model, memory, one CPU and devices, so that both kernels are measured alike; the initramfs takes the place of
// SimpleOS's Multiboot modules.
func (o Options) QEMUArgs(accel string) ([]string, error) {
	if o.Kernel == "" || o.Initramfs == "" {
		return nil, errors.New("linux: boot needs a kernel and an initramfs")
	}
	cmdline, err := o.CommandLine()
	if err != nil {
		return nil, err
	}
	return o.bootOptions(cmdline).Args(accel)
}

func (o Options) bootOptions(cmdline string) boot.Options {
	return boot.Options{
		Image:   o.Kernel,
		Modules: []string{o.Initramfs},
		Append:  cmdline,
		MemMB:   o.MemMB,
		SMP:     1,
		Icount:  o.Icount,
		Timeout: o.Timeout,
		Stdout:  o.Stdout,
		QEMU:    o.QEMU,
		Disk:    o.Disk,
		NoIOMMU: o.NoIOMMU,
	}
}

// Boot boots Linux and returns what the serial console printed. It is an error if the guest
// program did not finish (no DoneLine): a panic, a timeout, a hang.
func Boot(ctx context.Context, o Options) ([]byte, error) {
	for _, f := range []string{o.Kernel, o.Initramfs} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("linux: %w", err)
		}
	}
	if _, err := o.QEMUArgs(boot.AccelTCG); err != nil {
		return nil, err
	}
	accel, note, err := boot.ResolveAccel(o.Accel)
	if err != nil {
		return nil, err
	}
	if note != "" && o.Log != nil {
		fmt.Fprintln(o.Log, note)
	}
	cmdline, _ := o.CommandLine()
	bo := o.bootOptions(cmdline)
	bo.Accel = accel
	// boot.Run reads QEMU's exit code as SimpleOS's status; Linux powering off makes QEMU exit
	// 0, so only the console says how it went.
	res, err := boot.Run(ctx, bo)
	if err != nil {
		return res.Output, err
	}
	switch {
	case res.TimedOut:
		return res.Output, fmt.Errorf("linux: boot %s: %s:\n%s", accel, res.Note, tail(res.Output, 20))
	case !hasLine(res.Output, DoneLine):
		return res.Output, fmt.Errorf("linux: the guest program did not finish (no %q):\n%s", DoneLine, tail(res.Output, 20))
	}
	return res.Output, nil
}

// hasLine reports whether a line of out is exactly s (the console ends lines with "\r\n").
func hasLine(out []byte, s string) bool {
	for _, line := range bytes.Split(out, []byte("\n")) {
		if string(bytes.TrimSpace(line)) == s {
			return true
		}
	}
	return false
}

// tail returns the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\r\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
