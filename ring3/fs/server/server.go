// Package server is SimpleOS's file-system server: it mounts file systems (package fs's
// implementations) under absolute paths, keeps the table of open files, and answers the file
// protocol of abi/fs.go, which only the core's VFS speaks. Handle serves one request; it is
// safe to call from several threads at once (the command ring3/fs runs a few workers).
//
// Nothing a request carries is trusted: paths, handles, offsets and grant offsets are checked,
// and no input makes Handle panic (FuzzHandle).
package server

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/fs"
)

// DefaultMaxOpen bounds the open-file table: ENFILE beyond.
const DefaultMaxOpen = 1024

// Options configure New.
type Options struct {
	MaxOpen int                  // open files at once (DefaultMaxOpen when 0)
	Logf    func(string, ...any) // where unexpected errors are reported (stderr when nil)
	Seed    uint32               // first handle generation (random when 0): see handles
}

// MountOptions say what a mounted file system's names and modes mean.
type MountOptions struct {
	// FoldCase: names are case-insensitive (FAT), so inode numbers are computed from the
	// upper-cased path and "a.txt" and "A.TXT" are one file.
	FoldCase bool
	// ReadOnlyMode: a file's missing write bit is real (FAT's read-only attribute) and
	// shows as 0444; otherwise every file is 0644 (the file system keeps no permissions).
	ReadOnlyMode bool
	// TimeGranularity is how finely the file system keeps modification times (2 s for FAT):
	// mtimes are truncated to it, so that fstat on an open file (whose time the file system
	// holds exactly in memory) agrees with stat (which reads the stored time).
	TimeGranularity time.Duration
}

type mount struct {
	at  string // absolute, clean: "/" or "/tmp"
	fs  fs.FS
	opt MountOptions
}

// Server serves the file protocol over its mounts.
type Server struct {
	logf func(string, ...any)

	mu     sync.RWMutex // guards mounts
	mounts []*mount     // longest path first, so the first match is the deepest mount

	// names is held shared by every operation that changes names and exclusively by a
	// RENAME_NOREPLACE rename, whose check of the target and rename must not be separated
	// by another request creating the target.
	names sync.RWMutex

	handles *handles
}

// New returns a server with no mounts.
func New(o Options) *Server {
	s := &Server{logf: o.Logf, handles: newHandles(o.MaxOpen, o.Seed)}
	if s.logf == nil {
		s.logf = func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	}
	return s
}

// Mount serves f at path at (absolute and clean, e.g. "/" or "/tmp"). Mounts are made before
// serving; a later mount hides nothing already open.
func (s *Server) Mount(at string, f fs.FS, o MountOptions) error {
	if !strings.HasPrefix(at, "/") || cleanAbs(at) != at || f == nil {
		return fmt.Errorf("fs: mount point %q: not an absolute clean path", at)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.mounts {
		if m.at == at {
			return fmt.Errorf("fs: %s is already mounted", at)
		}
	}
	s.mounts = append(s.mounts, &mount{at: at, fs: f, opt: o})
	sort.SliceStable(s.mounts, func(i, j int) bool { return len(s.mounts[i].at) > len(s.mounts[j].at) })
	return nil
}

// Handle serves one request. grant is the memory lent for the call (nil when none); the reply's
// Label is the result or -errno, its Words what abi/fs.go lists for the operation.
func (s *Server) Handle(req *abi.FSRequest, grant []byte) abi.Message {
	m := &req.Msg
	if m.Badge != 0 {
		return fail(syscall.EPERM) // only the core speaks this protocol
	}
	switch m.Label {
	case abi.FSOpen:
		return s.open(req)
	case abi.FSClose:
		return s.close(m)
	case abi.FSRead:
		return s.read(m, grant)
	case abi.FSWrite:
		return s.write(m, grant)
	case abi.FSStat:
		return s.stat(req)
	case abi.FSFstat:
		return s.fstat(m)
	case abi.FSReaddir:
		return s.readdir(m, grant)
	case abi.FSMkdir:
		return s.mkdir(req)
	case abi.FSUnlink:
		return s.unlink(req)
	case abi.FSRename:
		return s.rename(req)
	case abi.FSTruncate:
		return s.truncate(m)
	case abi.FSSync:
		return s.sync(m)
	}
	return fail(syscall.ENOSYS)
}

// reply is a success: Label result, then words.
func reply(result uint64, words ...uint64) abi.Message {
	r := abi.Message{Label: result}
	copy(r.Words[:], words)
	return r
}

// fail is an error reply: Label -errno.
func fail(e syscall.Errno) abi.Message {
	return abi.Message{Label: uint64(-int64(e))}
}

// failErr answers err: its errno when it is one (the libraries' errors are), else EIO and a
// line saying what happened, since the task sees only EIO.
func (s *Server) failErr(op string, err error) abi.Message {
	var e syscall.Errno
	if errors.As(err, &e) && e != 0 {
		return fail(e)
	}
	s.logf("fs: %s: %v (EIO)", op, err)
	return fail(syscall.EIO)
}
