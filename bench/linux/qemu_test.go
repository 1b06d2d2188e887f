package linux

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
)

func TestCommandLine(t *testing.T) {
	s, err := Options{}.CommandLine()
	require.NoError(t, err)
	assert.Equal(t, "console=ttyS0 quiet panic=-1", s)

	s, err = Options{Args: []string{"-poweroff", "-quick", "-only", "sched/yield,syscall/getppid"}}.CommandLine()
	require.NoError(t, err)
	assert.Equal(t, "console=ttyS0 quiet panic=-1 -- -poweroff -quick -only sched/yield,syscall/getppid", s)

	for _, bad := range []string{"two words", `"quoted"`, ""} {
		_, err := Options{Args: []string{bad}}.CommandLine()
		assert.Error(t, err, "%q", bad)
	}
}

// after returns the value following flag in args.
func after(t *testing.T, args []string, flag string) string {
	t.Helper()
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	t.Fatalf("no %s in %q", flag, args)
	return ""
}

func TestQEMUArgs(t *testing.T) {
	o := Options{Kernel: "k/vmlinuz", Initramfs: "initramfs.cpio.gz", Args: []string{"-quick"}}
	args, err := o.QEMUArgs(boot.AccelTCG)
	require.NoError(t, err)
	assert.Equal(t, "k/vmlinuz", after(t, args, "-kernel"))
	assert.Equal(t, "initramfs.cpio.gz", after(t, args, "-initrd"))
	assert.Equal(t, "console=ttyS0 quiet panic=-1 -- -quick", after(t, args, "-append"))
	assert.Equal(t, "256", after(t, args, "-m"))
	assert.Equal(t, "1", after(t, args, "-smp"))
	assert.Equal(t, "tcg", after(t, args, "-accel"))
	assert.Equal(t, "max", after(t, args, "-cpu"))
	assert.Equal(t, "stdio", after(t, args, "-serial"))
	assert.Contains(t, args, "-no-reboot")
	assert.NotContains(t, args, "-icount")
	assert.Equal(t, "q35", after(t, args, "-machine"))
	assert.Contains(t, args, "intel-iommu,intremap=off")

	withDisk := o
	withDisk.Disk, withDisk.NoIOMMU = "disk.img", true
	diskArgs, err := withDisk.QEMUArgs(boot.AccelTCG)
	require.NoError(t, err)
	assert.Equal(t, "file=disk.img,if=none,id=disk0,format=raw", after(t, diskArgs, "-drive"))
	assert.NotContains(t, diskArgs, "intel-iommu,intremap=off")

	// Like for like: exactly the flags SimpleOS boots with, but for the kernel and its initrd.
	simpleos, err := boot.Options{Image: "k/vmlinuz", Modules: []string{"initramfs.cpio.gz"}, Append: after(t, args, "-append")}.Args(boot.AccelTCG)
	require.NoError(t, err)
	assert.Equal(t, simpleos, args)

	o.Icount, o.MemMB = "shift=0", 512
	args, err = o.QEMUArgs(boot.AccelTCG)
	require.NoError(t, err)
	assert.Equal(t, "shift=0", after(t, args, "-icount"))
	assert.Equal(t, "512", after(t, args, "-m"))

	args, err = Options{Kernel: "k", Initramfs: "i"}.QEMUArgs(boot.AccelKVM)
	require.NoError(t, err)
	assert.Equal(t, "host", after(t, args, "-cpu"))
	_, err = o.QEMUArgs(boot.AccelKVM)
	assert.ErrorContains(t, err, "icount", "-icount needs TCG")

	_, err = Options{Initramfs: "i"}.QEMUArgs(boot.AccelTCG)
	assert.Error(t, err, "no kernel")
	_, err = Options{Kernel: "k", Initramfs: "i", Args: []string{"a b"}}.QEMUArgs(boot.AccelTCG)
	assert.Error(t, err)
}

func TestBootMissingFiles(t *testing.T) {
	_, err := Boot(context.Background(), Options{Kernel: filepath.Join(t.TempDir(), "vmlinuz"), Initramfs: "x"})
	assert.ErrorContains(t, err, "vmlinuz")
}

func TestHasLine(t *testing.T) {
	assert.True(t, hasLine([]byte("a\r\nbench done\r\n[ 4.2] reboot: Power down\r\n"), DoneLine))
	assert.False(t, hasLine([]byte("bench done not\n"), DoneLine))
	assert.Equal(t, "c\nd", tail([]byte("a\nb\nc\nd\n"), 2))
	assert.Equal(t, "a", strings.TrimSpace(tail([]byte("a"), 5)))
}
