package boot

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestArgs(t *testing.T) {
	base := []string{"-m", "256", "-smp", "1", "-display", "none", "-monitor", "none", "-serial", "stdio",
		"-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		"-chardev", "file,id=protocol,path=/dev/fd/3", "-device", "isa-debugcon,iobase=0xe9,chardev=protocol",
		"-vga", "none", "-nic", "none"}
	disk := []string{"-device", "intel-iommu,intremap=off",
		"-drive", "file=build/disk.img,if=none,id=disk0,format=raw",
		"-device", "virtio-blk-pci,drive=disk0,disable-legacy=on,iommu_platform=on,addr=0x3"}

	args, err := Options{Image: "build/simpleos.img", Disk: "build/disk.img"}.Args("tcg")
	require.NoError(t, err)
	want := append([]string{"-machine", "q35", "-kernel", "build/simpleos.img"}, base...)
	want = append(want, disk...)
	assert.Equal(t, append(want, "-accel", "tcg", "-cpu", "max"), args)

	args, err = Options{Image: "img"}.Args("kvm")
	require.NoError(t, err)
	assert.Equal(t, []string{"-accel", "kvm", "-cpu", "host"}, args[len(args)-4:])

	args, err = Options{
		Image:     "img",
		Modules:   []string{"build/simpleos.elf", "apps/a,b.elf name=ab"},
		Append:    "selftest=primes:100000 x=1,2",
		MemMB:     512,
		SMP:       2,
		GDB:       true,
		Icount:    "shift=0",
		Disk:      "/tmp/a,b.img",
		ExtraArgs: []string{"-d", "int"},
	}.Args("tcg")
	require.NoError(t, err)
	assert.Equal(t, []string{
		"-machine", "q35",
		"-kernel", "img",
		"-initrd", "build/simpleos.elf,apps/a,,b.elf name=ab",
		"-append", "selftest=primes:100000 x=1,2",
		"-m", "512", "-smp", "2", "-display", "none", "-monitor", "none", "-serial", "stdio",
		"-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		"-chardev", "file,id=protocol,path=/dev/fd/3", "-device", "isa-debugcon,iobase=0xe9,chardev=protocol",
		"-vga", "none", "-nic", "none",
		"-device", "intel-iommu,intremap=off",
		"-drive", "file=/tmp/a,,b.img,if=none,id=disk0,format=raw",
		"-device", "virtio-blk-pci,drive=disk0,disable-legacy=on,iommu_platform=on,addr=0x3",
		"-accel", "tcg", "-cpu", "max",
		"-icount", "shift=0",
		"-s", "-S",
		"-d", "int",
	}, args)
}

func TestArgsNoIOMMU(t *testing.T) {
	args, err := Options{Image: "img", Disk: "d.img", NoIOMMU: true}.Args("tcg")
	require.NoError(t, err)
	joined := strings.Join(args, " ")
	assert.NotContains(t, joined, "intel-iommu")
	assert.NotContains(t, joined, "iommu_platform")
	assert.Contains(t, joined, "-drive file=d.img,if=none,id=disk0,format=raw "+
		"-device virtio-blk-pci,drive=disk0,disable-legacy=on,addr=0x3 ")

	// Without a disk the machine keeps its IOMMU (Run always gives it a disk).
	args, err = Options{Image: "img"}.Args("tcg")
	require.NoError(t, err)
	assert.Contains(t, args, "intel-iommu,intremap=off")
	assert.NotContains(t, strings.Join(args, " "), "virtio-blk")
}

func TestArgsErrors(t *testing.T) {
	for name, c := range map[string]struct {
		o     Options
		accel string
		want  string
	}{
		"icount with kvm": {Options{Image: "img", Icount: "shift=0"}, "kvm", "icount"},
		"unresolved":      {Options{Image: "img"}, "auto", `"auto"`},
		"no image":        {Options{}, "tcg", "image"},
		"negative memory": {Options{Image: "img", MemMB: -1}, "tcg", "positive"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.o.Args(c.accel)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestDecodeExit(t *testing.T) {
	for _, c := range []struct {
		code, status int
		crashed, ok  bool
	}{
		{1, 0, false, true},
		{3, 1, false, true},
		{201, 100, true, true},
		{0, 100, true, true},
		{2, 0, false, false},
		{-1, 0, false, false},
	} {
		status, crashed, _, ok := decodeExit(c.code)
		assert.Equal(t, c.ok, ok, "code %d", c.code)
		if ok {
			assert.Equal(t, c.status, status, "code %d", c.code)
			assert.Equal(t, c.crashed, crashed, "code %d", c.code)
		}
	}
}

func TestSawCrashMarker(t *testing.T) {
	assert.True(t, sawCrashMarker([]byte("boot\r\nCORE CRASH: page fault at 0x0\r\n")))
	assert.True(t, sawCrashMarker([]byte("CORE CRASH: first line")))
	assert.False(t, sawCrashMarker([]byte("boot\nno CORE CRASH: here\n")))
}

// fakeQEMU writes an executable shell script standing in for QEMU and a dummy image.
func fakeQEMU(t *testing.T, body string) (qemu, image string) {
	t.Helper()
	dir := t.TempDir()
	qemu = filepath.Join(dir, "qemu")
	require.NoError(t, os.WriteFile(qemu, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	image = filepath.Join(dir, "simpleos.img")
	require.NoError(t, os.WriteFile(image, []byte("image"), 0o644))
	return qemu, image
}

func TestRunDecodesExitCodes(t *testing.T) {
	for _, c := range []struct {
		exit, status int
		crashed      bool
		note         string
	}{
		{1, 0, false, ""},
		{7, 3, false, ""},
		{201, 100, true, ""},
		{0, 100, true, "without a status"},
	} {
		// Not parallel: a script written while another subtest forks can be open in that child
		// when this one execs it (ETXTBSY, "text file busy": it failed CI once).
		t.Run(strconv.Itoa(c.exit), func(t *testing.T) {
			qemu, img := fakeQEMU(t, fmt.Sprintf("echo \"args: $*\"\nexit %d", c.exit))
			var live bytes.Buffer
			res, err := Run(context.Background(), Options{QEMU: qemu, Image: img, Accel: "tcg", Stdout: &live})
			require.NoError(t, err)
			assert.Equal(t, c.status, res.Status)
			assert.Equal(t, c.crashed, res.Crashed)
			assert.Contains(t, res.Note, c.note)
			assert.False(t, res.TimedOut)
			assert.Equal(t, "tcg", res.Accel)
			assert.Contains(t, string(res.Output), "args: -machine q35 -kernel "+img+" ")
			assert.Equal(t, res.Output, live.Bytes(), "console is copied to Stdout")
		})
	}
}

func TestRunCrashMarkerMeansCrashed(t *testing.T) {
	qemu, img := fakeQEMU(t, "printf 'booting\\r\\nCORE CRASH: #PF at 0x0\\r\\n'\nexit 1")
	res, err := Run(context.Background(), Options{QEMU: qemu, Image: img, Accel: "tcg"})
	require.NoError(t, err)
	assert.Equal(t, 0, res.Status)
	assert.True(t, res.Crashed)
}

func TestRunQEMUFailureIsAnError(t *testing.T) {
	qemu, img := fakeQEMU(t, "echo 'qemu: could not load kernel' >&2\nexit 2")
	_, err := Run(context.Background(), Options{QEMU: qemu, Image: img, Accel: "tcg"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "could not load kernel")
}

// processGone reports whether pid has exited (a zombie awaiting its reaper counts as gone).
func processGone(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

func TestRunTimeoutKillsTheProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// The "QEMU" starts a child and waits: the child must die with it.
	qemu, img := fakeQEMU(t, "sleep 60 &\necho $! > "+pidFile+"\necho started\nwait")

	start := time.Now()
	res, err := Run(context.Background(), Options{QEMU: qemu, Image: img, Accel: "tcg", Timeout: 500 * time.Millisecond})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 5*time.Second, "returns promptly after the timeout")
	assert.Equal(t, 124, res.Status)
	assert.True(t, res.TimedOut)
	assert.Contains(t, res.Note, "timed out")
	assert.Contains(t, string(res.Output), "started")

	raw, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	require.NoError(t, err)
	assert.Eventually(t, func() bool { return processGone(pid) }, 2*time.Second, 20*time.Millisecond,
		"the fake QEMU's child %d is left running", pid)
}

func TestRunContextCancel(t *testing.T) {
	qemu, img := fakeQEMU(t, "exec sleep 60")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	res, err := Run(ctx, Options{QEMU: qemu, Image: img, Accel: "tcg"})
	require.NoError(t, err)
	assert.Equal(t, 124, res.Status)
	assert.True(t, res.TimedOut)
	assert.Contains(t, res.Note, "canceled")
}

func TestRunMissingQEMU(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, img := fakeQEMU(t, "exit 1")
	_, err := Run(context.Background(), Options{Image: img, Accel: "tcg"})
	require.Error(t, err)
	assert.Equal(t, "qemu-system-x86_64 not found in PATH: install it with `scripts/deps run` (make run does) or `sudo apt-get install -y qemu-system-x86`", err.Error())

	_, err = Run(context.Background(), Options{QEMU: "/nonexistent/qemu", Image: img, Accel: "tcg"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/qemu")
}

// diskOf is the file QEMU was given as disk0 in a fake QEMU's echoed arguments.
func diskOf(t *testing.T, out string) string {
	t.Helper()
	_, rest, ok := strings.Cut(out, "-drive file=")
	require.True(t, ok, "no -drive in %q", out)
	path, _, ok := strings.Cut(rest, ",if=none")
	require.True(t, ok)
	return path
}

func TestRunScratchDisk(t *testing.T) {
	// The fake QEMU reports the disk's apparent size and how many blocks it really holds.
	qemu, img := fakeQEMU(t, `disk=$(echo "$*" | sed 's/.*-drive file=\([^,]*\),.*/\1/')
echo "args: $*"
echo "size: $(stat -c %s "$disk") blocks: $(stat -c %b "$disk")"
exit 1`)
	res, err := Run(context.Background(), Options{QEMU: qemu, Image: img, Accel: "tcg"})
	require.NoError(t, err)
	out := string(res.Output)
	assert.Contains(t, out, fmt.Sprintf("size: %d blocks: 0\n", ScratchDiskSize), "a sparse 64 MiB image")
	first := diskOf(t, out)
	assert.NoFileExists(t, first, "removed after the boot")

	res, err = Run(context.Background(), Options{QEMU: qemu, Image: img, Accel: "tcg"})
	require.NoError(t, err)
	assert.NotEqual(t, first, diskOf(t, string(res.Output)), "every boot gets its own image")
}

func TestRunGivenDisk(t *testing.T) {
	qemu, img := fakeQEMU(t, "echo \"args: $*\"\nexit 1")
	disk := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, os.WriteFile(disk, []byte("data"), 0o644))
	res, err := Run(context.Background(), Options{QEMU: qemu, Image: img, Accel: "tcg", Disk: disk})
	require.NoError(t, err)
	assert.Equal(t, disk, diskOf(t, string(res.Output)))
	assert.FileExists(t, disk, "a given disk is kept")

	_, err = Run(context.Background(), Options{QEMU: qemu, Image: img, Accel: "tcg", Disk: disk + ".missing"})
	assert.ErrorContains(t, err, disk+".missing")
}

func TestRunMissingImage(t *testing.T) {
	qemu, _ := fakeQEMU(t, "exit 1")
	missing := filepath.Join(t.TempDir(), "simpleos.img")
	_, err := Run(context.Background(), Options{QEMU: qemu, Image: missing, Accel: "tcg"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), missing)
}

func TestRunAutoAccelFallsBackWithNote(t *testing.T) {
	saved := kvmProbe
	t.Cleanup(func() { kvmProbe = saved })
	kvmProbe = func() (bool, string) { return false, "no vmx/svm in /proc/cpuinfo" }

	qemu, img := fakeQEMU(t, "echo \"$*\"\nexit 1")
	res, err := Run(context.Background(), Options{QEMU: qemu, Image: img})
	require.NoError(t, err)
	assert.Equal(t, "tcg", res.Accel)
	assert.Contains(t, res.Note, "using TCG emulation")
	assert.Contains(t, string(res.Output), "-accel tcg -cpu max")
}
