package blk

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/ipc"
)

// Caller sends one message and returns the reply: an *ipc.Client, or a fake in tests.
type Caller interface {
	Call(ipc.Msg) (ipc.Msg, error)
}

// Client reads and writes the disk through the block driver. It splits requests into calls
// of at most MaxGrantBytes and, when the driver dies (ipc.ErrPeerDied) or is not registered
// yet (ipc.ErrNotFound), resubmits the unanswered call with a bounded backoff for up to
// RetryFor (counted as the sum of the waits between attempts). A call answered with success is acknowledged: the driver completed it on the
// device. Its methods are safe for concurrent use.
type Client struct {
	// RetryFor bounds how long one call is resubmitted while the driver restarts (default 5 s).
	RetryFor time.Duration
	// Sleep waits between resubmissions (default time.Sleep); tests replace it.
	Sleep func(time.Duration)

	c       Caller
	mu      sync.Mutex
	info    *Info
	stage   []byte // page-aligned bounce for buffers that are not whole aligned pages
	retries atomic.Int64
}

// Retries returns how many calls were resubmitted.
func (c *Client) Retries() int64 { return c.retries.Load() }

// NewClient returns a client of the driver serving name (Endpoint), whose calls time out
// after timeout (0: never; keep it well above the driver's own device timeout).
func NewClient(name string, timeout time.Duration) *Client {
	return NewClientWith(ipc.NewClient(name, timeout))
}

// NewClientWith returns a client that calls through c.
func NewClientWith(c Caller) *Client {
	return &Client{c: c, RetryFor: 5 * time.Second, Sleep: time.Sleep}
}

// call sends m, resubmitting it while the driver is dead or restarting, and turns an error
// label into a syscall.Errno.
func (c *Client) call(m ipc.Msg) (ipc.Msg, error) {
	var waited time.Duration
	backoff := 10 * time.Millisecond
	for {
		r, err := c.c.Call(m)
		if err == nil {
			if r.Label != 0 {
				return r, syscall.Errno(r.Label)
			}
			return r, nil
		}
		if !errors.Is(err, ipc.ErrPeerDied) && !errors.Is(err, ipc.ErrNotFound) {
			return r, err
		}
		if waited+backoff > c.RetryFor {
			return r, fmt.Errorf("blk: driver unavailable for %v: %w", waited, err)
		}
		c.retries.Add(1)
		c.Sleep(backoff)
		waited += backoff
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// Info asks the driver for the disk's size and properties (once; the answer is kept).
func (c *Client) Info() (Info, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.infoLocked()
}

func (c *Client) infoLocked() (Info, error) {
	if c.info != nil {
		return *c.info, nil
	}
	r, err := c.call(ipc.Msg{Label: LabelCapacity})
	if err != nil {
		return Info{}, err
	}
	bs := r.Words[1]
	if bs < SectorSize || bs > MaxGrantBytes || bs&(bs-1) != 0 {
		return Info{}, fmt.Errorf("blk: driver reports block size %d", bs)
	}
	c.info = &Info{Sectors: r.Words[0], BlockSize: int(bs), Flags: r.Words[2], MaxTransfer: int(min(r.Words[3], 1<<30))}
	return *c.info, nil
}

// ReadAt reads len(p) bytes (a multiple of the block size) starting at sector.
func (c *Client) ReadAt(p []byte, sector uint64) error { return c.transfer(LabelRead, p, sector) }

// WriteAt writes p (a multiple of the block size) starting at sector. The data is on the
// device when WriteAt returns; Flush makes it durable.
func (c *Client) WriteAt(p []byte, sector uint64) error { return c.transfer(LabelWrite, p, sector) }

// Flush makes every acknowledged write durable.
func (c *Client) Flush() error {
	_, err := c.call(ipc.Msg{Label: LabelFlush})
	return err
}

// ID returns the device's identification string.
func (c *Client) ID() (string, error) {
	r, err := c.call(ipc.Msg{Label: LabelID})
	if err != nil {
		return "", err
	}
	var b []byte
	for i := 0; i < 20; i++ {
		ch := byte(r.Words[i/8] >> (8 * (i % 8)))
		if ch == 0 {
			break
		}
		b = append(b, ch)
	}
	return string(b), nil
}

func (c *Client) transfer(label uint64, p []byte, sector uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	info, err := c.infoLocked()
	if err != nil {
		return err
	}
	bs := uint64(info.BlockSize)
	if uint64(len(p))%bs != 0 || sector*SectorSize%bs != 0 {
		return fmt.Errorf("blk: %d bytes at sector %d: not whole %d-byte blocks: %w", len(p), sector, bs, syscall.EINVAL)
	}
	for off := 0; off < len(p); {
		n := min(len(p)-off, MaxGrantBytes)
		chunk := p[off : off+n]
		lend := chunk
		if !wholePages(chunk) {
			lend = c.staging()[:n]
			if label == LabelWrite {
				copy(lend, chunk)
			}
		}
		m := ipc.Msg{Label: label, Words: [4]uint64{sector + uint64(off/SectorSize), uint64(n)}}
		m.GrantAddr = uint64(uintptr(unsafe.Pointer(&lend[0])))
		m.GrantPages = uint64((n + PageSize - 1) / PageSize)
		if label == LabelRead {
			m.GrantPages |= abi.GrantWrite
		}
		r, err := c.call(m)
		if err != nil {
			return fmt.Errorf("blk: %s %d bytes at sector %d: %w", map[uint64]string{LabelRead: "read", LabelWrite: "write"}[label], n, m.Words[0], err)
		}
		if r.Words[0] != uint64(n) {
			return fmt.Errorf("blk: driver moved %d of %d bytes: %w", r.Words[0], n, syscall.EIO)
		}
		if label == LabelRead && &lend[0] != &chunk[0] {
			copy(chunk, lend)
		}
		off += n
	}
	return nil
}

// wholePages reports whether b can be lent as it is: page-aligned whole pages, so that the
// grant holds nothing but b.
func wholePages(b []byte) bool {
	return len(b)%PageSize == 0 && uintptr(unsafe.Pointer(&b[0]))%PageSize == 0
}

// staging returns the page-aligned bounce buffer, MaxGrantBytes long.
func (c *Client) staging() []byte {
	if c.stage == nil {
		c.stage = AlignedBuffer(MaxGrantBytes)
	}
	return c.stage
}

// AlignedBuffer returns n bytes starting on a page boundary: a buffer the client lends
// without copying.
func AlignedBuffer(n int) []byte {
	b := make([]byte, n+PageSize)
	skip := (PageSize - int(uintptr(unsafe.Pointer(&b[0]))%PageSize)) % PageSize
	return b[skip : skip+n : skip+n]
}
