// Package fstest is the conformance suite every fs.FS implementation runs in its tests.
package fstest

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/fs"
)

// Run runs the suite; mk returns a new, empty file system.
func Run(t *testing.T, mk func(t *testing.T) fs.FS) {
	t.Run("CreateReadWrite", func(t *testing.T) {
		m := mk(t)
		f, err := m.Open("a.txt", fs.O_RDWR|fs.O_CREAT, 0o644)
		require.NoError(t, err)
		n, end, err := f.WriteAt([]byte("hello world"), 0)
		require.NoError(t, err)
		assert.Equal(t, 11, n)
		assert.EqualValues(t, 11, end)
		buf := make([]byte, 32)
		n, err = f.ReadAt(buf, 6)
		require.NoError(t, err)
		assert.Equal(t, "world", string(buf[:n]))
		n, err = f.ReadAt(buf, 100)
		require.NoError(t, err)
		assert.Zero(t, n)
		// a write past the end leaves zeros in the gap
		_, _, err = f.WriteAt([]byte("X"), 20)
		require.NoError(t, err)
		n, err = f.ReadAt(buf, 0)
		require.NoError(t, err)
		assert.Equal(t, "hello world\x00\x00\x00\x00\x00\x00\x00\x00\x00X", string(buf[:n]))
		st, err := f.Stat()
		require.NoError(t, err)
		assert.EqualValues(t, 21, st.Size)
		assert.False(t, st.IsDir())
		assert.False(t, st.ModTime.IsZero())
		require.NoError(t, f.Sync())
		require.NoError(t, f.Close())
		assert.ErrorIs(t, f.Close(), syscall.EBADF)
		_, err = f.ReadAt(buf, 0)
		assert.ErrorIs(t, err, syscall.EBADF)

		st, err = m.Stat("/a.txt")
		require.NoError(t, err)
		assert.EqualValues(t, 21, st.Size)
		assert.Equal(t, "a.txt", st.Name)
	})
	t.Run("OpenFlags", func(t *testing.T) {
		m := mk(t)
		_, err := m.Open("nope", fs.O_RDONLY, 0)
		assert.ErrorIs(t, err, syscall.ENOENT)
		writeFile(t, m, "f", "0123456789")
		_, err = m.Open("f", fs.O_RDWR|fs.O_CREAT|fs.O_EXCL, 0o644)
		assert.ErrorIs(t, err, syscall.EEXIST)
		// O_TRUNC
		f, err := m.Open("f", fs.O_WRONLY|fs.O_TRUNC, 0)
		require.NoError(t, err)
		st, _ := f.Stat()
		assert.Zero(t, st.Size)
		_, _, err = f.WriteAt([]byte("abc"), 0)
		require.NoError(t, err)
		_, err = f.ReadAt(make([]byte, 1), 0)
		assert.ErrorIs(t, err, syscall.EBADF, "read on O_WRONLY")
		require.NoError(t, f.Close())
		// O_APPEND ignores the offset
		f, err = m.Open("f", fs.O_WRONLY|fs.O_APPEND, 0)
		require.NoError(t, err)
		_, end, err := f.WriteAt([]byte("de"), 0)
		require.NoError(t, err)
		assert.EqualValues(t, 5, end)
		require.NoError(t, f.Close())
		assert.Equal(t, "abcde", readFile(t, m, "f"))
		// read-only handles do not write
		f, err = m.Open("f", fs.O_RDONLY, 0)
		require.NoError(t, err)
		_, _, err = f.WriteAt([]byte("x"), 0)
		assert.ErrorIs(t, err, syscall.EBADF)
		assert.ErrorIs(t, f.Truncate(0), syscall.EINVAL)
		_, err = f.ReadDir()
		assert.ErrorIs(t, err, syscall.ENOTDIR)
		require.NoError(t, f.Close())
		// O_DIRECTORY
		_, err = m.Open("f", fs.O_RDONLY|fs.O_DIRECTORY, 0)
		assert.ErrorIs(t, err, syscall.ENOTDIR)
		_, err = m.Open("f/x", fs.O_RDONLY, 0)
		assert.ErrorIs(t, err, syscall.ENOTDIR)
		_, err = m.Open("f/x", fs.O_RDWR|fs.O_CREAT, 0o644)
		assert.ErrorIs(t, err, syscall.ENOTDIR)
		require.NoError(t, m.Mkdir("d", 0o755))
		_, err = m.Open("d", fs.O_RDWR, 0)
		assert.ErrorIs(t, err, syscall.EISDIR)
		d, err := m.Open("d", fs.O_RDONLY|fs.O_DIRECTORY, 0)
		require.NoError(t, err)
		_, err = d.ReadAt(make([]byte, 1), 0)
		assert.ErrorIs(t, err, syscall.EISDIR)
		require.NoError(t, d.Close())
		root, err := m.Open("/", fs.O_RDONLY, 0)
		require.NoError(t, err)
		st, err = root.Stat()
		require.NoError(t, err)
		assert.True(t, st.IsDir())
		es, err := root.ReadDir()
		require.NoError(t, err)
		assert.Equal(t, []fs.DirEntry{{Name: "d", Dir: true}, {Name: "f"}}, es)
		require.NoError(t, root.Close())
		_, err = m.Open("x/../../"+string(make([]byte, 300)), fs.O_RDONLY, 0)
		assert.Error(t, err)
		long := make([]byte, 256)
		for i := range long {
			long[i] = 'a'
		}
		_, err = m.Open(string(long), fs.O_RDWR|fs.O_CREAT, 0o644)
		assert.ErrorIs(t, err, syscall.ENAMETOOLONG)
		_, err = m.Stat("a\x00b")
		assert.ErrorIs(t, err, syscall.EINVAL)
	})
	t.Run("Dirs", func(t *testing.T) {
		m := mk(t)
		require.NoError(t, m.Mkdir("d", 0o755))
		assert.ErrorIs(t, m.Mkdir("d", 0o755), syscall.EEXIST)
		assert.ErrorIs(t, m.Mkdir("/", 0o755), syscall.EEXIST)
		assert.ErrorIs(t, m.Mkdir("x/y", 0o755), syscall.ENOENT)
		require.NoError(t, m.Mkdir("d/e", 0o755))
		writeFile(t, m, "d/e/long file name.text", "x")
		writeFile(t, m, "d/B", "y")
		es, err := m.ReadDir("d")
		require.NoError(t, err)
		assert.Equal(t, []fs.DirEntry{{Name: "B"}, {Name: "e", Dir: true}}, es)
		es, err = m.ReadDir("d/e")
		require.NoError(t, err)
		assert.Equal(t, []fs.DirEntry{{Name: "long file name.text"}}, es)
		_, err = m.ReadDir("d/B")
		assert.ErrorIs(t, err, syscall.ENOTDIR)
		_, err = m.ReadDir("zz")
		assert.ErrorIs(t, err, syscall.ENOENT)
		st, err := m.Stat("d/e")
		require.NoError(t, err)
		assert.True(t, st.IsDir())
		st, err = m.Stat("")
		require.NoError(t, err)
		assert.True(t, st.IsDir())

		assert.ErrorIs(t, m.Rmdir("d"), syscall.ENOTEMPTY)
		assert.ErrorIs(t, m.Rmdir("d/B"), syscall.ENOTDIR)
		assert.ErrorIs(t, m.Rmdir("d/zz"), syscall.ENOENT)
		assert.ErrorIs(t, m.Unlink("d/e"), syscall.EISDIR)
		assert.ErrorIs(t, m.Unlink("d/zz"), syscall.ENOENT)
		assert.ErrorIs(t, m.Unlink("d/B/c"), syscall.ENOTDIR)
		require.NoError(t, m.Unlink("d/e/long file name.text"))
		require.NoError(t, m.Rmdir("d/e"))
		require.NoError(t, m.Unlink("d/B"))
		require.NoError(t, m.Rmdir("d"))
		_, err = m.Stat("d")
		assert.ErrorIs(t, err, syscall.ENOENT)
		es, err = m.ReadDir("/")
		require.NoError(t, err)
		assert.Empty(t, es)
	})
	t.Run("ManyEntries", func(t *testing.T) {
		m := mk(t)
		require.NoError(t, m.Mkdir("many", 0o755))
		for i := range 200 {
			writeFile(t, m, "many/file number "+itoa(i), itoa(i))
		}
		es, err := m.ReadDir("many")
		require.NoError(t, err)
		assert.Len(t, es, 200)
		assert.Equal(t, "137", readFile(t, m, "many/file number 137"))
		for i := range 200 {
			require.NoError(t, m.Unlink("many/file number "+itoa(i)))
		}
		require.NoError(t, m.Rmdir("many"))
	})
	t.Run("Rename", func(t *testing.T) {
		m := mk(t)
		writeFile(t, m, "a", "A")
		writeFile(t, m, "b", "B")
		require.NoError(t, m.Mkdir("d", 0o755))
		require.NoError(t, m.Mkdir("d/sub", 0o755))
		writeFile(t, m, "d/sub/f", "F")
		require.NoError(t, m.Mkdir("empty", 0o755))

		assert.ErrorIs(t, m.Rename("zz", "y"), syscall.ENOENT)
		assert.ErrorIs(t, m.Rename("a", "zz/y"), syscall.ENOENT)
		assert.ErrorIs(t, m.Rename("a", "d"), syscall.EISDIR)
		assert.ErrorIs(t, m.Rename("d", "a"), syscall.ENOTDIR)
		assert.ErrorIs(t, m.Rename("empty", "d"), syscall.ENOTEMPTY)
		assert.ErrorIs(t, m.Rename("d", "d/sub/x"), syscall.EINVAL)

		require.NoError(t, m.Rename("a", "b")) // replaces
		assert.Equal(t, "A", readFile(t, m, "b"))
		_, err := m.Stat("a")
		assert.ErrorIs(t, err, syscall.ENOENT)
		require.NoError(t, m.Rename("b", "d/sub/moved"))
		assert.Equal(t, "A", readFile(t, m, "d/sub/moved"))
		require.NoError(t, m.Rename("d/sub", "top"))
		assert.Equal(t, "F", readFile(t, m, "top/f"))
		require.NoError(t, m.Rename("top", "empty")) // a directory over an empty one
		assert.Equal(t, "F", readFile(t, m, "empty/f"))
		writeFile(t, m, "empty/new", "N") // the moved directory still works
		require.NoError(t, m.Rename("empty/new", "empty/new"))
		assert.Equal(t, "N", readFile(t, m, "empty/new"))
		es, err := m.ReadDir("/")
		require.NoError(t, err)
		assert.Equal(t, []fs.DirEntry{{Name: "d", Dir: true}, {Name: "empty", Dir: true}}, es)
	})
	t.Run("Truncate", func(t *testing.T) {
		m := mk(t)
		writeFile(t, m, "f", "0123456789")
		require.NoError(t, m.Truncate("f", 4))
		assert.Equal(t, "0123", readFile(t, m, "f"))
		require.NoError(t, m.Truncate("f", 6))
		assert.Equal(t, "0123\x00\x00", readFile(t, m, "f"))
		assert.ErrorIs(t, m.Truncate("f", -1), syscall.EINVAL)
		assert.ErrorIs(t, m.Truncate("zz", 0), syscall.ENOENT)
		require.NoError(t, m.Mkdir("d", 0o755))
		assert.ErrorIs(t, m.Truncate("d", 0), syscall.EISDIR)
		f, err := m.Open("f", fs.O_RDWR, 0)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(0))
		big := make([]byte, 100000)
		for i := range big {
			big[i] = byte(i * 7)
		}
		_, _, err = f.WriteAt(big, 0)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(5000))
		require.NoError(t, f.Truncate(9000))
		got := make([]byte, 10000)
		n, err := f.ReadAt(got, 0)
		require.NoError(t, err)
		require.Equal(t, 9000, n)
		assert.Equal(t, big[:5000], got[:5000])
		assert.Equal(t, make([]byte, 4000), got[5000:9000])
		require.NoError(t, f.Close())
		require.NoError(t, m.Sync())
	})
	t.Run("UnlinkOpen", func(t *testing.T) {
		m := mk(t)
		writeFile(t, m, "f", "still here")
		f, err := m.Open("f", fs.O_RDONLY, 0)
		require.NoError(t, err)
		require.NoError(t, m.Unlink("f"))
		_, err = m.Stat("f")
		assert.ErrorIs(t, err, syscall.ENOENT)
		buf := make([]byte, 20)
		n, err := f.ReadAt(buf, 0)
		require.NoError(t, err)
		assert.Equal(t, "still here", string(buf[:n]))
		writeFile(t, m, "f", "new")
		require.NoError(t, f.Close())
		assert.Equal(t, "new", readFile(t, m, "f"))
	})
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func writeFile(t *testing.T, m fs.FS, name, data string) {
	t.Helper()
	f, err := m.Open(name, fs.O_WRONLY|fs.O_CREAT|fs.O_TRUNC, 0o644)
	require.NoError(t, err)
	_, _, err = f.WriteAt([]byte(data), 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// ReadFile returns the contents of name.
func ReadFile(t *testing.T, m fs.FS, name string) string { t.Helper(); return readFile(t, m, name) }

// WriteFile replaces the contents of name.
func WriteFile(t *testing.T, m fs.FS, name, data string) { t.Helper(); writeFile(t, m, name, data) }

func readFile(t *testing.T, m fs.FS, name string) string {
	t.Helper()
	f, err := m.Open(name, fs.O_RDONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	buf := make([]byte, st.Size+1)
	n, err := f.ReadAt(buf, 0)
	require.NoError(t, err)
	return string(buf[:n])
}
