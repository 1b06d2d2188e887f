package server

import (
	iofs "io/fs"
	"syscall"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/fs"
)

// Operations on names: open, stat, mkdir, unlink, rename.

// open answers FSOpen: Words flags (Linux's O_*), mode; reply handle, size, st_mode.
func (s *Server) open(req *abi.FSRequest) abi.Message {
	t, err := s.resolvePath(&req.Path)
	if err != nil {
		return s.failErr("open", err)
	}
	flag, mode := req.Msg.Words[0], req.Msg.Words[1]
	if flag>>32 != 0 {
		return fail(syscall.EINVAL) // open(2)'s flags are an int
	}
	slot, err := s.handles.reserve()
	if err != nil {
		return fail(syscall.ENFILE)
	}
	if flag&abi.O_CREAT != 0 {
		s.names.RLock()
	}
	f, err := t.m.fs.Open(t.rel, int(flag), iofs.FileMode(mode&0o777))
	if flag&abi.O_CREAT != 0 {
		s.names.RUnlock()
	}
	if err != nil {
		s.handles.unreserve(slot)
		return s.failErr("open "+t.abs, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		s.handles.unreserve(slot)
		return s.failErr("open "+t.abs, err)
	}
	of := &openFile{f: f, t: t, flag: int(flag), inode: inode(t.m, t.rel)}
	h := s.handles.fill(slot, of)
	return reply(0, h, uint64(st.Size), modeOf(t.m, st))
}

// modeOf is st_mode: the file systems keep no permissions, so directories are 0755 and files
// 0644, or 0444 where a read-only flag is real (FAT's attribute).
func modeOf(m *mount, st fs.Stat) uint64 {
	switch {
	case st.IsDir():
		return abi.S_IFDIR | 0o755
	case m.opt.ReadOnlyMode && st.Mode.Perm()&0o200 == 0:
		return abi.S_IFREG | 0o444
	}
	return abi.S_IFREG | 0o644
}

// statReply is FSStat's and FSFstat's reply: size, st_mode, mtime ns, inode.
func statReply(m *mount, st fs.Stat, ino uint64) abi.Message {
	var mtime uint64
	if t := st.ModTime; !t.IsZero() && t.Unix() > 0 {
		if g := m.opt.TimeGranularity; g > 0 {
			t = t.Truncate(g)
		}
		mtime = uint64(t.UnixNano())
	}
	return reply(0, uint64(st.Size), modeOf(m, st), mtime, ino)
}

// stat answers FSStat.
func (s *Server) stat(req *abi.FSRequest) abi.Message {
	t, err := s.resolvePath(&req.Path)
	if err != nil {
		return s.failErr("stat", err)
	}
	st, err := t.m.fs.Stat(t.rel)
	if err != nil {
		return s.failErr("stat "+t.abs, err)
	}
	return statReply(t.m, st, inode(t.m, t.rel))
}

// mkdir answers FSMkdir: Words mode.
func (s *Server) mkdir(req *abi.FSRequest) abi.Message {
	t, err := s.resolvePath(&req.Path)
	if err != nil {
		return s.failErr("mkdir", err)
	}
	s.names.RLock()
	defer s.names.RUnlock()
	if err := t.m.fs.Mkdir(t.rel, iofs.FileMode(req.Msg.Words[0]&0o777)); err != nil {
		return s.failErr("mkdir "+t.abs, err)
	}
	return reply(0)
}

// unlink answers FSUnlink: Words flags (AT_REMOVEDIR: rmdir).
func (s *Server) unlink(req *abi.FSRequest) abi.Message {
	t, err := s.resolvePath(&req.Path)
	if err != nil {
		return s.failErr("unlink", err)
	}
	flags := req.Msg.Words[0]
	if flags&^abi.AT_REMOVEDIR != 0 {
		return fail(syscall.EINVAL)
	}
	rmdir := flags&abi.AT_REMOVEDIR != 0
	switch {
	case rmdir && s.busy(t.abs):
		return fail(syscall.EBUSY)
	case !rmdir && t.rel == "":
		return fail(syscall.EISDIR) // a mount's root is a directory, as unlink(2) says first
	}
	s.names.RLock()
	defer s.names.RUnlock()
	if rmdir {
		err = t.m.fs.Rmdir(t.rel)
	} else {
		err = t.m.fs.Unlink(t.rel)
	}
	if err != nil {
		return s.failErr("unlink "+t.abs, err)
	}
	return reply(0)
}

// rename answers FSRename: paths old and new, Words flags (RENAME_NOREPLACE).
func (s *Server) rename(req *abi.FSRequest) abi.Message {
	from, err := s.resolvePath(&req.Path)
	if err != nil {
		return s.failErr("rename", err)
	}
	to, err := s.resolvePath(&req.Path2)
	if err != nil {
		return s.failErr("rename", err)
	}
	flags := req.Msg.Words[0]
	switch {
	case flags&^abi.RENAME_NOREPLACE != 0:
		return fail(syscall.EINVAL) // RENAME_EXCHANGE (FAT cannot swap two entries) or unknown
	case s.busy(from.abs) || s.busy(to.abs):
		return fail(syscall.EBUSY)
	case from.m != to.m:
		return fail(syscall.EXDEV)
	}
	if flags&abi.RENAME_NOREPLACE != 0 {
		s.names.Lock()
		defer s.names.Unlock()
		if _, err := to.m.fs.Stat(to.rel); err == nil {
			return fail(syscall.EEXIST)
		}
	} else {
		s.names.RLock()
		defer s.names.RUnlock()
	}
	if err := from.m.fs.Rename(from.rel, to.rel); err != nil {
		return s.failErr("rename "+from.abs, err)
	}
	return reply(0)
}
