package fat

import (
	"os"
	"sort"
	"syscall"

	"github.com/simpleos/simpleos/fs"
	"github.com/simpleos/simpleos/ipc/blk"
)

func sortEntries(es []fs.DirEntry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Name < es[j].Name })
}

// ClientDevice adapts an ipc/blk Client (or anything with its methods) to Device.
type ClientDevice struct {
	C interface {
		ReadAt(p []byte, sector uint64) error
		WriteAt(p []byte, sector uint64) error
		Flush() error
		Info() (blk.Info, error)
	}
	sectors uint64
}

// NewClientDevice asks the driver for the capacity once and returns the Device.
func NewClientDevice(c *blk.Client) (*ClientDevice, error) {
	info, err := c.Info()
	if err != nil {
		return nil, err
	}
	return &ClientDevice{C: c, sectors: info.Sectors}, nil
}

func (d *ClientDevice) ReadAt(p []byte, sector uint64) error  { return d.C.ReadAt(p, sector) }
func (d *ClientDevice) WriteAt(p []byte, sector uint64) error { return d.C.WriteAt(p, sector) }
func (d *ClientDevice) Flush() error                          { return d.C.Flush() }
func (d *ClientDevice) Sectors() uint64                       { return d.sectors }

// FileDevice is a Device over a host file (a disk image): Flush is fsync.
type FileDevice struct{ F *os.File }

func (d FileDevice) ReadAt(p []byte, sector uint64) error {
	if len(p)%SectorSize != 0 {
		return syscall.EINVAL
	}
	_, err := d.F.ReadAt(p, int64(sector)*SectorSize)
	return err
}

func (d FileDevice) WriteAt(p []byte, sector uint64) error {
	if len(p)%SectorSize != 0 {
		return syscall.EINVAL
	}
	_, err := d.F.WriteAt(p, int64(sector)*SectorSize)
	return err
}

func (d FileDevice) Flush() error { return d.F.Sync() }

func (d FileDevice) Sectors() uint64 {
	st, err := d.F.Stat()
	if err != nil {
		return 0
	}
	return uint64(st.Size()) / SectorSize
}
