package demo

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// diskWriteLine is how the core records a change to a content file on its protocol channel
// (core/content.go): a whole line.
var diskWriteLine = regexp.MustCompile(`^disk: write (\S+) (\d+) base64 ([A-Za-z0-9+/=]*)$`)

// DiskWrite is one change the core made to a content file.
type DiskWrite struct {
	Name string
	Data []byte
}

// DiskWrites extracts the content-file writes from the core's protocol channel (a boot's
// Result.Protocol), in order. Lines on the serial console are never read: any task can print
// anything there. A line whose length does not match its data (cut short by a crash) is an
// error naming the line.
func DiskWrites(protocol []byte) ([]DiskWrite, error) {
	var out []DiskWrite
	sc := bufio.NewScanner(bytes.NewReader(protocol))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for n := 1; sc.Scan(); n++ {
		m := diskWriteLine.FindSubmatch(sc.Bytes())
		if m == nil {
			continue
		}
		size, _ := strconv.Atoi(string(m[2]))
		data, err := base64.StdEncoding.DecodeString(string(m[3]))
		if err != nil || len(data) != size {
			return out, fmt.Errorf("transcript line %d: disk write of %s is damaged (%d bytes announced)", n, m[1], size)
		}
		out = append(out, DiskWrite{Name: string(m[1]), Data: data})
	}
	return out, sc.Err()
}

// ApplyDiskWrites applies the content-file writes of a boot's protocol channel to the files in
// dir, so that the next boot from dir starts where this one stopped. Only names in allowed
// are written.
func ApplyDiskWrites(dir string, protocol []byte, allowed map[string]bool) ([]DiskWrite, error) {
	ws, err := DiskWrites(protocol)
	for _, w := range ws {
		if !allowed[w.Name] || filepath.Base(w.Name) != w.Name {
			return ws, fmt.Errorf("disk write to %q: not a content file of the manifest", w.Name)
		}
		if err := os.WriteFile(filepath.Join(dir, w.Name), w.Data, 0o644); err != nil {
			return ws, err
		}
	}
	return ws, err
}
