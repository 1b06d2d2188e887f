// Package memfs is an in-memory file system (for /tmp) implementing fs.FS. Its contents live
// as long as the value; Sync does nothing.
package memfs

import (
	iofs "io/fs"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/fs"
)

// MaxSize is the largest size a file may have (EFBIG... reported as EINVAL beyond it) and
// bounds a Truncate's growth.
const MaxSize = 1 << 40

type node struct {
	dir      bool
	mode     iofs.FileMode
	mtime    time.Time
	data     []byte
	children map[string]*node
	// A file's bytes count against the limit while it has a name or an open handle (as
	// tmpfs's do): unlinked while open, it still holds them until the last close.
	unlinked bool
	opens    int
}

// FS is an in-memory file system. The zero value is not usable; call New.
type FS struct {
	mu    sync.Mutex
	root  *node
	now   func() time.Time
	limit int64 // bytes of file data allowed, 0 = unlimited
	used  int64
}

var _ fs.FS = (*FS)(nil)

// New returns an empty file system holding at most limit bytes of file data (ENOSPC beyond;
// 0 means no limit).
func New(limit int64) *FS {
	m := &FS{now: time.Now, limit: limit}
	m.root = &node{dir: true, mode: iofs.ModeDir | 0o777, mtime: m.now(), children: map[string]*node{}}
	return m
}

// walk returns the parent directory of parts' last component and that component (the root
// itself when parts is empty: parent nil).
func (m *FS) walk(parts []string) (parent *node, base string, err error) {
	n := m.root
	if len(parts) == 0 {
		return nil, "", nil
	}
	for _, p := range parts[:len(parts)-1] {
		c, ok := n.children[p]
		if !ok {
			return nil, "", syscall.ENOENT
		}
		if !c.dir {
			return nil, "", syscall.ENOTDIR
		}
		n = c
	}
	return n, parts[len(parts)-1], nil
}

func (m *FS) lookup(name string) (*node, string, error) {
	parts, err := fs.Split(name)
	if err != nil {
		return nil, "", err
	}
	parent, base, err := m.walk(parts)
	if err != nil {
		return nil, "", err
	}
	if parent == nil {
		return m.root, "/", nil
	}
	n, ok := parent.children[base]
	if !ok {
		return nil, "", syscall.ENOENT
	}
	return n, base, nil
}

func statOf(n *node, name string) fs.Stat {
	s := fs.Stat{Name: name, Mode: n.mode, ModTime: n.mtime}
	if !n.dir {
		s.Size = int64(len(n.data))
	}
	return s
}

// Open implements fs.FS.
func (m *FS) Open(name string, flag int, perm iofs.FileMode) (fs.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts, err := fs.Split(name)
	if err != nil {
		return nil, err
	}
	parent, base, err := m.walk(parts)
	if err != nil {
		return nil, err
	}
	var n *node
	if parent == nil {
		n, base = m.root, "/"
	} else {
		n = parent.children[base]
	}
	if n == nil {
		if flag&fs.O_CREAT == 0 {
			return nil, syscall.ENOENT
		}
		if flag&fs.O_DIRECTORY != 0 {
			return nil, syscall.EINVAL
		}
		n = &node{mode: perm.Perm(), mtime: m.now()}
		parent.children[base] = n
		parent.mtime = n.mtime
	} else {
		if flag&(fs.O_CREAT|fs.O_EXCL) == fs.O_CREAT|fs.O_EXCL {
			return nil, syscall.EEXIST
		}
		if n.dir && (fs.Writable(flag) || flag&fs.O_TRUNC != 0) {
			return nil, syscall.EISDIR
		}
		if !n.dir && flag&fs.O_DIRECTORY != 0 {
			return nil, syscall.ENOTDIR
		}
		if !n.dir && flag&fs.O_TRUNC != 0 && fs.Writable(flag) && len(n.data) > 0 {
			m.used -= int64(len(n.data))
			n.data = nil
			n.mtime = m.now()
		}
	}
	n.opens++
	return &file{fs: m, n: n, name: base, flag: flag}, nil
}

// drop unlinks file n: its bytes stop counting once no handle holds it.
func (m *FS) drop(n *node) {
	n.unlinked = true
	m.release(n)
}

// release frees an unlinked file's bytes after its last close.
func (m *FS) release(n *node) {
	if !n.dir && n.unlinked && n.opens == 0 {
		m.used -= int64(len(n.data))
		n.data = nil
	}
}

// Stat implements fs.FS.
func (m *FS) Stat(name string) (fs.Stat, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, base, err := m.lookup(name)
	if err != nil {
		return fs.Stat{}, err
	}
	return statOf(n, base), nil
}

func listOf(n *node) []fs.DirEntry {
	out := make([]fs.DirEntry, 0, len(n.children))
	for k, c := range n.children {
		out = append(out, fs.DirEntry{Name: k, Dir: c.dir})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ReadDir implements fs.FS.
func (m *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, _, err := m.lookup(name)
	if err != nil {
		return nil, err
	}
	if !n.dir {
		return nil, syscall.ENOTDIR
	}
	return listOf(n), nil
}

// Mkdir implements fs.FS.
func (m *FS) Mkdir(name string, perm iofs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts, err := fs.Split(name)
	if err != nil {
		return err
	}
	parent, base, err := m.walk(parts)
	if err != nil {
		return err
	}
	if parent == nil || parent.children[base] != nil {
		return syscall.EEXIST
	}
	now := m.now()
	parent.children[base] = &node{dir: true, mode: iofs.ModeDir | perm.Perm(), mtime: now, children: map[string]*node{}}
	parent.mtime = now
	return nil
}

func (m *FS) remove(name string, dir bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts, err := fs.Split(name)
	if err != nil {
		return err
	}
	parent, base, err := m.walk(parts)
	if err != nil {
		return err
	}
	if parent == nil {
		if dir {
			return syscall.EBUSY
		}
		return syscall.EISDIR
	}
	n := parent.children[base]
	switch {
	case n == nil:
		return syscall.ENOENT
	case dir && !n.dir:
		return syscall.ENOTDIR
	case !dir && n.dir:
		return syscall.EISDIR
	case dir && len(n.children) > 0:
		return syscall.ENOTEMPTY
	}
	delete(parent.children, base)
	parent.mtime = m.now()
	if !n.dir {
		m.drop(n)
	}
	return nil
}

// Unlink implements fs.FS.
func (m *FS) Unlink(name string) error { return m.remove(name, false) }

// Rmdir implements fs.FS.
func (m *FS) Rmdir(name string) error { return m.remove(name, true) }

// Rename implements fs.FS.
func (m *FS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	op, err := fs.Split(oldname)
	if err != nil {
		return err
	}
	np, err := fs.Split(newname)
	if err != nil {
		return err
	}
	oparent, obase, err := m.walk(op)
	if err != nil {
		return err
	}
	nparent, nbase, err := m.walk(np)
	if err != nil {
		return err
	}
	if oparent == nil || nparent == nil {
		return syscall.EBUSY
	}
	src := oparent.children[obase]
	if src == nil {
		return syscall.ENOENT
	}
	if src.dir && len(np) > len(op) && prefix(op, np) {
		return syscall.EINVAL // into its own subtree
	}
	dst := nparent.children[nbase]
	if dst == src {
		return nil
	}
	if dst != nil {
		switch {
		case src.dir && !dst.dir:
			return syscall.ENOTDIR
		case !src.dir && dst.dir:
			return syscall.EISDIR
		case dst.dir && len(dst.children) > 0:
			return syscall.ENOTEMPTY
		}
		if !dst.dir {
			m.drop(dst)
		}
	}
	delete(oparent.children, obase)
	nparent.children[nbase] = src
	now := m.now()
	oparent.mtime, nparent.mtime = now, now
	return nil
}

func prefix(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Truncate implements fs.FS.
func (m *FS) Truncate(name string, size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, _, err := m.lookup(name)
	if err != nil {
		return err
	}
	return m.truncate(n, size)
}

func (m *FS) truncate(n *node, size int64) error {
	if n.dir {
		return syscall.EISDIR
	}
	if size < 0 || size > MaxSize {
		return syscall.EINVAL
	}
	if err := m.grow(n, size); err != nil {
		return err
	}
	n.data = n.data[:size]
	n.mtime = m.now()
	return nil
}

// grow makes n.data at least size bytes, zero-filled, within the limit.
func (m *FS) grow(n *node, size int64) error {
	old := int64(len(n.data))
	if size <= old {
		m.used -= old - size
		clear(n.data[size:])
		return nil
	}
	if m.limit > 0 && m.used+size-old > m.limit {
		return syscall.ENOSPC
	}
	m.used += size - old
	if size <= int64(cap(n.data)) {
		n.data = n.data[:size]
		return nil
	}
	nd := make([]byte, size, max(size, 2*int64(cap(n.data))))
	copy(nd, n.data)
	n.data = nd
	return nil
}

// Sync implements fs.FS; memory needs none.
func (m *FS) Sync() error { return nil }

type file struct {
	fs     *FS
	n      *node
	name   string
	flag   int
	closed bool
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	switch {
	case f.closed:
		return 0, syscall.EBADF
	case f.n.dir:
		return 0, syscall.EISDIR
	case !fs.Readable(f.flag):
		return 0, syscall.EBADF
	case off < 0:
		return 0, syscall.EINVAL
	}
	if off >= int64(len(f.n.data)) {
		return 0, nil
	}
	return copy(p, f.n.data[off:]), nil
}

func (f *file) WriteAt(p []byte, off int64) (int, int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	switch {
	case f.closed:
		return 0, 0, syscall.EBADF
	case f.n.dir:
		return 0, 0, syscall.EISDIR
	case !fs.Writable(f.flag):
		return 0, 0, syscall.EBADF
	case off < 0:
		return 0, 0, syscall.EINVAL
	}
	if f.flag&fs.O_APPEND != 0 {
		off = int64(len(f.n.data))
	}
	end := off + int64(len(p))
	if off > MaxSize || end > MaxSize { // off first: off+len(p) may wrap
		return 0, off, syscall.EFBIG
	}
	if len(p) == 0 {
		return 0, off, nil
	}
	if end > int64(len(f.n.data)) {
		if err := f.fs.grow(f.n, end); err != nil {
			return 0, off, err
		}
	}
	copy(f.n.data[off:], p)
	f.n.mtime = f.fs.now()
	return len(p), end, nil
}

func (f *file) Stat() (fs.Stat, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return fs.Stat{}, syscall.EBADF
	}
	return statOf(f.n, f.name), nil
}

func (f *file) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	switch {
	case f.closed:
		return syscall.EBADF
	case f.n.dir:
		return syscall.EISDIR
	case !fs.Writable(f.flag):
		return syscall.EINVAL // ftruncate on a read-only descriptor
	}
	return f.fs.truncate(f.n, size)
}

func (f *file) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return syscall.EBADF
	}
	return nil
}

func (f *file) ReadDir() ([]fs.DirEntry, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	switch {
	case f.closed:
		return nil, syscall.EBADF
	case !f.n.dir:
		return nil, syscall.ENOTDIR
	}
	return listOf(f.n), nil
}

func (f *file) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return syscall.EBADF
	}
	f.closed = true
	f.n.opens--
	f.fs.release(f.n)
	return nil
}
