package main

// The content store's files on the disk, read and written through the file-system server with
// the core's own file system calls (the core's VFS forwards them like any task's):
//
//	DIR/C-00000291-00000000-00000032.sys   the current channel file, named as the vendor
//	                                       names it (DIR: the policy's content ... dir DIR;
//	                                       without one, /simpleos/content/NAME)
//	/simpleos/content/ROLLBACK             its last-known-good copy
//	/simpleos/quarantine                   the fingerprints the core refuses, one per line
//
// Every change is written to a new file, fsynced and renamed over the old one, so a crash
// leaves the old bytes or the new ones. The content files passed at boot as Multiboot modules
// are the vendor's installation media: they are copied to a disk that has no content yet (a
// fresh image), and otherwise ignored — the disk is the truth, which is how a bad channel
// file written by one boot is read by the next (the boot loop of 19 July 2024) and how an
// operator's deletion of it in safe mode is what the next boot finds.

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/simpleos/simpleos/policy"
	"github.com/simpleos/simpleos/tier2/sensor/content"
)

const (
	contentStateDir = "/simpleos/content"
	quarantineFile  = "/simpleos/quarantine"
)

// onDisk is true once the content was loaded from the file system: changes are then written
// back to it.
var onDisk bool

// places maps a content file's name to its policy entry (where it lives on the disk).
var places = map[string]policy.ContentFile{}

// channelName is the name channel file b has in its directory: C-<channel>-00000000-<sequence>.sys,
// as the vendor names them; bytes that are not a channel file keep the content's name.
func channelName(c policy.ContentFile, b []byte) string {
	if cf, err := content.Parse("", b); err == nil {
		return fmt.Sprintf("C-%08d-00000000-%08d.sys", cf.Channel, cf.Sequence)
	}
	return c.Path
}

// contentDir is where c's current file lives.
func contentDir(c policy.ContentFile) string {
	if c.Dir != "" {
		return c.Dir
	}
	return contentStateDir
}

// lkgPath is where c's last-known-good copy lives.
func lkgPath(c policy.ContentFile) string {
	name := c.Rollback
	if name == "" {
		name = c.Path + ".lkg"
	}
	return path.Join(contentStateDir, name)
}

// isCurrentName reports whether a file in c's directory is one of c's current files.
func isCurrentName(c policy.ContentFile, name string) bool {
	if c.Dir == "" {
		return name == c.Path
	}
	return name == c.Path || strings.HasPrefix(name, "C-") && strings.HasSuffix(strings.ToLower(name), ".sys")
}

// readContent reads c from the disk: the current bytes (nil when the directory holds none —
// an operator deleted the channel file), the last-known-good bytes (nil when none), and
// whether the disk holds anything of c at all.
func readContent(c policy.ContentFile) (cur []byte, curPath string, lkg []byte, found bool, err error) {
	lkg, err = os.ReadFile(lkgPath(c))
	switch {
	case err == nil:
		found = true
	case errors.Is(err, fs.ErrNotExist):
		err = nil
	default:
		return nil, "", nil, false, err
	}
	ents, err := os.ReadDir(contentDir(c))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil, false, err
	}
	best := -1
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".new") {
			// A write the machine did not live to finish (writeDurably renames only a whole
			// file): the old file is still there.
			p := path.Join(contentDir(c), e.Name())
			if err := os.Remove(p); err != nil {
				fmt.Printf("core: content %s: removing %s, a write cut short: %v\n", c.Path, p, err)
			} else {
				fmt.Printf("core: content %s: removed %s, a write cut short\n", c.Path, p)
			}
			continue
		}
		if e.IsDir() || !isCurrentName(c, e.Name()) {
			continue
		}
		p := path.Join(contentDir(c), e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, "", nil, false, err
		}
		seq := -1
		if cf, err := content.Parse("", b); err == nil {
			seq = int(cf.Sequence)
		}
		found = true
		if cur == nil || seq > best {
			cur, curPath, best = b, p, seq
		}
	}
	return cur, curPath, lkg, found, nil
}

// writeDurably replaces file p with b: a new file, fsynced, renamed over p, and the file
// system synced (the rename durable too).
func writeDurably(p string, b []byte) error {
	if err := os.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	// A copy on the core's heap: the VFS lends the buffer's pages to the file server, and only
	// anonymous memory can be lent (b may be a Multiboot module's bytes, mapped with the image).
	_, err = f.Write(bytes.Clone(b))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syscall.Sync()
	return nil
}

// saveCurrent makes b c's current file on the disk: written under its channel-file name, and
// every other current file of c removed. It returns the file's path.
func saveCurrent(c policy.ContentFile, b []byte) (string, error) {
	dir := contentDir(c)
	p := path.Join(dir, channelName(c, b))
	if err := writeDurably(p, b); err != nil {
		return p, err
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if q := path.Join(dir, e.Name()); !e.IsDir() && isCurrentName(c, e.Name()) && !strings.EqualFold(q, p) {
			if err := os.Remove(q); err != nil {
				return p, err
			}
		}
	}
	syscall.Sync()
	return p, nil
}

// saveLKG writes c's last-known-good copy.
func saveLKG(c policy.ContentFile, b []byte) error { return writeDurably(lkgPath(c), b) }

// readQuarantine loads the quarantine list from the disk.
func readQuarantine() error {
	b, err := os.ReadFile(quarantineFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		raw, err := hex.DecodeString(f[0])
		if err != nil || len(raw) != 32 {
			return fmt.Errorf("%s:%d: want a SHA-256 fingerprint in hex, got %q", quarantineFile, line, f[0])
		}
		var fp [32]byte
		copy(fp[:], raw)
		quarantineContent(fp)
		n++
	}
	if n > 0 {
		fmt.Printf("core: content: %d quarantined fingerprints in force (%s)\n", n, quarantineFile)
	}
	return nil
}

// saveQuarantine writes the quarantine list to the disk.
func saveQuarantine() error {
	quarantine.mu.Lock()
	var sb strings.Builder
	sb.WriteString("# content the core refuses: SHA-256 of its canonical form, then what it was\n")
	for fp, what := range quarantine.set {
		fmt.Fprintf(&sb, "%s %s\n", hex.EncodeToString(fp[:]), what)
	}
	quarantine.mu.Unlock()
	return writeDurably(quarantineFile, []byte(sb.String()))
}
