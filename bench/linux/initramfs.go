package linux

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// File types and permissions of cpio entries (the st_mode bits).
const (
	modeDir  = 0o040000
	modeReg  = 0o100000
	modeChar = 0o020000
)

// cpioEntry is one member of a newc archive.
type cpioEntry struct {
	Name      string // without a leading "/"
	Mode      uint32 // type and permission bits
	RdevMajor uint32 // device number of a device node
	RdevMinor uint32
	Data      []byte
}

// initramfsEntries is the whole root file system the guest program boots with. /dev/console
// is there so that init's standard streams are the console even if the kernel's built-in
// initramfs lacks it.
func initramfsEntries(guest []byte, modules []cpioEntry) []cpioEntry {
	out := []cpioEntry{
		{Name: "dev", Mode: modeDir | 0o755},
		{Name: "dev/console", Mode: modeChar | 0o600, RdevMajor: 5, RdevMinor: 1},
		{Name: "proc", Mode: modeDir | 0o755},
		{Name: "sys", Mode: modeDir | 0o755},
		{Name: "tmp", Mode: modeDir | 0o1777},
		{Name: "init", Mode: modeReg | 0o755, Data: guest},
	}
	if len(modules) > 0 {
		out = append(out, cpioEntry{Name: "lib", Mode: modeDir | 0o755},
			cpioEntry{Name: "lib/modules", Mode: modeDir | 0o755},
			cpioEntry{Name: ModuleDir, Mode: modeDir | 0o755})
		out = append(out, modules...)
	}
	return out
}

// ModuleDir holds the kernel modules of the initramfs, which the guest program loads in
// file-name order when it is init (bench/guest, -disk).
const ModuleDir = "lib/modules/bench"

// DiskModules are the modules, in load order, that give Debian's cloud kernel (where virtio
// is modular) the virtio-blk disk: paths under the kernel package's lib/modules/RELEASE/kernel.
var DiskModules = []string{
	"drivers/virtio/virtio_ring.ko",
	"drivers/virtio/virtio.ko",
	"drivers/virtio/virtio_pci_modern_dev.ko",
	"drivers/virtio/virtio_pci_legacy_dev.ko",
	"drivers/virtio/virtio_pci.ko",
	"drivers/block/virtio_blk.ko",
}

// FileSystemModules are the modules, in load order, that let Debian's cloud kernel mount the
// FAT32 image as vfat (the files benchmarks): the code page and I/O character set vfat uses
// by default (cp437, ascii), fat, vfat. tmpfs is built in.
var FileSystemModules = []string{
	"fs/nls/nls_cp437.ko",
	"fs/nls/nls_ascii.ko",
	"fs/fat/fat.ko",
	"fs/fat/vfat.ko",
}

// BuildInitramfs writes an initramfs to out holding guestBinary as /init (mode 0755), the
// directories /dev, /proc, /sys and /tmp, /dev/console and the kernel modules, in this order,
// as ModuleDir/NN-NAME.ko. It is a newc cpio archive, gzip-compressed when out ends in ".gz".
func BuildInitramfs(guestBinary, out string, modules ...string) error {
	guest, err := os.ReadFile(guestBinary)
	if err != nil {
		return fmt.Errorf("linux: initramfs: %w", err)
	}
	var mods []cpioEntry
	for i, m := range modules {
		b, err := os.ReadFile(m)
		if err != nil {
			return fmt.Errorf("linux: initramfs: %w", err)
		}
		mods = append(mods, cpioEntry{Name: fmt.Sprintf("%s/%02d-%s", ModuleDir, i+1, filepath.Base(m)), Mode: modeReg | 0o644, Data: b})
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp*")
	if err != nil {
		return fmt.Errorf("linux: initramfs: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	var w io.Writer = tmp
	var zw *gzip.Writer
	if strings.HasSuffix(out, ".gz") {
		zw = gzip.NewWriter(tmp)
		w = zw
	}
	err = writeCPIO(w, initramfsEntries(guest, mods))
	if zw != nil && err == nil {
		err = zw.Close()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		return fmt.Errorf("linux: initramfs %s: %w", out, err)
	}
	return nil
}

// writeCPIO writes the entries and the trailer in the "new ASCII" (newc) format the kernel
// unpacks: per entry a 110-byte header of "070701" and thirteen 8-digit hex fields, the name
// with its NUL, padding to 4 bytes, the data, padding to 4 bytes.
func writeCPIO(w io.Writer, entries []cpioEntry) error {
	for i, e := range entries {
		nlink := uint32(1)
		if e.Mode&0o170000 == modeDir {
			nlink = 2
		}
		if err := writeCPIOEntry(w, uint32(i+1), nlink, e); err != nil {
			return err
		}
	}
	return writeCPIOEntry(w, 0, 1, cpioEntry{Name: "TRAILER!!!"})
}

func writeCPIOEntry(w io.Writer, ino, nlink uint32, e cpioEntry) error {
	name := e.Name + "\x00"
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, e.Mode, 0, 0, nlink, 0, len(e.Data), 0, 0, e.RdevMajor, e.RdevMinor, len(name), 0)
	buf := make([]byte, 0, len(hdr)+len(name)+3+len(e.Data)+3)
	buf = append(buf, hdr...)
	buf = append(buf, name...)
	buf = pad4(buf)
	buf = append(buf, e.Data...)
	buf = pad4(buf)
	_, err := w.Write(buf)
	return err
}

// pad4 pads b with NULs to a multiple of 4 bytes. Every entry starts aligned, so aligning the
// running buffer aligns the archive.
func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
