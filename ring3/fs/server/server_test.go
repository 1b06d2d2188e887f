package server_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/fs"
	"github.com/simpleos/simpleos/fs/memfs"
	"github.com/simpleos/simpleos/ring3/fs/server"
)

// each runs f against a server over memfs and one over FAT32.
func each(t *testing.T, f func(t *testing.T, c *client)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.mk(t)) })
	}
}

func TestOpenWriteReadClose(t *testing.T) {
	each(t, func(t *testing.T, c *client) {
		for _, dir := range []string{"", "/tmp"} {
			p := dir + "/hello.txt"
			r := c.call(abi.FSOpen, [4]uint64{abi.O_RDWR | abi.O_CREAT, 0o644}, p, "", 0, false)
			require.Zero(t, errno(r))
			h := r.Words[0]
			assert.NotZero(t, h)
			assert.Zero(t, r.Words[1], "size")
			assert.EqualValues(t, abi.S_IFREG|0o644, r.Words[2], "st_mode")

			n, end, e := c.write(h, 0, "hello, world")
			require.Zero(t, e)
			assert.EqualValues(t, 12, n)
			assert.EqualValues(t, 12, end)
			n, end, e = c.write(h, 7, "there")
			require.Zero(t, e)
			assert.EqualValues(t, 5, n)
			assert.EqualValues(t, 12, end)

			got, e := c.read(h, 0, 100)
			require.Zero(t, e)
			assert.Equal(t, "hello, there", got)
			got, e = c.read(h, 7, 3)
			require.Zero(t, e)
			assert.Equal(t, "the", got)
			got, e = c.read(h, 100, 10)
			require.Zero(t, e)
			assert.Empty(t, got, "0 bytes at the end")

			// the buffer may start anywhere in the first page
			copy(c.grant[100:], "XY")
			r = c.call(abi.FSWrite, [4]uint64{h, 0, 2, 100}, "", "", 1, false)
			require.Zero(t, errno(r))
			r = c.call(abi.FSRead, [4]uint64{h, 0, 4, 4000}, "", "", 2, true)
			require.Zero(t, errno(r))
			assert.EqualValues(t, 4, r.Label)
			assert.Equal(t, "XYll", string(c.grant[4000:4004]))

			fst, e := c.fstat(h)
			require.Zero(t, e)
			assert.EqualValues(t, 12, fst.size)
			st, e := c.stat(p)
			require.Zero(t, e)
			assert.Equal(t, fst, st)
			require.Zero(t, c.close(h))

			// a closed handle is stale for every operation
			assert.Equal(t, syscall.EBADF, c.close(h))
			_, e = c.read(h, 0, 1)
			assert.Equal(t, syscall.EBADF, e)
			_, _, e = c.write(h, 0, "x")
			assert.Equal(t, syscall.EBADF, e)
			_, e = c.fstat(h)
			assert.Equal(t, syscall.EBADF, e)
			for _, op := range []uint64{abi.FSTruncate, abi.FSSync, abi.FSReaddir} {
				assert.Equal(t, syscall.EBADF, errno(c.call(op, [4]uint64{h}, "", "", 1, true)), "op %d", op)
			}
			// a new open may reuse the slot, never the handle
			h2 := c.mustOpen(p, 0)
			assert.NotEqual(t, h, h2)
			_, e = c.read(h, 0, 1)
			assert.Equal(t, syscall.EBADF, e)
			require.Zero(t, c.close(h2))
		}
	})
}

func TestOpenFlags(t *testing.T) {
	each(t, func(t *testing.T, c *client) {
		_, e := c.open("/missing", 0, 0)
		assert.Equal(t, syscall.ENOENT, e)
		_, e = c.open("/nodir/file", abi.O_CREAT|abi.O_WRONLY, 0o644)
		assert.Equal(t, syscall.ENOENT, e)
		c.writeFile("/f", "0123456789")
		_, e = c.open("/f", abi.O_CREAT|abi.O_EXCL|abi.O_WRONLY, 0o644)
		assert.Equal(t, syscall.EEXIST, e)
		_, e = c.open("/f", abi.O_DIRECTORY, 0)
		assert.Equal(t, syscall.ENOTDIR, e)
		_, e = c.open("/f/x", 0, 0)
		assert.Equal(t, syscall.ENOTDIR, e)
		_, e = c.open("/", abi.O_WRONLY, 0)
		assert.Equal(t, syscall.EISDIR, e)
		_, e = c.open("/tmp", abi.O_RDWR, 0)
		assert.Equal(t, syscall.EISDIR, e)
		_, e = c.open("/tmp", abi.O_CREAT|abi.O_EXCL, 0o755)
		assert.Equal(t, syscall.EEXIST, e)
		_, e = c.open("/f", 1<<40, 0)
		assert.Equal(t, syscall.EINVAL, e, "flags are an int")
		h := c.mustOpen("/", abi.O_DIRECTORY)
		require.Zero(t, c.close(h))

		// O_TRUNC empties; the reply carries the size
		r := c.call(abi.FSOpen, [4]uint64{fs.O_RDONLY}, "/f", "", 0, false)
		require.Zero(t, errno(r))
		assert.EqualValues(t, 10, r.Words[1])
		require.Zero(t, c.close(r.Words[0]))
		r = c.call(abi.FSOpen, [4]uint64{abi.O_RDWR | abi.O_TRUNC}, "/f", "", 0, false)
		require.Zero(t, errno(r))
		assert.Zero(t, r.Words[1])
		require.Zero(t, c.close(r.Words[0]))

		// O_APPEND writes at the end whatever the offset; the reply says where it ended
		c.writeFile("/log", "abc")
		h = c.mustOpen("/log", abi.O_WRONLY|abi.O_APPEND)
		n, end, e := c.write(h, 0, "def")
		require.Zero(t, e)
		assert.EqualValues(t, 3, n)
		assert.EqualValues(t, 6, end)
		_, end, e = c.write(h, 1<<63, "gh") // even a nonsense offset
		require.Zero(t, e)
		assert.EqualValues(t, 8, end)
		// a write-only handle cannot read, a read-only one cannot write
		_, e = c.read(h, 0, 1)
		assert.Equal(t, syscall.EBADF, e)
		require.Zero(t, c.close(h))
		assert.Equal(t, "abcdefgh", c.readFile("/log"))
		h = c.mustOpen("/log", fs.O_RDONLY)
		_, _, e = c.write(h, 0, "x")
		assert.Equal(t, syscall.EBADF, e)
		require.Zero(t, c.close(h))
	})
}

func TestRequestChecks(t *testing.T) {
	each(t, func(t *testing.T, c *client) {
		req := &abi.FSRequest{Msg: abi.Message{Label: abi.FSStat, Badge: 7}}
		setPath(&req.Path, "/")
		assert.Equal(t, syscall.EPERM, errno(c.s.Handle(req, nil)), "only the core (badge 0) may call")
		assert.Equal(t, syscall.ENOSYS, errno(c.call(0, [4]uint64{}, "/", "", 0, false)))
		assert.Equal(t, syscall.ENOSYS, errno(c.call(abi.FSSync+1, [4]uint64{}, "/", "", 0, false)))

		_, e := c.stat("relative")
		assert.Equal(t, syscall.EINVAL, e)
		_, e = c.stat("")
		assert.Equal(t, syscall.EINVAL, e)
		long := "/" + strings.Repeat("a", abi.FSPathMax) // fills the array: no NUL
		_, e = c.stat(long)
		assert.Equal(t, syscall.ENAMETOOLONG, e)
		_, e = c.stat("/" + strings.Repeat("b", 256))
		assert.Equal(t, syscall.ENAMETOOLONG, e, "a component longer than NAME_MAX")
		_, e = c.stat("/" + strings.Repeat("c", abi.FSPathMax-1)) // the longest path, one component too long
		assert.Equal(t, syscall.ENAMETOOLONG, e)
		// ".." and "." are resolved, never above "/"
		st, e := c.stat("/tmp/../tmp/./")
		require.Zero(t, e)
		tmp, _ := c.stat("/tmp")
		assert.Equal(t, tmp, st)
		root, _ := c.stat("/")
		st, e = c.stat("/../..")
		require.Zero(t, e)
		assert.Equal(t, root, st)

		// forged handles
		for _, h := range []uint64{0, 1, 1 << 32, ^uint64(0), 0xdeadbeef00000000} {
			_, e := c.fstat(h)
			assert.Equal(t, syscall.EBADF, e, "handle %#x", h)
		}
	})
}

func TestGrantChecks(t *testing.T) {
	each(t, func(t *testing.T, c *client) {
		c.writeFile("/g", strings.Repeat("x", 10000))
		h := c.mustOpen("/g", abi.O_RDWR)
		defer c.close(h)
		// a read into a read-only grant
		r := c.call(abi.FSRead, [4]uint64{h, 0, 10, 0}, "", "", 1, false)
		assert.Equal(t, syscall.EFAULT, errno(r))
		// past the grant's end, or with an offset past it
		r = c.call(abi.FSRead, [4]uint64{h, 0, 4097, 0}, "", "", 1, true)
		assert.Equal(t, syscall.EFAULT, errno(r))
		r = c.call(abi.FSRead, [4]uint64{h, 0, 1, 4096}, "", "", 1, true)
		assert.Equal(t, syscall.EFAULT, errno(r))
		r = c.call(abi.FSWrite, [4]uint64{h, 0, 2, ^uint64(0)}, "", "", 1, false)
		assert.Equal(t, syscall.EFAULT, errno(r), "grant offset + length wraps")
		r = c.call(abi.FSWrite, [4]uint64{h, 0, 1, 0}, "", "", 0, false)
		assert.Equal(t, syscall.EFAULT, errno(r), "no grant at all")
		r = c.call(abi.FSReaddir, [4]uint64{c.mustOpen("/", 0), 0, 100, 0}, "", "", 1, false)
		assert.Equal(t, syscall.EFAULT, errno(r), "readdir into a read-only grant")
		// zero bytes need no grant
		r = c.call(abi.FSRead, [4]uint64{h, 0, 0, 0}, "", "", 0, false)
		assert.Zero(t, errno(r))
		assert.Zero(t, r.Label)
		// a whole 16-page grant moves 64 KiB
		r = c.call(abi.FSRead, [4]uint64{h, 0, abi.MaxGrantPages * 4096, 0}, "", "", abi.MaxGrantPages, true)
		require.Zero(t, errno(r))
		assert.EqualValues(t, 10000, r.Label)
		// offsets past the largest file offset
		r = c.call(abi.FSRead, [4]uint64{h, 1 << 63, 1, 0}, "", "", 1, true)
		assert.Equal(t, syscall.EINVAL, errno(r))
		r = c.call(abi.FSWrite, [4]uint64{h, 1<<63 - 1, 2, 0}, "", "", 1, false)
		assert.Equal(t, syscall.EINVAL, errno(r))
		r = c.call(abi.FSTruncate, [4]uint64{h, 1 << 63}, "", "", 0, false)
		assert.Equal(t, syscall.EINVAL, errno(r))
	})
}

func TestStat(t *testing.T) {
	each(t, func(t *testing.T, c *client) {
		before := time.Now().Add(-3 * time.Second) // FAT keeps times to 2 s
		c.writeFile("/a.txt", "abc")
		require.Zero(t, c.mkdir("/d"))
		st, e := c.stat("/a.txt")
		require.Zero(t, e)
		assert.EqualValues(t, 3, st.size)
		assert.EqualValues(t, abi.S_IFREG|0o644, st.mode)
		assert.NotZero(t, st.ino)
		mt := time.Unix(0, int64(st.mtime))
		assert.True(t, mt.After(before) && mt.Before(time.Now().Add(3*time.Second)), "mtime %v", mt)

		d, e := c.stat("/d")
		require.Zero(t, e)
		assert.EqualValues(t, abi.S_IFDIR|0o755, d.mode)
		assert.Zero(t, d.size)
		root, _ := c.stat("/")
		tmp, _ := c.stat("/tmp")
		assert.EqualValues(t, abi.S_IFDIR|0o755, root.mode)
		assert.EqualValues(t, abi.S_IFDIR|0o755, tmp.mode)
		inodes := map[uint64]string{}
		for _, p := range []string{"/", "/tmp", "/a.txt", "/d"} {
			st, _ := c.stat(p)
			assert.NotZero(t, st.ino)
			assert.NotContains(t, inodes, st.ino, "%s and %s share an inode", p, inodes[st.ino])
			inodes[st.ino] = p
		}
		again, _ := c.stat("/a.txt")
		assert.Equal(t, st.ino, again.ino, "stable")
		_, e = c.stat("/nope")
		assert.Equal(t, syscall.ENOENT, e)
	})
}

func TestReaddir(t *testing.T) {
	each(t, func(t *testing.T, c *client) {
		require.Zero(t, c.mkdir("/d"))
		require.Zero(t, c.mkdir("/d/sub"))
		names := []string{"a", "b.txt", strings.Repeat("long", 60), "z"}
		for _, n := range names {
			c.writeFile("/d/"+n, n)
		}
		want := []string{".", "..", "a", "b.txt", strings.Repeat("long", 60), "sub", "z"}
		for _, length := range []uint64{64 << 10, 4096, 300, 280} {
			ds := c.readdir("/d", length)
			var got []string
			for i, d := range ds {
				got = append(got, d.name)
				assert.EqualValues(t, i+1, d.off, "d_off is the next position")
				st, e := c.stat("/d/" + d.name)
				require.Zero(t, e)
				if d.name != ".." {
					assert.Equal(t, st.ino, d.ino, "%s: d_ino is stat's inode", d.name)
				}
				typ := byte(8)
				if st.mode&abi.S_IFMT == abi.S_IFDIR {
					typ = 4
				}
				assert.Equal(t, typ, d.typ, d.name)
			}
			assert.Equal(t, want, got, "length %d", length)
			root, _ := c.stat("/")
			assert.Equal(t, root.ino, ds[1].ino, "..")
		}

		h := c.mustOpen("/d", abi.O_DIRECTORY)
		// not even one record fits: EINVAL; at the end: 0 bytes, position kept
		r := c.call(abi.FSReaddir, [4]uint64{h, 0, 23, 0}, "", "", 1, true)
		assert.Equal(t, syscall.EINVAL, errno(r))
		r = c.call(abi.FSReaddir, [4]uint64{h, 4, 100, 0}, "", "", 1, true)
		assert.Equal(t, syscall.EINVAL, errno(r), "the long name's record is 264 bytes")
		r = c.call(abi.FSReaddir, [4]uint64{h, 7, 0, 0}, "", "", 0, false)
		require.Zero(t, errno(r))
		assert.Zero(t, r.Label)
		assert.EqualValues(t, 7, r.Words[0])
		r = c.call(abi.FSReaddir, [4]uint64{h, 1 << 40, 4096, 0}, "", "", 1, true)
		require.Zero(t, errno(r))
		assert.Zero(t, r.Label)
		require.Zero(t, c.close(h))

		// a file is no directory
		h = c.mustOpen("/d/a", 0)
		r = c.call(abi.FSReaddir, [4]uint64{h, 0, 4096, 0}, "", "", 1, true)
		assert.Equal(t, syscall.ENOTDIR, errno(r))
		require.Zero(t, c.close(h))

		// "/" lists the mount point /tmp (a directory, with /tmp's inode) though the disk
		// has no such entry; /tmp's ".." is "/"
		tmp, _ := c.stat("/tmp")
		root, _ := c.stat("/")
		var sawTmp bool
		for _, d := range c.readdir("/", 4096) {
			if d.name == "tmp" {
				sawTmp = true
				assert.Equal(t, tmp.ino, d.ino)
				assert.EqualValues(t, 4, d.typ)
			}
		}
		assert.True(t, sawTmp)
		ds := c.readdir("/tmp", 4096)
		require.Len(t, ds, 2)
		assert.Equal(t, tmp.ino, ds[0].ino)
		assert.Equal(t, root.ino, ds[1].ino)
		assert.Equal(t, root.ino, c.readdir("/", 4096)[1].ino, `"/"'s ".." is itself`)
	})
}

func TestMkdirUnlinkRmdir(t *testing.T) {
	each(t, func(t *testing.T, c *client) {
		require.Zero(t, c.mkdir("/d"))
		assert.Equal(t, syscall.EEXIST, c.mkdir("/d"))
		assert.Equal(t, syscall.EEXIST, c.mkdir("/"))
		assert.Equal(t, syscall.EEXIST, c.mkdir("/tmp"))
		assert.Equal(t, syscall.ENOENT, c.mkdir("/x/y"))
		require.Zero(t, c.mkdir("/tmp/t"))
		c.writeFile("/d/f", "f")

		assert.Equal(t, syscall.EISDIR, c.unlink("/d", 0))
		assert.Equal(t, syscall.ENOTDIR, c.unlink("/d/f", abi.AT_REMOVEDIR))
		assert.Equal(t, syscall.ENOTEMPTY, c.unlink("/d", abi.AT_REMOVEDIR))
		assert.Equal(t, syscall.ENOENT, c.unlink("/d/nope", 0))
		assert.Equal(t, syscall.EINVAL, c.unlink("/d/f", 1))
		// mount points
		assert.Equal(t, syscall.EBUSY, c.unlink("/tmp", abi.AT_REMOVEDIR))
		assert.Equal(t, syscall.EBUSY, c.unlink("/", abi.AT_REMOVEDIR))
		assert.Equal(t, syscall.EISDIR, c.unlink("/tmp", 0))
		assert.Equal(t, syscall.EISDIR, c.unlink("/", 0))

		// an open file may be unlinked and is still read through its handle
		h := c.mustOpen("/d/f", fs.O_RDONLY)
		require.Zero(t, c.unlink("/d/f", 0))
		got, e := c.read(h, 0, 10)
		require.Zero(t, e)
		assert.Equal(t, "f", got)
		require.Zero(t, c.close(h))
		_, e = c.stat("/d/f")
		assert.Equal(t, syscall.ENOENT, e)
		require.Zero(t, c.unlink("/d", abi.AT_REMOVEDIR))
		require.Zero(t, c.unlink("/tmp/t", abi.AT_REMOVEDIR))
		_, e = c.stat("/d")
		assert.Equal(t, syscall.ENOENT, e)
	})
}

func TestRename(t *testing.T) {
	each(t, func(t *testing.T, c *client) {
		c.writeFile("/a", "A")
		c.writeFile("/b", "B")
		require.Zero(t, c.mkdir("/d"))
		require.Zero(t, c.rename("/a", "/d/a2", 0))
		assert.Equal(t, "A", c.readFile("/d/a2"))
		_, e := c.stat("/a")
		assert.Equal(t, syscall.ENOENT, e)

		assert.Equal(t, syscall.EEXIST, c.rename("/b", "/d/a2", abi.RENAME_NOREPLACE))
		assert.Equal(t, "A", c.readFile("/d/a2"))
		assert.Equal(t, syscall.EINVAL, c.rename("/b", "/d/a2", abi.RENAME_EXCHANGE))
		assert.Equal(t, syscall.EINVAL, c.rename("/b", "/d/a2", 4))
		require.Zero(t, c.rename("/b", "/d/b", abi.RENAME_NOREPLACE))
		require.Zero(t, c.rename("/d/b", "/d/a2", 0), "replaces a file")
		assert.Equal(t, "B", c.readFile("/d/a2"))
		assert.Equal(t, syscall.ENOENT, c.rename("/nope", "/x", 0))
		assert.Equal(t, syscall.EINVAL, c.rename("/d", "/d/sub", 0), "into itself")

		assert.Equal(t, syscall.EXDEV, c.rename("/d/a2", "/tmp/a2", 0))
		c.writeFile("/tmp/t", "T")
		assert.Equal(t, syscall.EXDEV, c.rename("/tmp/t", "/t", 0))
		require.Zero(t, c.rename("/tmp/t", "/tmp/u", 0))
		// mount points, as source or target or holding one
		assert.Equal(t, syscall.EBUSY, c.rename("/tmp", "/tmp2", 0))
		assert.Equal(t, syscall.EBUSY, c.rename("/d", "/tmp", 0))
		assert.Equal(t, syscall.EBUSY, c.rename("/", "/x", 0))
		assert.Equal(t, syscall.EBUSY, c.rename("/d/a2", "/", 0))
		// a bad second path
		r := c.call(abi.FSRename, [4]uint64{}, "/d/a2", "rel", 0, false)
		assert.Equal(t, syscall.EINVAL, errno(r))
	})
}

func TestTruncateSync(t *testing.T) {
	each(t, func(t *testing.T, c *client) {
		c.writeFile("/f", "0123456789")
		h := c.mustOpen("/f", abi.O_RDWR)
		require.Zero(t, errno(c.call(abi.FSTruncate, [4]uint64{h, 4}, "", "", 0, false)))
		st, _ := c.fstat(h)
		assert.EqualValues(t, 4, st.size)
		require.Zero(t, errno(c.call(abi.FSTruncate, [4]uint64{h, 6}, "", "", 0, false)))
		got, _ := c.read(h, 0, 100)
		assert.Equal(t, "0123\x00\x00", got)
		require.Zero(t, errno(c.call(abi.FSSync, [4]uint64{h}, "", "", 0, false)))
		require.Zero(t, errno(c.call(abi.FSSync, [4]uint64{abi.FSSyncAll}, "", "", 0, false)))
		require.Zero(t, c.close(h))
		h = c.mustOpen("/f", fs.O_RDONLY)
		assert.Equal(t, syscall.EINVAL, errno(c.call(abi.FSTruncate, [4]uint64{h, 0}, "", "", 0, false)), "a read-only handle")
		require.Zero(t, c.close(h))
		h = c.mustOpen("/", abi.O_DIRECTORY)
		assert.Equal(t, syscall.EISDIR, errno(c.call(abi.FSTruncate, [4]uint64{h, 0}, "", "", 0, false)))
		require.Zero(t, c.close(h))
	})
}

func TestTmpIsBounded(t *testing.T) {
	each(t, func(t *testing.T, c *client) {
		h := c.mustOpen("/tmp/big", abi.O_RDWR|abi.O_CREAT)
		defer c.close(h)
		var off uint64
		for off < tmpLimit {
			n, end, e := c.write(h, off, strings.Repeat("x", 60000))
			require.Zero(t, e)
			off += n
			assert.Equal(t, off, end)
			if tmpLimit-off < 60000 {
				break
			}
		}
		_, _, e := c.write(h, off, strings.Repeat("x", 60000))
		assert.Equal(t, syscall.ENOSPC, e)
		assert.Equal(t, syscall.ENOSPC, errno(c.call(abi.FSTruncate, [4]uint64{h, 2 * tmpLimit}, "", "", 0, false)))
	})
}

// A mount point the file system below also holds (as FAT's "TMP", or as a file) is listed once,
// as the mounted directory.
func TestMountPointListedOnce(t *testing.T) {
	for _, below := range []string{"tmp", "TMP"} {
		root := memfs.New(0)
		require.NoError(t, root.Mkdir(below, 0o755))
		require.NoError(t, root.Mkdir("etc", 0o755))
		s := server.New(server.Options{Logf: t.Logf})
		require.NoError(t, s.Mount("/", root, server.MountOptions{FoldCase: below == "TMP"}))
		require.NoError(t, s.Mount("/tmp", memfs.New(0), server.MountOptions{}))
		c := newClient(t, s)
		tmp, _ := c.stat("/tmp")
		var names []string
		for _, d := range c.readdir("/", 4096) {
			names = append(names, d.name)
			if strings.EqualFold(d.name, "tmp") {
				assert.Equal(t, tmp.ino, d.ino)
				assert.EqualValues(t, 4, d.typ)
			}
		}
		assert.Equal(t, []string{".", "..", below, "etc"}[:2], names[:2])
		assert.ElementsMatch(t, []string{".", "..", below, "etc"}, names)
	}
}

func TestMountRejects(t *testing.T) {
	s := server.New(server.Options{})
	assert.Error(t, s.Mount("tmp", memfs.New(0), server.MountOptions{}))
	assert.Error(t, s.Mount("/tmp/", memfs.New(0), server.MountOptions{}))
	assert.Error(t, s.Mount("/a/../b", memfs.New(0), server.MountOptions{}))
	assert.Error(t, s.Mount("/x", nil, server.MountOptions{}))
	require.NoError(t, s.Mount("/x", memfs.New(0), server.MountOptions{}))
	assert.Error(t, s.Mount("/x", memfs.New(0), server.MountOptions{}))
	// nothing at "/": every path outside /x is ENOENT
	c := newClient(t, s)
	_, e := c.stat("/y")
	assert.Equal(t, syscall.ENOENT, e)
	_, e = c.stat("/x")
	assert.Zero(t, e)
}
