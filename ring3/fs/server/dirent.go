package server

import (
	"encoding/binary"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/simpleos/simpleos/abi"
)

// Directory listings as getdents64(2) returns them.

// linux_dirent64: u64 d_ino, i64 d_off, u16 d_reclen, u8 d_type, then the name and a NUL;
// records are 8-byte aligned.
const (
	direntHeader = 19
	dtDir        = 4 // DT_DIR
	dtReg        = 8 // DT_REG
)

// direntLen is the record length for a name.
func direntLen(name string) int { return (direntHeader + len(name) + 1 + 7) &^ 7 }

// putDirent writes one record into b; it returns its length, or 0 when it does not fit.
func putDirent(b []byte, ino uint64, next int64, typ byte, name string) int {
	n := direntLen(name)
	if n > len(b) {
		return 0
	}
	le := binary.LittleEndian
	le.PutUint64(b[0:], ino)
	le.PutUint64(b[8:], uint64(next))
	le.PutUint16(b[16:], uint16(n))
	b[18] = typ
	copy(b[direntHeader:], name)
	clear(b[direntHeader+len(name) : n]) // the NUL and the padding
	return n
}

type dentry struct {
	name string
	dir  bool
	ino  uint64
}

// listing is what the directory of of lists: ".", "..", its entries in fs.ReadDir's order,
// then any mount point in it the file system below holds no entry for (a mount point's entry
// is a directory with the mounted root's inode).
func (s *Server) listing(of *openFile) ([]dentry, error) {
	entries, err := of.f.ReadDir()
	if err != nil {
		return nil, err
	}
	up := s.parentOf(of.t)
	out := make([]dentry, 0, len(entries)+2)
	out = append(out, dentry{".", true, of.inode}, dentry{"..", true, inode(up.m, up.rel)})
	mps := s.mountsIn(of.t.abs)
	for _, e := range entries {
		d := dentry{name: e.Name, dir: e.Dir, ino: inode(of.t.m, path.Join(of.t.rel, e.Name))}
		for name, m := range mps {
			if name == e.Name || of.t.m.opt.FoldCase && strings.EqualFold(name, e.Name) {
				d.dir, d.ino = true, inode(m, "")
				delete(mps, name)
				break
			}
		}
		out = append(out, d)
	}
	rest := make([]string, 0, len(mps))
	for name := range mps {
		rest = append(rest, name)
	}
	sort.Strings(rest)
	for _, name := range rest {
		out = append(out, dentry{name, true, inode(mps[name], "")})
	}
	return out, nil
}

// readdir answers FSReaddir: Words handle, position, length, grant offset. It writes whole
// records from position on (0 is ".", 1 "..", then the entries) and replies the bytes written
// and the position after them; 0 bytes at the end, EINVAL when not even one record fits.
func (s *Server) readdir(m *abi.Message, grant []byte) abi.Message {
	of, err := s.handles.get(m.Words[0])
	if err != nil {
		return fail(syscall.EBADF)
	}
	buf, err := window(m, grant, m.Words[3], m.Words[2], true)
	if err != nil {
		return fail(syscall.EFAULT)
	}
	list, err := s.listing(of)
	if err != nil {
		return s.failErr("readdir "+of.t.abs, err)
	}
	pos := m.Words[1]
	written := 0
	for ; pos < uint64(len(list)); pos++ {
		d := list[pos]
		typ := byte(dtReg)
		if d.dir {
			typ = dtDir
		}
		n := putDirent(buf[written:], d.ino, int64(pos+1), typ, d.name)
		if n == 0 {
			break
		}
		written += n
	}
	if written == 0 && pos < uint64(len(list)) {
		return fail(syscall.EINVAL) // the buffer holds not even the next record
	}
	return reply(uint64(written), pos)
}
