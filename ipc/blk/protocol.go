// Package blk is the block protocol: how tasks read and write a disk through the block driver
// (tier1/blk, endpoint "blk"), and the client library that speaks it. docs/blk.md describes it.
//
// Requests (Msg.Label) and their words:
//
//	Capacity  -                                     reply: sectors, block size, flags, max bytes per call
//	Read      first sector, byte count; a WRITABLE grant (GrantPages | abi.GrantWrite) of the buffer
//	Write     first sector, byte count; a grant of the buffer (read-only suffices)
//	Flush     -                                     completed writes are durable once it is answered
//	ID        -                                     reply: the device's id string, 20 bytes in three words
//
// Positions are 512-byte sectors; counts are bytes, a multiple of the block size, at most the
// granted pages (abi.MaxGrantPages). The reply's Label is 0 on success, else an errno: EINVAL
// (out of range, misaligned, a grant that does not cover the count), EACCES (a Read whose grant
// is not writable), EROFS, EIO (the device failed the request), ENOSYS (unknown label). Read and
// Write answer the bytes transferred in Words[0].
package blk

import (
	"errors"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/ipc"
)

// Endpoint is the name the block driver serves.
const Endpoint = "blk"

// Request labels.
const (
	LabelCapacity = 1
	LabelRead     = 2
	LabelWrite    = 3
	LabelFlush    = 4
	LabelID       = 5
)

// Flags in the Capacity reply.
const (
	FlagFlush    = 1 << 0 // the device has a write cache and Flush empties it
	FlagReadOnly = 1 << 1
)

// SectorSize is the unit of positions.
const SectorSize = 512

// PageSize is the unit of grants.
const PageSize = 4096

// MaxGrantBytes is the most one call can carry.
const MaxGrantBytes = abi.MaxGrantPages * PageSize

// Info describes the disk.
type Info struct {
	Sectors     uint64 // capacity in 512-byte sectors
	BlockSize   int    // requests are aligned to it (512 or more)
	Flags       uint64
	MaxTransfer int // most bytes the driver moves per device request (it splits a call itself)
}

// Device is what the server serves: the driver, or a fake. Errors that are a syscall.Errno
// are answered as that code; any other error means the device can no longer be trusted with a
// request, and goes to Server.Fatal.
type Device interface {
	Info() Info
	ReadAt(p []byte, sector uint64) error
	WriteAt(p []byte, sector uint64) error
	Flush() error
	ID() (string, error)
}

// Server answers block requests for a device. It trusts nothing in a request: every position,
// count and grant is checked before the device sees it.
type Server struct {
	Dev Device
	// Fatal is called with a device error that is not an errno (a hang, a device that broke
	// the protocol). The driver's program ends there, without replying: the caller gets
	// ipc.ErrPeerDied and resubmits to the restarted driver. If Fatal returns, the call is
	// answered EIO.
	Fatal func(error)
}

// Handle answers one call; the grant is read where the core mapped it (Msg.GrantAddr).
func (s *Server) Handle(m ipc.Msg) ipc.Msg { return s.HandleGrant(m, grantOf(m)) }

// grantOf returns the call's granted pages. The page count is masked: the server's copy of
// GrantPages may carry abi.GrantWrite.
func grantOf(m ipc.Msg) []byte {
	pages := m.GrantPages &^ abi.GrantWrite
	if m.GrantAddr == 0 || pages == 0 || pages > abi.MaxGrantPages || m.GrantAddr%PageSize != 0 {
		return nil
	}
	return unsafe.Slice((*byte)(pointer(uintptr(m.GrantAddr))), pages*PageSize)
}

// pointer turns the address the core mapped the grant at into a pointer (it is not Go memory).
func pointer(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

func reply(e syscall.Errno, words ...uint64) ipc.Msg {
	m := ipc.Msg{Label: uint64(e)}
	copy(m.Words[:], words)
	return m
}

// HandleGrant answers one call whose granted pages are grant (nil if none).
func (s *Server) HandleGrant(m ipc.Msg, grant []byte) ipc.Msg {
	info := s.Dev.Info()
	switch m.Label {
	case LabelCapacity:
		return reply(0, info.Sectors, uint64(info.BlockSize), info.Flags, uint64(info.MaxTransfer))
	case LabelFlush:
		if err := s.Dev.Flush(); err != nil {
			return s.failed(err)
		}
		return reply(0)
	case LabelID:
		id, err := s.Dev.ID()
		if err != nil {
			return s.failed(err)
		}
		var b [24]byte
		copy(b[:20], id)
		r := reply(0)
		for i := range 3 {
			for j := range 8 {
				r.Words[i] |= uint64(b[8*i+j]) << (8 * j)
			}
		}
		return r
	case LabelRead, LabelWrite:
		return s.transfer(m, grant, info)
	}
	return reply(syscall.ENOSYS)
}

// transfer serves Read and Write after checking the request against the disk and the grant.
func (s *Server) transfer(m ipc.Msg, grant []byte, info Info) ipc.Msg {
	sector, n := m.Words[0], m.Words[1]
	pages := m.GrantPages &^ abi.GrantWrite
	bs := uint64(info.BlockSize)
	switch {
	case bs == 0 || n == 0 || n%bs != 0 || sector*SectorSize%bs != 0:
		return reply(syscall.EINVAL)
	case pages == 0 || pages > abi.MaxGrantPages || n > pages*PageSize || uint64(len(grant)) < n:
		return reply(syscall.EINVAL) // the grant does not cover the count
	case sector > info.Sectors || n/SectorSize > info.Sectors-sector:
		return reply(syscall.EINVAL)
	case m.Label == LabelRead && m.GrantPages&abi.GrantWrite == 0:
		return reply(syscall.EACCES) // writing into a read-only grant would fault the driver
	case m.Label == LabelWrite && info.Flags&FlagReadOnly != 0:
		return reply(syscall.EROFS)
	}
	step := uint64(max(info.MaxTransfer, info.BlockSize))
	for off := uint64(0); off < n; off += step {
		chunk := grant[off : off+min(step, n-off)]
		var err error
		if m.Label == LabelRead {
			err = s.Dev.ReadAt(chunk, sector+off/SectorSize)
		} else {
			err = s.Dev.WriteAt(chunk, sector+off/SectorSize)
		}
		if err != nil {
			return s.failed(err)
		}
	}
	return reply(0, n)
}

func (s *Server) failed(err error) ipc.Msg {
	var e syscall.Errno
	if errors.As(err, &e) && e != 0 {
		return reply(e)
	}
	if s.Fatal != nil {
		s.Fatal(err)
	}
	return reply(syscall.EIO)
}
