package engine

import (
	"fmt"
	"syscall"

	"github.com/simpleos/simpleos/ipc"
)

// SendUpdate delivers a channel file to the sensor's content-update endpoint, lending it in a
// page grant. It returns the reply's status (Applied, Rejected, ...) and the sequence number
// in force afterwards.
func SendUpdate(c *ipc.Client, name string, data []byte) (status, seq uint64, err error) {
	words, err := EncodeName(name)
	if err != nil {
		return 0, 0, fmt.Errorf("update %q: %w", name, err)
	}
	pages := (len(data) + 4095) / 4096
	if pages == 0 || pages > ipc.MaxGrantPages {
		return 0, 0, fmt.Errorf("update %s: %d bytes: want 1 to %d pages", name, len(data), ipc.MaxGrantPages)
	}
	buf, err := syscall.Mmap(-1, 0, pages*4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return 0, 0, err
	}
	defer syscall.Munmap(buf)
	copy(buf, data)
	m := ipc.Msg{Words: [4]uint64{uint64(len(data)), words[0], words[1], words[2]}}
	m.GrantAddr, m.GrantPages = addrOf(buf), uint64(pages)
	r, err := c.Call(m)
	if err != nil {
		return 0, 0, err
	}
	return r.Label, r.Words[0], nil
}
