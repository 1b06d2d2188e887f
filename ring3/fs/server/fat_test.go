package server_test

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/fs/fat"
)

// What only the FAT mount shows: read-only files, names that fold case, and data that a
// sync made durable on the image.

func TestFATModesAndCase(t *testing.T) {
	c, _ := fatClient(t)
	h, e := c.open("/ro.txt", abi.O_WRONLY|abi.O_CREAT, 0o444)
	require.Zero(t, e)
	require.Zero(t, c.close(h))
	st, e := c.stat("/ro.txt")
	require.Zero(t, e)
	assert.EqualValues(t, abi.S_IFREG|0o444, st.mode, "FAT's read-only attribute")
	up, e := c.stat("/RO.TXT")
	require.Zero(t, e)
	assert.Equal(t, st, up, "one file, one inode, whatever the case")
	assert.Equal(t, syscall.EEXIST, c.mkdir("/Ro.Txt"))
}

func TestFATSyncIsDurable(t *testing.T) {
	c, img := fatClient(t)
	require.Zero(t, c.mkdir("/data"))
	big := strings.Repeat("0123456789abcdef", 5000) // 80 KB: two grants
	h := c.mustOpen("/data/A Long File Name.bin", abi.O_RDWR|abi.O_CREAT)
	for off := 0; off < len(big); off += len(c.grant) {
		n, _, e := c.write(h, uint64(off), big[off:min(len(big), off+len(c.grant))])
		require.Zero(t, e)
		require.NotZero(t, n)
	}
	require.Zero(t, errno(c.call(abi.FSSync, [4]uint64{h}, "", "", 0, false)))
	c.writeFile("/data/small.txt", "small")
	require.Zero(t, c.rename("/data/small.txt", "/moved.txt", 0))
	require.Zero(t, errno(c.call(abi.FSSync, [4]uint64{abi.FSSyncAll}, "", "", 0, false)))

	// what another mount of the image reads (as after a reboot), and what fsck says
	f, err := os.Open(img)
	require.NoError(t, err)
	defer f.Close()
	vol, err := fat.Mount(fat.FileDevice{F: f})
	require.NoError(t, err)
	st, err := vol.Stat("data/a long file name.bin")
	require.NoError(t, err)
	assert.EqualValues(t, len(big), st.Size)
	g, err := vol.Open("data/A Long File Name.bin", 0, 0)
	require.NoError(t, err)
	buf := make([]byte, len(big))
	n, err := g.ReadAt(buf, 0)
	require.NoError(t, err)
	assert.Equal(t, big, string(buf[:n]))
	_, err = vol.Stat("moved.txt")
	assert.NoError(t, err)
	require.Zero(t, c.close(h))

	fsck := "/usr/sbin/fsck.fat"
	if _, err := exec.LookPath(fsck); err != nil {
		t.Skip("fsck.fat not installed")
	}
	out, err := exec.Command(fsck, "-n", img).CombinedOutput()
	assert.NoError(t, err, "%s", out)
}
