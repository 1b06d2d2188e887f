package main

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/fs"
	"github.com/simpleos/simpleos/fs/fat"
	"github.com/simpleos/simpleos/ipc/blk"
	"github.com/simpleos/simpleos/ring3/fs/fsfault"
	"github.com/simpleos/simpleos/ring3/fs/server"
)

// errUnreadable marks a disk that is there but could not be read (a driver that died under
// the request, a device error): not a reason to serve "/" from memory.
var errUnreadable = errors.New("unreadable")

// fatMount is how a FAT32 volume is served: names fold case, the read-only attribute shows as
// 0444, times are kept to 2 s.
var fatMount = server.MountOptions{FoldCase: true, ReadOnlyMode: true, TimeGranularity: 2 * time.Second}

// mountDisk mounts the FAT32 volume on the block driver's disk, waiting up to wait for the
// driver to register. It returns the file system and a description for the start line, or
// an error saying why there is none. An armed file-system fault (sab, may be nil) sees the
// volume's device writes and metadata reads.
func mountDisk(wait time.Duration, sab *fsfault.Sabotage) (fs.FS, server.MountOptions, string, error) {
	c := blk.NewClient(blk.Endpoint, 30*time.Second) // well above the driver's device timeout
	c.RetryFor = wait
	dev, err := fat.NewClientDevice(c)
	if err != nil {
		return nil, server.MountOptions{}, "", fmt.Errorf("no disk: %w", err)
	}
	var opts []fat.Option
	if sab != nil {
		opts = append(opts, fat.WithReadHook(sab.ReadHook))
	}
	vol, err := fat.Mount(sab.Device(dev), opts...)
	switch {
	case errors.Is(err, syscall.EINVAL):
		return nil, server.MountOptions{}, "", errors.New("the disk holds no FAT32 volume with 512-byte sectors")
	case err != nil:
		return nil, server.MountOptions{}, "", fmt.Errorf("cannot read the disk: %w: %w", errUnreadable, err)
	}
	sab.Watch(vol)
	return vol, fatMount, "FAT32 on blk, " + formatSize(dev.Sectors()*fat.SectorSize), nil
}
