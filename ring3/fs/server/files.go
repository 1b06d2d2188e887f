package server

import (
	"math"
	"sync"
	"syscall"

	"github.com/simpleos/simpleos/abi"
)

// Operations on open files: close, read, write, fstat, truncate, sync.

// window returns the n bytes at grant offset off of the call's grant: EFAULT unless they lie
// inside the pages lent, and, when the server writes them (write), unless the pages were lent
// writable. Zero bytes need no grant.
func window(m *abi.Message, grant []byte, off, n uint64, write bool) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	size := min(uint64(len(grant)), (m.GrantPages&^abi.GrantWrite)*4096)
	switch {
	case write && m.GrantPages&abi.GrantWrite == 0:
		return nil, syscall.EFAULT
	case off > size || n > size-off:
		return nil, syscall.EFAULT
	}
	return grant[off : off+n : off+n], nil
}

// fileOffset checks a read's or write's offset and length as Linux does (EINVAL for a
// negative offset or an end past the largest offset).
func fileOffset(off, n uint64) (int64, error) {
	if off > math.MaxInt64 || n > math.MaxInt64-off {
		return 0, syscall.EINVAL
	}
	return int64(off), nil
}

// close answers FSClose: the handle is free (and stale) from now on.
func (s *Server) close(m *abi.Message) abi.Message {
	of, err := s.handles.remove(m.Words[0])
	if err != nil {
		return fail(syscall.EBADF)
	}
	if err := of.f.Close(); err != nil {
		return s.failErr("close "+of.t.abs, err)
	}
	return reply(0)
}

// read answers FSRead: Words handle, offset, length, grant offset; reply bytes read.
func (s *Server) read(m *abi.Message, grant []byte) abi.Message {
	of, err := s.handles.get(m.Words[0])
	if err != nil {
		return fail(syscall.EBADF)
	}
	off, err := fileOffset(m.Words[1], m.Words[2])
	if err != nil {
		return fail(syscall.EINVAL)
	}
	buf, err := window(m, grant, m.Words[3], m.Words[2], true)
	if err != nil {
		return fail(syscall.EFAULT)
	}
	bounce := bounces.Get().(*[bounceSize]byte)
	defer bounces.Put(bounce)
	n, err := of.f.ReadAt(bounce[:len(buf)], off)
	copy(buf, bounce[:n])
	if err != nil {
		return s.failErr("read "+of.t.abs, err)
	}
	return reply(uint64(n))
}

// write answers FSWrite: Words handle, offset, length, grant offset; reply bytes written and
// the offset after them (an O_APPEND handle writes at the end, whatever the offset).
func (s *Server) write(m *abi.Message, grant []byte) abi.Message {
	of, err := s.handles.get(m.Words[0])
	if err != nil {
		return fail(syscall.EBADF)
	}
	off := int64(0) // ignored by the file system for O_APPEND
	if of.flag&abi.O_APPEND == 0 {
		if off, err = fileOffset(m.Words[1], m.Words[2]); err != nil {
			return fail(syscall.EINVAL)
		}
	} else if m.Words[2] > math.MaxInt64 {
		return fail(syscall.EINVAL)
	}
	buf, err := window(m, grant, m.Words[3], m.Words[2], false)
	if err != nil {
		return fail(syscall.EFAULT)
	}
	bounce := bounces.Get().(*[bounceSize]byte)
	defer bounces.Put(bounce)
	n, end, err := of.f.WriteAt(bounce[:copy(bounce[:], buf)], off)
	if err != nil {
		if n == 0 {
			return s.failErr("write "+of.t.abs, err)
		}
		// The bytes are written but what followed failed (the entry, an automatic sync):
		// write(2) reports the bytes; the next call sees the error.
		s.logf("fs: write %s: %v after %d bytes", of.t.abs, err, n)
	}
	return reply(uint64(n), uint64(end))
}

// fstat answers FSFstat: Words handle; reply as FSStat.
func (s *Server) fstat(m *abi.Message) abi.Message {
	of, err := s.handles.get(m.Words[0])
	if err != nil {
		return fail(syscall.EBADF)
	}
	st, err := of.f.Stat()
	if err != nil {
		return s.failErr("fstat "+of.t.abs, err)
	}
	return statReply(of.t.m, st, of.inode)
}

// truncate answers FSTruncate: Words handle, size.
func (s *Server) truncate(m *abi.Message) abi.Message {
	of, err := s.handles.get(m.Words[0])
	if err != nil {
		return fail(syscall.EBADF)
	}
	if m.Words[1] > math.MaxInt64 {
		return fail(syscall.EINVAL)
	}
	if err := of.f.Truncate(int64(m.Words[1])); err != nil {
		return s.failErr("truncate "+of.t.abs, err)
	}
	return reply(0)
}

// sync answers FSSync: Words handle, or abi.FSSyncAll for every mount (sync(2)). A file
// system's Sync writes its metadata in a crash-safe order and flushes the device (fs/fat).
func (s *Server) sync(m *abi.Message) abi.Message {
	if m.Words[0] == abi.FSSyncAll {
		s.mu.RLock()
		mounts := append([]*mount(nil), s.mounts...)
		s.mu.RUnlock()
		var first error
		for _, mt := range mounts {
			if err := mt.fs.Sync(); err != nil && first == nil {
				first = err
			}
		}
		if first != nil {
			return s.failErr("sync", first)
		}
		return reply(0)
	}
	of, err := s.handles.get(m.Words[0])
	if err != nil {
		return fail(syscall.EBADF)
	}
	if err := of.f.Sync(); err != nil {
		return s.failErr("fsync "+of.t.abs, err)
	}
	return reply(0)
}

// bounceSize is the most one request moves: what the core lends at most.
const bounceSize = abi.MaxGrantPages * 4096

// bounces hold a request's data while a file system moves it: the pages the core lent are
// the task's, which the server may not lend on to the disk driver (the kernel refuses to lend
// borrowed pages), and a file system may hand its caller's buffer to the device.
var bounces = sync.Pool{New: func() any { return new([bounceSize]byte) }}
