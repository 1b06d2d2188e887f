package tests

// Files (issue 13): the file-system server (ring3/fs) over the ring-1 disk driver, the Linux
// file ABI every task has through the core's VFS, the policy's path grants, persistence across
// boots and fsync's durability when QEMU is killed.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/boot/disk"
)

// fsModule is the file-system server's policy entry.
const fsModule = `
module fs
    binary   ring3/fs
    ring     3
    serves   fs
    calls    blk
    quota    96MiB
    restart  always
end
`

// filesManifest is the disk driver and the file-system server, and extra.
func filesManifest(extra string) string {
	return blkModule("    dma 1MiB") + fsModule + extra
}

const fileServer = "./ring3/fs"

// formattedDisk makes a FAT32 image for one test.
func formattedDisk(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, disk.Create(f, 64<<20))
	return f
}

// bootFiles boots the driver, the server and programs (unlisted --app programs get /data and
// /tmp) with image attached.
func bootFiles(t *testing.T, image, extra string, timeout time.Duration, programs ...string) boot.Result {
	t.Helper()
	return bootDisk(t, filesManifest(extra), os.Getenv("FILES_CMDLINE"), image, timeout, append([]string{blkDriver, fileServer}, programs...)...)
}

func TestFileABIOnTheDiskAndInTmp(t *testing.T) {
	image := formattedDisk(t)
	res := bootFiles(t, image, "", 240*time.Second, "./ring3/filetest abi /data")
	out := string(res.Output)
	assert.Regexp(t, `filetest: abi /data/abi: \d+ checks OK`, out)
	assert.Contains(t, out, "fs: serving /")
	assert.Equal(t, 0, res.Status)

	res = bootFiles(t, image, "", 240*time.Second, "./ring3/filetest abi /tmp")
	assert.Regexp(t, `filetest: abi /tmp/abi: \d+ checks OK`, string(res.Output))
	assert.Equal(t, 0, res.Status)
	checkImage(t, image)
}

func TestFilesPersistAcrossBoots(t *testing.T) {
	image := formattedDisk(t)
	res := bootFiles(t, image, "", 120*time.Second, "./ring3/filetest write /data/kept 7 1000000")
	require.Contains(t, string(res.Output), "filetest: wrote and fsynced /data/kept (1000000 bytes)")
	res = bootFiles(t, image, "", 120*time.Second, "./ring3/filetest verify /data/kept 7 1000000")
	assert.Contains(t, string(res.Output), "filetest: verified /data/kept (1000000 bytes)")
	assert.Equal(t, 0, res.Status)
	im, err := disk.Open(image, false)
	require.NoError(t, err)
	b, err := im.ReadFile("/data/kept")
	im.Close()
	require.NoError(t, err)
	assert.Len(t, b, 1000000)
	checkImage(t, image)
}

// checkImage has fsck.fat check a disk image, when it is installed.
func checkImage(t *testing.T, image string) {
	t.Helper()
	fsck := "/usr/sbin/fsck.fat"
	if _, err := os.Stat(fsck); err != nil {
		t.Logf("no %s: image not checked", fsck)
		return
	}
	out, err := exec.Command(fsck, "-n", image).CombinedOutput()
	assert.NoError(t, err, "fsck.fat -n %s:\n%s", image, out)
}

func TestFsyncedDataSurvivesAKilledQEMU(t *testing.T) {
	image := formattedDisk(t)
	p := kernelPaths(t)
	mods := appModules(t, []string{blkDriver, fileServer, "./ring3/filetest write /data/fsynced 3 300000 --hang"},
		func(pkg string) string { return repoProgram(t, pkg) })
	file := filepath.Join(t.TempDir(), "test.policy")
	require.NoError(t, os.WriteFile(file, []byte(filesManifest("")), 0o644))
	m, err := boot.PolicyModules(file)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := boot.Run(ctx, boot.Options{
		Image: p.Image, Modules: append(append([]string{p.ELF}, mods...), m...),
		Timeout: 120 * time.Second, Disk: image,
		Stdout: &killOn{text: "filetest: wrote and fsynced /data/fsynced (300000 bytes)", kill: cancel},
	})
	t.Logf("run: %v", err)
	t.Logf("status %d\n%s", res.Status, res.Output)
	require.Contains(t, string(res.Output), "wrote and fsynced")
	im, err := disk.Open(image, false)
	require.NoError(t, err)
	defer im.Close()
	b, err := im.ReadFile("/data/fsynced")
	require.NoError(t, err, "the fsynced file is gone after QEMU was killed")
	require.Len(t, b, 300000)
	for i := range b {
		x := uint64(i)*31 + 3
		if b[i] != byte(x^x>>8^x>>16) {
			t.Fatalf("byte %d of the fsynced file is wrong after QEMU was killed", i)
		}
	}
}

func TestPathGrantsAndTheirAuditLines(t *testing.T) {
	image := formattedDisk(t)
	// A listed module: /data/shared read-only, /tmp read-write, nothing else.
	extra := `
module filetest
    binary   ring3/filetest
    ring     3
    files    /data/shared ro
    files    /tmp rw
    cwd      /tmp
    restart  never
    args     denied /data/shared/x /data/other /etc/passwd /tmp/../data/y
end
`
	res := bootFiles(t, image, extra, 120*time.Second, "./ring3/filetest")
	out := string(res.Output)
	assert.Contains(t, out, "filetest: denied 4 paths")
	assert.Contains(t, out, `open "/data/shared/x" for writing: not in its policy's files grants`)
	assert.Contains(t, out, `open "/etc/passwd" for writing: not in its policy's files grants`)
	assert.Contains(t, out, `open "/data/y" for writing`, "'..' is resolved before the grants are checked")
}

// killOn watches the serial output and kills QEMU (cancels its context) once text appears.
type killOn struct {
	mu   sync.Mutex
	seen []byte
	text string
	kill func()
}

func (k *killOn) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seen = append(k.seen, p...)
	if bytes.Contains(k.seen, []byte(k.text)) {
		k.kill()
	}
	return len(p), nil
}
