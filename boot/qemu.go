package boot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultQEMU is the emulator binary looked up in PATH.
const DefaultQEMU = "qemu-system-x86_64"

// The machine's IOMMU and the disk's PCI address (device 3 on bus 0: 00:03.0).
const (
	IOMMUDevice = "intel-iommu,intremap=off"
	DiskSlot    = "addr=0x3"
)

// Defaults applied to zero Options fields.
const (
	DefaultMemMB = 256
	DefaultSMP   = 1
	// ScratchDiskSize is the size of the sparse, all-zero image a boot without Options.Disk gets.
	ScratchDiskSize = 64 << 20
)

// Options describes one boot of a SimpleOS image in QEMU.
type Options struct {
	Image    string        // build/simpleos.img
	Modules  []string      // Multiboot modules (each "path" or "path args"); passed with -initrd joined by ","
	Append   string        // kernel command line (-append)
	Timeout  time.Duration // 0 = none
	MemMB    int           // default 256
	SMP      int           // default 1
	GDB      bool          // -s -S: wait for GDB on :1234
	Accel    string        // "auto" (default), "kvm", "tcg"
	Icount   string        // "" or e.g. "shift=0": adds -icount <value> (TCG only; error with kvm)
	Stdout   io.Writer     // serial console output is copied here as it arrives (may be nil)
	Protocol io.Writer     // the core's protocol channel is copied here as it arrives (may be nil)
	// Disk is the raw image attached as the virtio-blk disk at PCI slot 00:03.0. When empty,
	// Run creates a fresh sparse scratch image of ScratchDiskSize for this boot alone and
	// removes it afterwards: QEMU locks an image for writing, so parallel boots never share one.
	Disk string
	// NoIOMMU leaves out the intel-iommu device (and iommu_platform=on on the disk): the same
	// machine without DMA remapping, to measure what the IOMMU costs.
	NoIOMMU bool
	// Reboots, when positive, lets the guest reboot (QEMU runs without -no-reboot) and stops
	// QEMU when the boot after the Reboots-th reboot begins: a boot loop, reported in the
	// Result. The core resets the machine after a crash only when the kernel command line
	// says crash=reboot (otherwise a crash still stops QEMU with status 100). 0 = no reboots:
	// a reset ends QEMU, as it always has.
	Reboots int
	// Display gives the machine a VGA display without a window (-vga std -display none; the
	// VGA device is PCI 00:01.0): the core mirrors its console on it and paints its crash
	// screen there. Run serves QMP on a socket of its own to take the Screenshots.
	Display     bool
	Screenshots []Screenshot // taken when their cues arrive on the serial console; need Display
	ExtraArgs   []string
	QEMU        string // binary; default "qemu-system-x86_64" found in PATH
}

// Result is how a boot ended.
type Result struct {
	Status int    // the kernel's own exit status; 100 when the core crashed; 124 on timeout
	Accel  string // "kvm" or "tcg"
	Output []byte // everything the serial console printed: the core's, every task's, the console driver's
	// Protocol is what the core wrote on its protocol channel (port 0xe9, QEMU's debug
	// console): lines only the core can write. Campaign results and disk writes are read
	// from here, never from Output, where any task can print anything.
	Protocol []byte
	TimedOut bool
	Crashed  bool // status 100, or a line starting "CORE CRASH:" was seen, or QEMU ended without a status
	Duration time.Duration
	Note     string // e.g. the one-line TCG fallback note
	// Boots lists every boot the console showed (by the core's first line, BootMarker): when
	// it began and its crash line. More than one only with Options.Reboots.
	Boots []Boot
	// Reboots counts the boots after the first. BootLoop says the launcher stopped QEMU when
	// the boot after the Options.Reboots-th reboot began; Status is then StatusCrashed and
	// Note says "boot loop: N reboots in X s".
	Reboots  int
	BootLoop bool
	// Shots says what became of each of Options.Screenshots, in the order they were taken
	// (those whose cue never came last).
	Shots []Shot
}

// Args builds QEMU's command line for a resolved accelerator ("kvm" or "tcg").
//
// The machine is q35 with an Intel IOMMU (DMA remapping; interrupt remapping off) and a
// modern-only virtio-blk disk at 00:03.0 whose DMA goes through the IOMMU; no VGA (unless
// o.Display) and no NIC, so that the PCI bus holds only the host bridge, the disk and q35's
// own LPC, SATA and SMBus functions (00:1f.0, .2, .3). isa-debug-exit and isa-debugcon sit on the LPC bridge's ISA bus.
// Args attaches o.Disk as it is; with an empty Disk the machine has no disk (Run never boots
// one that way: it makes a scratch image first).
func (o Options) Args(accel string) ([]string, error) { return o.args(accel, "") }

// args is Args with the QMP socket of a Display.
func (o Options) args(accel, qmpSocket string) ([]string, error) {
	if o.Image == "" {
		return nil, errors.New("boot: no kernel image given")
	}
	if o.MemMB < 0 || o.SMP < 0 {
		return nil, fmt.Errorf("boot: memory (%d MiB) and CPU count (%d) must be positive", o.MemMB, o.SMP)
	}
	if o.Reboots < 0 {
		return nil, fmt.Errorf("boot: reboots (%d) must not be negative", o.Reboots)
	}
	var cpu string
	switch accel {
	case AccelTCG:
		cpu = "max" // every feature TCG can emulate
	case AccelKVM:
		cpu = "host"
		if o.Icount != "" {
			return nil, errors.New("boot: -icount needs TCG; it cannot be used with kvm")
		}
	default:
		return nil, fmt.Errorf("boot: accel %q: want kvm or tcg", accel)
	}

	args := []string{"-machine", "q35"}
	args = append(args, "-kernel", o.Image)
	if len(o.Modules) > 0 {
		escaped := make([]string, len(o.Modules))
		for i, m := range o.Modules {
			escaped[i] = strings.ReplaceAll(m, ",", ",,") // QEMU splits -initrd at single commas
		}
		args = append(args, "-initrd", strings.Join(escaped, ","))
	}
	if o.Append != "" {
		args = append(args, "-append", o.Append)
	}
	args = append(args,
		"-m", strconv.Itoa(orDefault(o.MemMB, DefaultMemMB)),
		"-smp", strconv.Itoa(orDefault(o.SMP, DefaultSMP)),
		"-display", "none",
		"-monitor", "none",
		"-serial", "stdio",
	)
	if o.Reboots == 0 {
		args = append(args, "-no-reboot") // a triple fault ends QEMU instead of rebooting forever
	}
	args = append(args,
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		// The protocol channel: Run passes a pipe as descriptor 3.
		"-chardev", "file,id=protocol,path=/dev/fd/3",
		"-device", "isa-debugcon,iobase=0xe9,chardev=protocol",
	)
	args = append(args, o.displayArgs(qmpSocket)...)
	args = append(args, "-nic", "none")
	args = append(args, o.diskArgs()...)
	args = append(args,
		"-accel", accel,
		"-cpu", cpu,
	)
	if o.Icount != "" {
		args = append(args, "-icount", o.Icount)
	}
	if o.GDB {
		args = append(args, "-s", "-S")
	}
	return append(args, o.ExtraArgs...), nil
}

// diskArgs attaches o.Disk: the IOMMU first (QEMU wants it before the devices it translates
// for), then the image as a virtio-blk device without the legacy interface, at slot 3.
func (o Options) diskArgs() []string {
	if o.Disk == "" {
		if o.NoIOMMU {
			return nil
		}
		return []string{"-device", IOMMUDevice}
	}
	drive := "file=" + strings.ReplaceAll(o.Disk, ",", ",,") + ",if=none,id=disk0,format=raw"
	if o.NoIOMMU {
		return []string{"-drive", drive, "-device", "virtio-blk-pci,drive=disk0,disable-legacy=on," + DiskSlot}
	}
	return []string{"-device", IOMMUDevice, "-drive", drive,
		"-device", "virtio-blk-pci,drive=disk0,disable-legacy=on,iommu_platform=on," + DiskSlot}
}

// orDefault returns v, or def when v is zero.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Run boots the image and waits for the kernel to exit, crash, or time out. It is safe to call
// from parallel tests: every call has its own QEMU in its own process group.
func Run(ctx context.Context, o Options) (Result, error) {
	qemu, err := findQEMU(o.QEMU)
	if err != nil {
		return Result{}, err
	}
	if _, err := os.Stat(o.Image); err != nil {
		return Result{}, fmt.Errorf("boot: kernel image %s: %w (build it with `simpleos build`)", o.Image, errors.Unwrap(err))
	}
	accel, note, err := ResolveAccel(o.Accel)
	if err != nil {
		return Result{}, err
	}
	if o.Disk == "" {
		disk, remove, err := scratchDisk()
		if err != nil {
			return Result{}, err
		}
		defer remove()
		o.Disk = disk
	} else if _, err := os.Stat(o.Disk); err != nil {
		return Result{}, fmt.Errorf("boot: disk image %s: %w", o.Disk, errors.Unwrap(err))
	}
	var start time.Time // when QEMU started
	var shots *shooter
	socket := ""
	if o.Display {
		shots, err = newShooter(o.Screenshots, func() time.Duration { return time.Since(start) })
		if err != nil {
			return Result{}, err
		}
		socket = shots.socket()
	} else if len(o.Screenshots) > 0 {
		return Result{}, errors.New("boot: screenshots need a display (Options.Display)")
	}
	args, err := o.args(accel, socket)
	if err != nil {
		if shots != nil {
			shots.finish()
		}
		return Result{}, err
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}

	console := &consoleBuffer{tee: o.Stdout}
	protocol := &consoleBuffer{tee: o.Protocol}
	pr, pw, err := os.Pipe()
	if err != nil {
		return Result{}, fmt.Errorf("boot: protocol channel: %w", err)
	}
	defer pr.Close()
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(protocol, pr)
		close(copied)
	}()
	var stderr bytes.Buffer
	watch := newBootWatch(o.Reboots, func() time.Duration { return time.Since(start) })
	cmd := exec.Command(qemu, args...)
	cmd.ExtraFiles = []*os.File{pw} // descriptor 3: the protocol channel
	cmd.Stdin = nil                 // /dev/null: QEMU must never read (or put into raw mode) our terminal
	cmd.Stdout = io.MultiWriter(console, watch)
	if shots != nil {
		cmd.Stdout = io.MultiWriter(console, watch, shots)
	}
	cmd.Stderr = &stderr
	// Its own process group, so that a kill reaches all of it; and killed with us, so that a
	// test binary stopped by its -timeout leaves no emulator running (a stuck one spins a core).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second // don't hang on pipes a stray child holds

	res := Result{Accel: accel, Note: note}
	start = time.Now()
	err = cmd.Start()
	pw.Close() // QEMU holds the write end now: EOF when it exits
	if err != nil {
		if shots != nil {
			shots.finish()
		}
		return res, fmt.Errorf("boot: starting %s: %w", qemu, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	qmpCtx, qmpGone := context.WithCancel(context.Background())
	if shots != nil {
		shots.connect(qmpCtx)
	}

	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done // reap it: no orphan, no zombie
		res.TimedOut = true
	case <-watch.limit:
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		res.BootLoop = true
	}
	res.Duration = time.Since(start)
	qmpGone()
	if shots != nil {
		res.Shots = shots.finish()
	}
	select {
	case <-copied:
	case <-time.After(2 * time.Second): // a stray child holding the pipe: take what arrived
	}
	res.Output = console.Bytes()
	res.Protocol = protocol.Bytes()
	res.Crashed = sawCrashMarker(res.Output)
	res.Boots = watch.result()
	res.Reboots = max(len(res.Boots)-1, 0)

	if res.BootLoop {
		// The machine keeps rebooting: what it would do for ever, cut short. The boot that
		// just began is the one after the last allowed reboot.
		res.Status = StatusCrashed
		res.Crashed = true
		res.Note = joinNotes(res.Note, bootLoopNote(res.Reboots, res.Boots[len(res.Boots)-1].Start))
		return res, nil
	}
	if res.Reboots > 0 {
		res.Note = joinNotes(res.Note, fmt.Sprintf("the machine rebooted %d times", res.Reboots))
	}

	if res.TimedOut {
		res.Status = StatusTimeout
		why := fmt.Sprintf("timed out after %v", o.Timeout)
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) || o.Timeout == 0 {
			why = fmt.Sprintf("stopped: %v", ctx.Err())
		}
		res.Note = joinNotes(res.Note, why)
		return res, nil
	}
	code := cmd.ProcessState.ExitCode()
	status, crashed, exitNote, ok := decodeExit(code)
	if !ok {
		return res, fmt.Errorf("boot: %s failed (%v): %s", qemu, waitErr, strings.TrimSpace(stderr.String()))
	}
	res.Status = status
	res.Crashed = res.Crashed || crashed
	res.Note = joinNotes(res.Note, exitNote)
	return res, nil
}

// scratchDisk creates a sparse image of ScratchDiskSize in a directory of its own and returns
// its path and the function that removes both.
func scratchDisk() (string, func(), error) {
	dir, err := os.MkdirTemp("", "simpleos-disk-")
	if err != nil {
		return "", nil, fmt.Errorf("boot: scratch disk: %w", err)
	}
	remove := func() { _ = os.RemoveAll(dir) }
	path := filepath.Join(dir, "scratch.img")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		err = f.Truncate(ScratchDiskSize)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		remove()
		return "", nil, fmt.Errorf("boot: scratch disk: %w", err)
	}
	return path, remove, nil
}

func findQEMU(name string) (string, error) {
	if name == "" {
		name = DefaultQEMU
	}
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	if name == DefaultQEMU {
		return "", fmt.Errorf("%s not found in PATH: install it with `scripts/deps run` (make run does) or `sudo apt-get install -y qemu-system-x86`", DefaultQEMU)
	}
	return "", fmt.Errorf("boot: QEMU binary %s not found: %w", name, err)
}

func joinNotes(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}

// consoleBuffer records the serial console and copies it on as it arrives.
type consoleBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	tee io.Writer
}

func (c *consoleBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if c.tee != nil {
		_, _ = c.tee.Write(p) // a failing viewer must not stop the guest
	}
	return len(p), nil
}

func (c *consoleBuffer) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}
