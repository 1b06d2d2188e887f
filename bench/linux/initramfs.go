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
func initramfsEntries(guest []byte) []cpioEntry {
	return []cpioEntry{
		{Name: "dev", Mode: modeDir | 0o755},
		{Name: "dev/console", Mode: modeChar | 0o600, RdevMajor: 5, RdevMinor: 1},
		{Name: "proc", Mode: modeDir | 0o755},
		{Name: "sys", Mode: modeDir | 0o755},
		{Name: "tmp", Mode: modeDir | 0o1777},
		{Name: "init", Mode: modeReg | 0o755, Data: guest},
	}
}

// BuildInitramfs writes an initramfs to out holding guestBinary as /init (mode 0755), the
// directories /dev, /proc, /sys and /tmp, and /dev/console. It is a newc cpio archive,
// gzip-compressed when out ends in ".gz".
func BuildInitramfs(guestBinary, out string) error {
	guest, err := os.ReadFile(guestBinary)
	if err != nil {
		return fmt.Errorf("linux: initramfs: %w", err)
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
	err = writeCPIO(w, initramfsEntries(guest))
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
