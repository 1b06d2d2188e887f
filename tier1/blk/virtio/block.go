package virtio

import (
	"errors"
	"syscall"

	"github.com/simpleos/simpleos/ipc/blk"
)

// Block returns the driver as a blk.Device, for blk.Server: the ring-1 task serves it over
// IPC, and a core running the driver in ring 0 can serve it the same way. Request errors
// become the protocol's errnos; a hang, a device that broke the protocol and platform failures
// stay errors (blk.Server hands them to its Fatal).
func (d *Driver) Block() blk.Device { return blockDevice{d} }

type blockDevice struct{ d *Driver }

func (b blockDevice) Info() blk.Info {
	i := b.d.Info()
	var flags uint64
	if i.Flush {
		flags |= blk.FlagFlush
	}
	if i.ReadOnly {
		flags |= blk.FlagReadOnly
	}
	return blk.Info{Sectors: i.Sectors, BlockSize: i.BlockSize, Flags: flags, MaxTransfer: i.MaxTransfer}
}

func (b blockDevice) ReadAt(p []byte, sector uint64) error  { return errno(b.d.ReadAt(p, sector)) }
func (b blockDevice) WriteAt(p []byte, sector uint64) error { return errno(b.d.WriteAt(p, sector)) }
func (b blockDevice) Flush() error                          { return errno(b.d.Flush()) }

func (b blockDevice) ID() (string, error) {
	id, err := b.d.ID()
	return id, errno(err)
}

// errno maps the errors a request can end with to the protocol's codes.
func errno(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrIO), errors.Is(err, ErrUnsupported):
		return syscall.EIO
	case errors.Is(err, ErrRange), errors.Is(err, ErrInvalid):
		return syscall.EINVAL
	case errors.Is(err, ErrReadOnly):
		return syscall.EROFS
	}
	return err
}
