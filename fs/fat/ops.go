package fat

import (
	"encoding/binary"
	iofs "io/fs"
	"strings"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/fs"
)

// maxFileSize is FAT's limit: the size field has 32 bits.
const maxFileSize = 1<<32 - 1

// node is an open file or directory; handles of one file share it.
type node struct {
	loc      entryLoc
	root     bool
	dir      bool
	name     string
	attr     byte
	first    uint32
	size     int64
	mtime    time.Time
	refs     int
	unlinked bool
}

// nodeOf returns the shared node for entry d, taking a reference.
func (f *FS) nodeOf(d dirent) *node {
	if !d.root && !d.isDir() {
		if n, ok := f.open[d.loc]; ok {
			n.refs++
			return n
		}
	}
	n := &node{loc: d.loc, root: d.root, dir: d.isDir(), name: d.name, attr: d.attr, first: d.cluster,
		size: int64(d.size), mtime: d.mtime, refs: 1}
	if !n.dir {
		f.open[d.loc] = n
	}
	return n
}

func (f *FS) writable() error {
	if f.failed != nil {
		return syscall.EIO
	}
	return nil
}

// Open implements fs.FS.
func (f *FS) Open(name string, flag int, perm iofs.FileMode) (fs.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts, err := fs.Split(name)
	if err != nil {
		return nil, err
	}
	var d dirent
	if len(parts) == 0 {
		d = f.rootEntry()
		if flag&(fs.O_CREAT|fs.O_EXCL) == fs.O_CREAT|fs.O_EXCL {
			return nil, syscall.EEXIST
		}
	} else {
		dir, entries, e, err := f.parent(parts)
		if err != nil {
			return nil, err
		}
		switch {
		case e == nil && flag&fs.O_CREAT == 0:
			return nil, syscall.ENOENT
		case e == nil:
			if flag&fs.O_DIRECTORY != 0 {
				return nil, syscall.EINVAL
			}
			if err := f.writable(); err != nil {
				return nil, err
			}
			attr := byte(attrArchive)
			if perm&0o200 == 0 && perm != 0 {
				attr |= attrReadOnly
			}
			nd, err := f.createEntry(dir, entries, parts[len(parts)-1], attr, 0, 0)
			if err != nil {
				return nil, err
			}
			d = nd
		case flag&(fs.O_CREAT|fs.O_EXCL) == fs.O_CREAT|fs.O_EXCL:
			return nil, syscall.EEXIST
		default:
			d = *e
		}
	}
	if d.isDir() && (fs.Writable(flag) || flag&fs.O_TRUNC != 0) {
		return nil, syscall.EISDIR
	}
	if !d.isDir() && flag&fs.O_DIRECTORY != 0 {
		return nil, syscall.ENOTDIR
	}
	n := f.nodeOf(d)
	h := &file{fs: f, n: n, flag: flag}
	if !n.dir && flag&fs.O_TRUNC != 0 && fs.Writable(flag) && n.size > 0 {
		if err := f.truncate(n, 0); err != nil {
			f.release(n)
			return nil, err
		}
	}
	return h, f.maybeSync()
}

// Stat implements fs.FS.
func (f *FS) Stat(name string) (fs.Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts, err := fs.Split(name)
	if err != nil {
		return fs.Stat{}, err
	}
	d, err := f.resolve(parts)
	if err != nil {
		return fs.Stat{}, err
	}
	return statOf(d), nil
}

func (f *FS) list(first uint32) ([]fs.DirEntry, error) {
	entries, err := f.readDir(first)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, fs.DirEntry{Name: e.name, Dir: e.isDir()})
	}
	sortEntries(out)
	return out, nil
}

// ReadDir implements fs.FS.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts, err := fs.Split(name)
	if err != nil {
		return nil, err
	}
	d, err := f.resolve(parts)
	if err != nil {
		return nil, err
	}
	if !d.isDir() {
		return nil, syscall.ENOTDIR
	}
	return f.list(d.cluster)
}

// Mkdir implements fs.FS.
func (f *FS) Mkdir(name string, _ iofs.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts, err := fs.Split(name)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return syscall.EEXIST
	}
	dir, entries, e, err := f.parent(parts)
	if err != nil {
		return err
	}
	if e != nil {
		return syscall.EEXIST
	}
	if err := f.writable(); err != nil {
		return err
	}
	if err := validName(parts[len(parts)-1]); err != nil {
		return err
	}
	cs, err := f.alloc(1, 0)
	if err != nil {
		return err
	}
	f.zeroCluster(cs[0])
	parentCluster := dir.cluster
	if dir.root {
		parentCluster = 0
	}
	now := f.now()
	s := f.clusterSector(cs[0])
	b := f.meta[s]
	for i, dot := range []struct {
		name    string
		cluster uint32
	}{{".", cs[0]}, {"..", parentCluster}} {
		e := b[32*i : 32*i+32]
		sn := pad(dot.name, "")
		copy(e, sn[:])
		e[11] = attrDir
		date, tm := toDOS(now)
		le := binary.LittleEndian
		le.PutUint16(e[14:], tm)
		le.PutUint16(e[16:], date)
		le.PutUint16(e[22:], tm)
		le.PutUint16(e[24:], date)
		le.PutUint16(e[20:], uint16(dot.cluster>>16))
		le.PutUint16(e[26:], uint16(dot.cluster))
	}
	if _, err := f.createEntry(dir, entries, parts[len(parts)-1], attrDir, cs[0], 0); err != nil {
		f.free(cs)
		return err
	}
	return f.maybeSync()
}

// existing returns the entry name names, which must exist (ENOENT); the root is rootErr:
// it has no entry to remove.
func (f *FS) existing(name string, rootErr error) (*dirent, error) {
	parts, err := fs.Split(name)
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return nil, rootErr
	}
	_, _, e, err := f.parent(parts)
	if err == nil && e == nil {
		err = syscall.ENOENT
	}
	return e, err
}

// Unlink implements fs.FS.
func (f *FS) Unlink(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, err := f.existing(name, syscall.EISDIR)
	switch {
	case err != nil:
		return err
	case e.isDir():
		return syscall.EISDIR
	}
	if err := f.writable(); err != nil {
		return err
	}
	if err := f.dropFile(*e); err != nil {
		return err
	}
	return f.maybeSync()
}

// dropFile removes file entry d; its clusters are freed now, or at the last close when open.
func (f *FS) dropFile(d dirent) error {
	if err := f.removeEntry(d); err != nil {
		return err
	}
	if n, ok := f.open[d.loc]; ok {
		n.unlinked = true
		delete(f.open, d.loc)
		return nil
	}
	cs, err := f.chain(d.cluster)
	if err != nil {
		return err
	}
	f.free(cs)
	return nil
}

// Rmdir implements fs.FS.
func (f *FS) Rmdir(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, err := f.existing(name, syscall.EBUSY)
	switch {
	case err != nil:
		return err
	case !e.isDir():
		return syscall.ENOTDIR
	}
	if err := f.writable(); err != nil {
		return err
	}
	if err := f.dropDir(*e); err != nil {
		return err
	}
	return f.maybeSync()
}

func (f *FS) dropDir(d dirent) error {
	children, err := f.readDir(d.cluster)
	if err != nil {
		return err
	}
	if len(children) > 0 {
		return syscall.ENOTEMPTY
	}
	cs, err := f.chain(d.cluster)
	if err != nil {
		return err
	}
	if err := f.removeEntry(d); err != nil {
		return err
	}
	f.free(cs)
	return nil
}

// Rename implements fs.FS.
func (f *FS) Rename(oldname, newname string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	op, err := fs.Split(oldname)
	if err != nil {
		return err
	}
	np, err := fs.Split(newname)
	if err != nil {
		return err
	}
	if len(op) == 0 || len(np) == 0 {
		return syscall.EBUSY
	}
	_, _, src, err := f.parent(op)
	if err != nil {
		return err
	}
	if src == nil {
		return syscall.ENOENT
	}
	if src.isDir() && len(np) > len(op) && foldPrefix(op, np) {
		return syscall.EINVAL
	}
	ndir, nentries, dst, err := f.parent(np)
	if err != nil {
		return err
	}
	if err := f.writable(); err != nil {
		return err
	}
	newBase := np[len(np)-1]
	if err := validName(newBase); err != nil {
		return err
	}
	if dst != nil && dst.loc == src.loc {
		if dst.name == newBase {
			return nil
		}
		dst = nil // a change of case: a new entry replaces the old one
	}
	if dst != nil {
		switch {
		case src.isDir() && !dst.isDir():
			return syscall.ENOTDIR
		case !src.isDir() && dst.isDir():
			return syscall.EISDIR
		case dst.isDir():
			if err := f.dropDir(*dst); err != nil {
				return err
			}
		default:
			if err := f.dropFile(*dst); err != nil {
				return err
			}
		}
		if nentries, err = f.readDir(ndir.cluster); err != nil {
			return err
		}
	}
	s := *src
	nd, err := f.createEntry(ndir, nentries, newBase, s.attr, s.cluster, s.size)
	if err != nil {
		return err
	}
	// keep the times of the old entry
	ob, err := f.metaSector(s.loc.sector)
	if err != nil {
		return err
	}
	nb, err := f.metaSector(nd.loc.sector)
	if err != nil {
		return err
	}
	copy(nb[nd.loc.off+13:nd.loc.off+20], ob[s.loc.off+13:s.loc.off+20])
	copy(nb[nd.loc.off+22:nd.loc.off+26], ob[s.loc.off+22:s.loc.off+26])
	if err := f.removeEntry(s); err != nil {
		return err
	}
	if n, ok := f.open[s.loc]; ok {
		delete(f.open, s.loc)
		n.loc, n.name = nd.loc, newBase
		f.open[nd.loc] = n
	}
	if s.isDir() { // its ".." now names the new parent
		pc := ndir.cluster
		if ndir.root {
			pc = 0
		}
		b, err := f.metaSector(f.clusterSector(s.cluster))
		if err != nil {
			return err
		}
		le := binary.LittleEndian
		if string(b[32:34]) == ".." {
			le.PutUint16(b[32+20:], uint16(pc>>16))
			le.PutUint16(b[32+26:], uint16(pc))
			f.dirtyMeta(f.clusterSector(s.cluster))
		}
	}
	return f.maybeSync()
}

func foldPrefix(a, b []string) bool {
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// Truncate implements fs.FS.
func (f *FS) Truncate(name string, size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts, err := fs.Split(name)
	if err != nil {
		return err
	}
	d, err := f.resolve(parts)
	if err != nil {
		return err
	}
	if d.isDir() {
		return syscall.EISDIR
	}
	n := f.nodeOf(d)
	defer f.release(n)
	if err := f.truncate(n, size); err != nil {
		return err
	}
	return f.maybeSync()
}

// truncate sets n's size, freeing clusters past it or zero-filling up to it.
func (f *FS) truncate(n *node, size int64) error {
	if size < 0 || size > maxFileSize {
		return syscall.EINVAL
	}
	if err := f.writable(); err != nil {
		return err
	}
	if size > n.size {
		_, err := f.writeZeros(n, n.size, size)
		if err != nil {
			return err
		}
	} else {
		keep := int((size + f.clusterBytes - 1) / f.clusterBytes)
		first, err := f.truncateChain(n.first, keep)
		if err != nil {
			return err
		}
		n.first, n.size = first, size
	}
	n.mtime = f.now()
	return f.saveNode(n)
}

func (f *FS) saveNode(n *node) error {
	if n.unlinked || n.root || n.dir {
		return nil
	}
	return f.updateEntry(n.loc, n.first, uint32(n.size), n.mtime)
}

// release drops a reference to n; the last one frees an unlinked file's clusters.
func (f *FS) release(n *node) {
	n.refs--
	if n.refs > 0 || n.dir {
		return
	}
	if n.unlinked {
		if cs, err := f.chain(n.first); err == nil {
			f.free(cs)
		}
		return
	}
	if f.open[n.loc] == n {
		delete(f.open, n.loc)
	}
}

// ensure makes n's chain cover end bytes and returns the chain.
func (f *FS) ensure(n *node, end int64) ([]uint32, error) {
	cs, err := f.chain(n.first)
	if err != nil {
		return nil, err
	}
	need := int((end + f.clusterBytes - 1) / f.clusterBytes)
	if need <= len(cs) {
		return cs, nil
	}
	var last uint32
	if len(cs) > 0 {
		last = cs[len(cs)-1]
	}
	more, err := f.alloc(need-len(cs), last)
	if err != nil {
		return nil, err
	}
	if n.first == 0 {
		n.first = more[0]
	}
	return append(cs, more...), nil
}

var zeros = make([]byte, 64<<10)

// writeZeros writes zeros over [from, to) of n, growing it.
func (f *FS) writeZeros(n *node, from, to int64) ([]uint32, error) {
	cs, err := f.ensure(n, to)
	if err != nil {
		return nil, err
	}
	for off := from; off < to; {
		k := min(int64(len(zeros)), to-off)
		if err := f.dataIO(cs, off, zeros[:k], true); err != nil {
			return nil, err
		}
		off += k
	}
	if to > n.size {
		n.size = to
	}
	return cs, nil
}

// dataIO reads or writes p at byte offset off of the file whose chain is cs.
func (f *FS) dataIO(cs []uint32, off int64, p []byte, write bool) error {
	for len(p) > 0 {
		ci := int(off / f.clusterBytes)
		within := off % f.clusterBytes
		if ci >= len(cs) {
			return syscall.EIO
		}
		run := 1
		for ci+run < len(cs) && cs[ci+run] == cs[ci+run-1]+1 && run < 256 {
			run++
		}
		k := min(int64(len(p)), int64(run)*f.clusterBytes-within)
		byteOff := int64(f.clusterSector(cs[ci]))*SectorSize + within
		if err := f.devIO(byteOff, p[:k], write); err != nil {
			return syscall.EIO
		}
		p, off = p[k:], off+k
	}
	return nil
}

// devIO moves p at byte offset off of the device, reading around partial sectors.
func (f *FS) devIO(off int64, p []byte, write bool) error {
	var buf [SectorSize]byte
	for len(p) > 0 {
		s := uint64(off / SectorSize)
		within := int(off % SectorSize)
		if within != 0 || len(p) < SectorSize {
			if err := f.read(ReadData, buf[:], s); err != nil {
				return err
			}
			k := min(len(p), SectorSize-within)
			if write {
				copy(buf[within:], p[:k])
				if err := f.dev.WriteAt(buf[:], s); err != nil {
					return err
				}
			} else {
				copy(p[:k], buf[within:])
			}
			p, off = p[k:], off+int64(k)
			continue
		}
		k := len(p) / SectorSize * SectorSize
		var err error
		if write {
			err = f.dev.WriteAt(p[:k], s)
		} else {
			err = f.read(ReadData, p[:k], s)
		}
		if err != nil {
			return err
		}
		p, off = p[k:], off+int64(k)
	}
	return nil
}

type file struct {
	fs     *FS
	n      *node
	flag   int
	closed bool
}

func (h *file) ReadAt(p []byte, off int64) (int, error) {
	f := h.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case h.closed:
		return 0, syscall.EBADF
	case h.n.dir:
		return 0, syscall.EISDIR
	case !fs.Readable(h.flag):
		return 0, syscall.EBADF
	case off < 0:
		return 0, syscall.EINVAL
	}
	if off >= h.n.size {
		return 0, nil
	}
	k := min(int64(len(p)), h.n.size-off)
	cs, err := f.chain(h.n.first)
	if err != nil {
		return 0, err
	}
	if err := f.dataIO(cs, off, p[:k], false); err != nil {
		return 0, err
	}
	return int(k), nil
}

func (h *file) WriteAt(p []byte, off int64) (int, int64, error) {
	f := h.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	n := h.n
	switch {
	case h.closed:
		return 0, 0, syscall.EBADF
	case n.dir:
		return 0, 0, syscall.EISDIR
	case !fs.Writable(h.flag):
		return 0, 0, syscall.EBADF
	case off < 0:
		return 0, 0, syscall.EINVAL
	}
	if err := f.writable(); err != nil {
		return 0, off, err
	}
	if h.flag&fs.O_APPEND != 0 {
		off = n.size
	}
	end := off + int64(len(p))
	if end > maxFileSize {
		return 0, off, syscall.EFBIG
	}
	if len(p) == 0 {
		return 0, off, nil
	}
	var cs []uint32
	var err error
	if off > n.size {
		cs, err = f.writeZeros(n, n.size, off)
		if err == nil {
			cs, err = f.ensure(n, end)
		}
	} else {
		cs, err = f.ensure(n, end)
	}
	if err != nil {
		_ = f.saveNode(n)
		return 0, off, err
	}
	if err := f.dataIO(cs, off, p, true); err != nil {
		return 0, off, err
	}
	if end > n.size {
		n.size = end
	}
	n.mtime = f.now()
	if err := f.saveNode(n); err != nil {
		return len(p), end, err
	}
	return len(p), end, f.maybeSync()
}

func (h *file) Stat() (fs.Stat, error) {
	f := h.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if h.closed {
		return fs.Stat{}, syscall.EBADF
	}
	n := h.n
	if n.root {
		return statOf(f.rootEntry()), nil
	}
	return statOf(dirent{name: n.name, attr: n.attr, size: uint32(n.size), mtime: n.mtime}), nil
}

func (h *file) Truncate(size int64) error {
	f := h.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case h.closed:
		return syscall.EBADF
	case h.n.dir:
		return syscall.EISDIR
	case !fs.Writable(h.flag):
		return syscall.EINVAL
	}
	if err := f.truncate(h.n, size); err != nil {
		return err
	}
	return f.maybeSync()
}

func (h *file) Sync() error {
	f := h.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if h.closed {
		return syscall.EBADF
	}
	return f.sync()
}

func (h *file) ReadDir() ([]fs.DirEntry, error) {
	f := h.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case h.closed:
		return nil, syscall.EBADF
	case !h.n.dir:
		return nil, syscall.ENOTDIR
	}
	return f.list(h.n.first)
}

func (h *file) Close() error {
	f := h.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if h.closed {
		return syscall.EBADF
	}
	h.closed = true
	f.release(h.n)
	return nil
}
