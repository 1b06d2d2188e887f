package blk

import (
	"bytes"
	"errors"
	"math/rand"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/ipc"
)

// memDevice is a disk in memory behind the Device interface.
type memDevice struct {
	disk     []byte
	info     Info
	flushes  int
	failWith error // returned by the next request, then cleared
}

func newMemDevice(sectors uint64) *memDevice {
	return &memDevice{disk: make([]byte, sectors*SectorSize),
		info: Info{Sectors: sectors, BlockSize: SectorSize, Flags: FlagFlush, MaxTransfer: 16 << 10}}
}

func (d *memDevice) Info() Info { return d.info }

func (d *memDevice) fail() error {
	err := d.failWith
	d.failWith = nil
	return err
}

func (d *memDevice) ReadAt(p []byte, sector uint64) error {
	if err := d.fail(); err != nil {
		return err
	}
	if len(p) > d.info.MaxTransfer {
		panic("server passed more than MaxTransfer")
	}
	copy(p, d.disk[sector*SectorSize:])
	return nil
}

func (d *memDevice) WriteAt(p []byte, sector uint64) error {
	if err := d.fail(); err != nil {
		return err
	}
	if len(p) > d.info.MaxTransfer {
		panic("server passed more than MaxTransfer")
	}
	copy(d.disk[sector*SectorSize:], p)
	return nil
}

func (d *memDevice) Flush() error { d.flushes++; return d.fail() }

func (d *memDevice) ID() (string, error) { return "mem-disk-12345678901234", d.fail() }

// core stands in for the kernel between client and server: it checks the grant as the core
// does and hands the server the lent pages, writable only with abi.GrantWrite (a read-only
// grant is given as a copy, and the test fails if the server changed it).
type core struct {
	t      *testing.T
	srv    *Server
	calls  int
	grants []uint64 // pages lent per call
	// die makes call number i (from 1) fail with the error after (or, if before, instead of)
	// the server handling it.
	die    map[int]error
	before bool
}

func (c *core) Call(m ipc.Msg) (ipc.Msg, error) {
	c.calls++
	if err, ok := c.die[c.calls]; ok && c.before {
		return ipc.Msg{}, err
	}
	pages := m.GrantPages &^ abi.GrantWrite
	var grant []byte
	if pages > 0 {
		require.LessOrEqual(c.t, pages, uint64(abi.MaxGrantPages), "the core refuses bigger grants")
		require.Zero(c.t, m.GrantAddr%PageSize, "grants are page-aligned")
		c.grants = append(c.grants, pages)
		grant = unsafe.Slice((*byte)(pointer(uintptr(m.GrantAddr))), pages*PageSize)
		if m.GrantPages&abi.GrantWrite == 0 {
			ro := bytes.Clone(grant)
			defer func() { assert.Equal(c.t, grant, ro, "the server wrote into a read-only grant") }()
			grant = ro
		}
	}
	r := c.srv.HandleGrant(m, grant)
	if err, ok := c.die[c.calls]; ok {
		return ipc.Msg{}, err
	}
	return r, nil
}

func newPair(t *testing.T, dev *memDevice) (*Client, *core) {
	co := &core{t: t, srv: &Server{Dev: dev, Fatal: func(err error) { t.Errorf("fatal: %v", err) }}}
	c := NewClientWith(co)
	c.Sleep = func(time.Duration) {}
	return c, co
}

func pattern(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func TestInfo(t *testing.T) {
	c, _ := newPair(t, newMemDevice(2048))
	info, err := c.Info()
	require.NoError(t, err)
	assert.Equal(t, Info{Sectors: 2048, BlockSize: 512, Flags: FlagFlush, MaxTransfer: 16 << 10}, info)
	id, err := c.ID()
	require.NoError(t, err)
	assert.Equal(t, "mem-disk-12345678901", id, "20 bytes at most")
}

func TestTransfersAreSplitIntoGrants(t *testing.T) {
	for _, aligned := range []bool{true, false} {
		dev := newMemDevice(8192)
		c, co := newPair(t, dev)
		sector := uint64(10)
		for i, pages := range []int{1, 7, 16, 17, 33} {
			n := pages * PageSize
			data := pattern(n, int64(i))
			buf := data
			if aligned {
				buf = AlignedBuffer(n)
				copy(buf, data)
			} else {
				buf = make([]byte, n+1)[1:]
				copy(buf, data)
			}
			co.grants = nil
			require.NoError(t, c.WriteAt(buf, sector))
			assert.Equal(t, data, dev.disk[sector*SectorSize:sector*SectorSize+uint64(n)])
			want := []uint64{}
			for left := pages; left > 0; left -= abi.MaxGrantPages {
				want = append(want, uint64(min(left, abi.MaxGrantPages)))
			}
			assert.Equal(t, want, co.grants, "%d pages", pages)
			clear(buf)
			require.NoError(t, c.ReadAt(buf, sector))
			assert.Equal(t, data, buf[:n])
			sector += uint64(n/SectorSize) + 3
		}
	}
}

func TestOddSizesThroughTheStagingBuffer(t *testing.T) {
	dev := newMemDevice(4096)
	c, co := newPair(t, dev)
	data := pattern(3*SectorSize, 9)
	require.NoError(t, c.WriteAt(data, 5))
	assert.Equal(t, []uint64{1}, co.grants)
	got := make([]byte, len(data))
	require.NoError(t, c.ReadAt(got, 5))
	assert.Equal(t, data, got)
	assert.ErrorIs(t, c.ReadAt(make([]byte, 100), 0), syscall.EINVAL, "checked before any call")
	require.NoError(t, c.Flush())
	assert.Equal(t, 1, dev.flushes)
}

func TestServerRefusesBadRequests(t *testing.T) {
	dev := newMemDevice(1024)
	srv := &Server{Dev: dev, Fatal: func(err error) { t.Errorf("fatal: %v", err) }}
	grant := make([]byte, 4*PageSize)
	w := uint64(abi.GrantWrite)
	for name, tc := range map[string]struct {
		m     ipc.Msg
		grant []byte
		want  syscall.Errno
	}{
		"zero count":             {ipc.Msg{Label: LabelRead, Words: [4]uint64{0, 0}, GrantPages: 1 | w}, grant, syscall.EINVAL},
		"partial sector":         {ipc.Msg{Label: LabelRead, Words: [4]uint64{0, 100}, GrantPages: 1 | w}, grant, syscall.EINVAL},
		"count over the grant":   {ipc.Msg{Label: LabelWrite, Words: [4]uint64{0, 2 * PageSize}, GrantPages: 1}, grant, syscall.EINVAL},
		"no grant":               {ipc.Msg{Label: LabelWrite, Words: [4]uint64{0, 512}}, nil, syscall.EINVAL},
		"grant too big":          {ipc.Msg{Label: LabelWrite, Words: [4]uint64{0, 512}, GrantPages: 17}, grant, syscall.EINVAL},
		"grant claims more":      {ipc.Msg{Label: LabelWrite, Words: [4]uint64{0, 8 * PageSize}, GrantPages: 8}, grant, syscall.EINVAL},
		"past the end":           {ipc.Msg{Label: LabelRead, Words: [4]uint64{1023, 1024}, GrantPages: 1 | w}, grant, syscall.EINVAL},
		"sector overflow":        {ipc.Msg{Label: LabelRead, Words: [4]uint64{^uint64(0), 512}, GrantPages: 1 | w}, grant, syscall.EINVAL},
		"huge sector":            {ipc.Msg{Label: LabelRead, Words: [4]uint64{1 << 60, 512}, GrantPages: 1 | w}, grant, syscall.EINVAL},
		"read into a ro grant":   {ipc.Msg{Label: LabelRead, Words: [4]uint64{0, 512}, GrantPages: 1}, grant, syscall.EACCES},
		"unknown label":          {ipc.Msg{Label: 99}, nil, syscall.ENOSYS},
		"device I/O error":       {ipc.Msg{Label: LabelFlush}, nil, syscall.EIO},
		"last sector is allowed": {ipc.Msg{Label: LabelRead, Words: [4]uint64{1023, 512}, GrantPages: 1 | w}, grant, 0},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "device I/O error" {
				dev.failWith = syscall.EIO
			}
			r := srv.HandleGrant(tc.m, tc.grant)
			assert.Equal(t, uint64(tc.want), r.Label)
		})
	}
	dev.info.Flags |= FlagReadOnly
	r := srv.HandleGrant(ipc.Msg{Label: LabelWrite, Words: [4]uint64{0, 512}, GrantPages: 1}, grant)
	assert.Equal(t, uint64(syscall.EROFS), r.Label)
}

func TestServerBlockSizeAlignment(t *testing.T) {
	dev := newMemDevice(1024)
	dev.info.BlockSize = 4096
	srv := &Server{Dev: dev}
	grant := make([]byte, PageSize)
	r := srv.HandleGrant(ipc.Msg{Label: LabelWrite, Words: [4]uint64{1, 4096}, GrantPages: 1}, grant)
	assert.Equal(t, uint64(syscall.EINVAL), r.Label)
	r = srv.HandleGrant(ipc.Msg{Label: LabelWrite, Words: [4]uint64{8, 4096}, GrantPages: 1}, grant)
	assert.Equal(t, uint64(0), r.Label)
}

func TestDeviceFailureGoesToFatal(t *testing.T) {
	dev := newMemDevice(1024)
	var fatal error
	srv := &Server{Dev: dev, Fatal: func(err error) { fatal = err }}
	hang := errors.New("device hang")
	dev.failWith = hang
	r := srv.HandleGrant(ipc.Msg{Label: LabelRead, Words: [4]uint64{0, 512}, GrantPages: 1 | abi.GrantWrite}, make([]byte, PageSize))
	assert.Equal(t, hang, fatal)
	assert.Equal(t, uint64(syscall.EIO), r.Label)
}

func TestResubmitsAfterTheDriverDied(t *testing.T) {
	for _, before := range []bool{true, false} {
		dev := newMemDevice(4096)
		c, co := newPair(t, dev)
		co.before = before
		// Call 1 is Capacity; the write of 33 pages is calls 2-4: the driver dies during
		// call 3, is gone for two lookups, then answers again.
		co.die = map[int]error{3: ipc.ErrPeerDied, 4: ipc.ErrNotFound, 5: ipc.ErrNotFound}
		data := pattern(33*PageSize, 3)
		require.NoError(t, c.WriteAt(data, 0))
		assert.Equal(t, data, dev.disk[:len(data)])
		assert.Equal(t, int64(3), c.Retries())
		assert.Equal(t, 7, co.calls)
	}
}

func TestGivesUpAfterTheRetryBudget(t *testing.T) {
	dev := newMemDevice(4096)
	c, co := newPair(t, dev)
	co.before = true
	co.die = map[int]error{}
	for i := 1; i < 1000; i++ {
		co.die[i] = ipc.ErrPeerDied
	}
	var slept time.Duration
	c.Sleep = func(d time.Duration) { slept += d }
	err := c.Flush()
	assert.ErrorIs(t, err, ipc.ErrPeerDied)
	assert.LessOrEqual(t, slept, 5*time.Second)
	assert.Greater(t, slept, 4*time.Second)
	assert.Less(t, co.calls, 25, "backoff, not a storm")

	co.die = map[int]error{co.calls + 1: ipc.ErrTimeout}
	assert.ErrorIs(t, c.Flush(), ipc.ErrTimeout, "a timeout is not resubmitted")
}
