package server

import (
	"bytes"
	"hash/fnv"
	"path"
	"strings"
	"syscall"

	"github.com/simpleos/simpleos/abi"
)

// cleanAbs cleans an absolute path ("/a/../b/" is "/b").
func cleanAbs(p string) string { return path.Clean("/" + p) }

// parsePath reads a request's path: NUL-terminated (ENAMETOOLONG without a NUL: the core
// forwards at most abi.FSPathMax bytes), absolute and not empty (EINVAL). It returns it clean.
func parsePath(raw *[abi.FSPathMax + 1]byte) (string, error) {
	n := bytes.IndexByte(raw[:], 0)
	switch {
	case n < 0:
		return "", syscall.ENAMETOOLONG
	case n == 0 || raw[0] != '/':
		return "", syscall.EINVAL
	}
	return cleanAbs(string(raw[:n])), nil
}

// target is a path resolved to its mount.
type target struct {
	abs string // the clean absolute path
	m   *mount
	rel string // relative to m's root: "" for the root
}

// resolve finds the deepest mount holding abs.
func (s *Server) resolve(abs string) (target, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, m := range s.mounts {
		if m.at == "/" || abs == m.at || strings.HasPrefix(abs, m.at+"/") {
			rel := strings.TrimPrefix(strings.TrimPrefix(abs, m.at), "/")
			return target{abs: abs, m: m, rel: rel}, nil
		}
	}
	return target{}, syscall.ENOENT // nothing mounted at "/"
}

// resolvePath parses and resolves a request's path.
func (s *Server) resolvePath(raw *[abi.FSPathMax + 1]byte) (target, error) {
	abs, err := parsePath(raw)
	if err != nil {
		return target{}, err
	}
	return s.resolve(abs)
}

// busy reports whether abs is a mount point or holds one: renaming or removing it would
// take a mounted file system out of the tree (EBUSY, as Linux answers for a mount point).
func (s *Server) busy(abs string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, m := range s.mounts {
		if m.at == abs || abs == "/" || strings.HasPrefix(m.at, abs+"/") {
			return true
		}
	}
	return false
}

// mountsIn returns the mounts whose mount point is a direct child of directory abs, by name:
// readdir lists them even when the directory below holds no such entry.
func (s *Server) mountsIn(abs string) map[string]*mount {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out map[string]*mount
	for _, m := range s.mounts {
		if m.at != "/" && path.Dir(m.at) == abs {
			if out == nil {
				out = map[string]*mount{}
			}
			out[path.Base(m.at)] = m
		}
	}
	return out
}

// inode is the file's number: FNV-64a of the mount point and the mount-relative path
// (upper-cased where names fold case), so it is stable while the file keeps its name, the
// roots of two mounts differ, and it is never 0. A rename gives a new number: FAT has no
// inodes to keep.
func inode(m *mount, rel string) uint64 {
	if m.opt.FoldCase {
		rel = strings.ToUpper(rel)
	}
	h := fnv.New64a()
	h.Write([]byte(m.at))
	h.Write([]byte{0})
	h.Write([]byte(rel))
	if n := h.Sum64(); n != 0 {
		return n
	}
	return 1
}

// parentOf returns the mount and relative path of the directory holding t ("..": the mount
// point's parent for a mount's root, the root itself for "/").
func (s *Server) parentOf(t target) target {
	if t.abs == "/" {
		return t
	}
	p, err := s.resolve(path.Dir(t.abs))
	if err != nil {
		return t
	}
	return p
}
