package server_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/boot/disk"
	"github.com/simpleos/simpleos/fs/fat"
	"github.com/simpleos/simpleos/fs/memfs"
	"github.com/simpleos/simpleos/ring3/fs/server"
)

const tmpLimit = 1 << 20

// backend makes a server with "/" on one file system and "/tmp" on memfs (tmpLimit bytes).
type backend struct {
	name string
	mk   func(t *testing.T) *client
}

var backends = []backend{
	{"memfs", func(t *testing.T) *client { return newClient(t, memRoot(t)) }},
	{"fat", func(t *testing.T) *client { c, _ := fatClient(t); return c }},
}

func memRoot(t *testing.T) *server.Server {
	s := server.New(server.Options{Logf: t.Logf})
	require.NoError(t, s.Mount("/", memfs.New(0), server.MountOptions{}))
	require.NoError(t, s.Mount("/tmp", memfs.New(tmpLimit), server.MountOptions{}))
	return s
}

var (
	imageOnce sync.Once
	imageData []byte
)

// fatImage returns a new FAT32 image file made by boot/disk (formatted once per test binary).
func fatImage(t *testing.T) string {
	imageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fsd-server-test")
		if err != nil {
			return
		}
		defer os.RemoveAll(dir)
		p := filepath.Join(dir, "disk.img")
		if err := disk.Create(p, disk.MinSize); err != nil {
			t.Logf("disk.Create: %v", err)
			return
		}
		imageData, _ = os.ReadFile(p)
	})
	require.NotEmpty(t, imageData, "boot/disk could not make an image")
	p := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, os.WriteFile(p, imageData, 0o644))
	return p
}

// fatClient serves "/" from FAT32 on an image file; it returns the image's path.
func fatClient(t *testing.T) (*client, string) {
	img := fatImage(t)
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	vol, err := fat.Mount(fat.FileDevice{F: f})
	require.NoError(t, err)
	s := server.New(server.Options{Logf: t.Logf})
	require.NoError(t, s.Mount("/", vol, server.MountOptions{FoldCase: true, ReadOnlyMode: true, TimeGranularity: 2 * time.Second}))
	require.NoError(t, s.Mount("/tmp", memfs.New(tmpLimit), server.MountOptions{}))
	return newClient(t, s), img
}

// client speaks the protocol to a server as the core would, with a grant buffer of
// MaxGrantPages pages.
type client struct {
	t     *testing.T
	s     *server.Server
	grant []byte
}

func newClient(t *testing.T, s *server.Server) *client {
	return &client{t: t, s: s, grant: make([]byte, abi.MaxGrantPages*4096)}
}

func setPath(dst *[abi.FSPathMax + 1]byte, p string) {
	clear(dst[:])
	copy(dst[:], p)
}

// call sends op with words and paths, lending the grant when pages > 0 (writable when
// write).
func (c *client) call(op uint64, words [4]uint64, p1, p2 string, pages uint64, write bool) abi.Message {
	req := &abi.FSRequest{Msg: abi.Message{Label: op, Words: words}}
	setPath(&req.Path, p1)
	setPath(&req.Path2, p2)
	var g []byte
	if pages > 0 {
		g = c.grant[:pages*4096]
		req.Msg.GrantAddr = 0x7f0000000000
		req.Msg.GrantPages = pages
		if write {
			req.Msg.GrantPages |= abi.GrantWrite
		}
	}
	return c.s.Handle(req, g)
}

// errno is a reply's error (0 on success).
func errno(r abi.Message) syscall.Errno {
	if int64(r.Label) < 0 {
		return syscall.Errno(-int64(r.Label))
	}
	return 0
}

func (c *client) open(p string, flags, mode uint64) (h uint64, e syscall.Errno) {
	r := c.call(abi.FSOpen, [4]uint64{flags, mode}, p, "", 0, false)
	return r.Words[0], errno(r)
}

func (c *client) mustOpen(p string, flags uint64) uint64 {
	h, e := c.open(p, flags, 0o644)
	require.Zero(c.t, e, "open %s", p)
	return h
}

func (c *client) write(h, off uint64, data string) (n, end uint64, e syscall.Errno) {
	copy(c.grant, data)
	r := c.call(abi.FSWrite, [4]uint64{h, off, uint64(len(data)), 0}, "", "", pagesFor(len(data)), false)
	if e := errno(r); e != 0 {
		return 0, 0, e
	}
	return r.Label, r.Words[0], 0
}

func (c *client) read(h, off, n uint64) (string, syscall.Errno) {
	r := c.call(abi.FSRead, [4]uint64{h, off, n, 0}, "", "", pagesFor(int(n)), true)
	if e := errno(r); e != 0 {
		return "", e
	}
	return string(c.grant[:r.Label]), 0
}

func (c *client) close(h uint64) syscall.Errno {
	return errno(c.call(abi.FSClose, [4]uint64{h}, "", "", 0, false))
}

type stat struct {
	size, mode, mtime, ino uint64
}

func (c *client) stat(p string) (stat, syscall.Errno) {
	r := c.call(abi.FSStat, [4]uint64{}, p, "", 0, false)
	return stat{r.Words[0], r.Words[1], r.Words[2], r.Words[3]}, errno(r)
}

func (c *client) fstat(h uint64) (stat, syscall.Errno) {
	r := c.call(abi.FSFstat, [4]uint64{h}, "", "", 0, false)
	return stat{r.Words[0], r.Words[1], r.Words[2], r.Words[3]}, errno(r)
}

func (c *client) mkdir(p string) syscall.Errno {
	return errno(c.call(abi.FSMkdir, [4]uint64{0o755}, p, "", 0, false))
}

func (c *client) unlink(p string, flags uint64) syscall.Errno {
	return errno(c.call(abi.FSUnlink, [4]uint64{flags}, p, "", 0, false))
}

func (c *client) rename(from, to string, flags uint64) syscall.Errno {
	return errno(c.call(abi.FSRename, [4]uint64{flags}, from, to, 0, false))
}

func (c *client) writeFile(p, data string) {
	h := c.mustOpen(p, abi.O_WRONLY|abi.O_CREAT|abi.O_TRUNC)
	n, _, e := c.write(h, 0, data)
	require.Zero(c.t, e)
	require.EqualValues(c.t, len(data), n)
	require.Zero(c.t, c.close(h))
}

func (c *client) readFile(p string) string {
	h := c.mustOpen(p, 0)
	defer c.close(h)
	s, e := c.read(h, 0, uint64(len(c.grant)))
	require.Zero(c.t, e)
	return s
}

func pagesFor(n int) uint64 { return uint64(max(1, (n+4095)/4096)) }

// dirent is one parsed linux_dirent64 record.
type dirent struct {
	ino    uint64
	off    int64
	reclen int
	typ    byte
	name   string
}

// parseDirents reads records back, checking their layout.
func parseDirents(t *testing.T, b []byte) []dirent {
	var out []dirent
	le := binary.LittleEndian
	for len(b) > 0 {
		require.GreaterOrEqual(t, len(b), 24)
		d := dirent{ino: le.Uint64(b), off: int64(le.Uint64(b[8:])), reclen: int(le.Uint16(b[16:])), typ: b[18]}
		require.Zero(t, d.reclen%8, "d_reclen is 8-byte aligned")
		require.LessOrEqual(t, d.reclen, len(b))
		name := b[19:d.reclen]
		nul := -1
		for i, c := range name {
			if c == 0 {
				nul = i
				break
			}
		}
		require.GreaterOrEqual(t, nul, 0, "the name is NUL-terminated")
		d.name = string(name[:nul])
		require.Equal(t, (19+len(d.name)+1+7)&^7, d.reclen, "no more padding than alignment")
		out = append(out, d)
		b = b[d.reclen:]
	}
	return out
}

// readdir reads the whole directory p with length-byte calls.
func (c *client) readdir(p string, length uint64) []dirent {
	h := c.mustOpen(p, abi.O_DIRECTORY)
	defer c.close(h)
	var all []dirent
	pos := uint64(0)
	for {
		r := c.call(abi.FSReaddir, [4]uint64{h, pos, length, 0}, "", "", pagesFor(int(length)), true)
		require.Zero(c.t, errno(r))
		if r.Label == 0 {
			return all
		}
		ds := parseDirents(c.t, c.grant[:r.Label])
		require.EqualValues(c.t, ds[len(ds)-1].off, r.Words[0], "the next position is the last d_off")
		all = append(all, ds...)
		pos = r.Words[0]
	}
}
