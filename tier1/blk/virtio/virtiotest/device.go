// Package virtiotest is a model of a virtio-blk-pci device (modern interface, as QEMU's
// virtio-blk-pci with disable-legacy=on,iommu_platform=on presents it) backed by a byte slice,
// implementing virtio.Platform for host tests: PCI configuration space with the virtio
// capabilities, BAR 4 with the common, ISR, device and notify structures, DMA memory that the
// device reaches only through the I/O addresses it was allocated at (as behind an IOMMU), and
// a goroutine that serves the queue on every notification and raises the interrupt.
//
// Knobs make it misbehave: hang, return bad used ids or lengths, jump the used index, write a
// bad status, refuse the MSI-X vector. The model is written from the specification, not from
// the driver, so it checks the driver as much as the driver is checked against it.
package virtiotest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/tier1/blk/virtio"
)

// Feature bits the model offers.
const (
	FeatureSegMax         = 1 << 2
	FeatureReadOnly       = 1 << 5
	FeatureBlockSize      = 1 << 6
	FeatureFlush          = 1 << 9
	FeatureVersion1       = 1 << 32
	FeatureAccessPlatform = 1 << 33
)

// Layout of BAR 4.
const (
	barIndex     = 4
	barSize      = 0x4000
	commonOff    = 0x0000
	commonLen    = 0x38
	isrOff       = 0x1000
	deviceOff    = 0x2000
	deviceLen    = 0x40
	notifyOff    = 0x3000
	notifyLen    = 0x1000
	notifyMult   = 4
	queueNotify0 = 0 // queue_notify_off of queue 0
)

// Options configure the model.
type Options struct {
	Features  uint64 // offered; default VERSION_1 | ACCESS_PLATFORM | FLUSH | SEG_MAX
	QueueMax  int    // the queue's maximum size; default 256 (QEMU's)
	BlockSize uint32 // blk_size when FeatureBlockSize is offered
	SegMax    uint32 // default QueueMax - 2, as QEMU
	ID        string // GET_ID answer
}

// Device is the model. Exported fields are knobs and observations; set knobs before the
// request they should affect.
type Device struct {
	mu   sync.Mutex
	opt  Options
	cfg  [256]byte
	disk []byte

	// Knobs.
	Hang          atomic.Bool   // take requests but never complete them
	BadID         atomic.Uint32 // non-zero: return this id instead of the chain's head
	BadLen        atomic.Uint32 // non-zero: return this used length
	UsedJump      atomic.Uint32 // non-zero: advance used.idx by this much per completion
	BadStatus     atomic.Int32  // >= 0 when set via SetBadStatus: write this status byte
	RefuseVector  bool          // read back NO_VECTOR for queue_msix_vector
	FailSectors   [2]uint64     // [lo, hi): requests touching these sectors get IOERR
	ConfigChanges int           // bump config_generation while the driver reads (this many times)

	// Observations.
	Flushes      atomic.Int64
	Requests     atomic.Int64
	Interrupts   atomic.Int64
	MaxChain     atomic.Int64 // the longest descriptor chain seen
	DriverFeat   uint64
	Status       uint8
	QueueSize    uint16
	QueueVector  uint16
	ConfigVector uint16
	Faults       []string // DMA outside any allocation, malformed chains: what an IOMMU would block

	// Registers.
	devFeatSel, drvFeatSel uint32
	queueSel               uint16
	queueMax               uint16
	queueEnable            uint16
	descAddr, drvAddr      uint64
	devAddr                uint64
	generation             uint8
	lastAvail, usedIdx     uint16

	dma      map[uint64][]byte
	nextIOVA uint64
	irq      chan struct{}
	kick     chan struct{}
	done     chan struct{}
}

// New returns a device backed by disk (its length a multiple of 512) and starts its queue
// goroutine; Stop ends it.
func New(disk []byte, opt Options) *Device {
	if opt.Features == 0 {
		opt.Features = FeatureVersion1 | FeatureAccessPlatform | FeatureFlush | FeatureSegMax
	}
	if opt.QueueMax == 0 {
		opt.QueueMax = 256
	}
	if opt.SegMax == 0 {
		opt.SegMax = uint32(opt.QueueMax - 2)
	}
	if opt.ID == "" {
		opt.ID = "virtiotest-disk"
	}
	d := &Device{opt: opt, disk: disk, dma: map[uint64][]byte{}, nextIOVA: 0x10000,
		irq: make(chan struct{}, 1), kick: make(chan struct{}, 1), done: make(chan struct{})}
	d.BadStatus.Store(-1)
	d.queueMax = uint16(opt.QueueMax)
	d.QueueVector, d.ConfigVector = virtio.NoVector, virtio.NoVector
	d.buildConfig()
	go d.serve()
	return d
}

// Stop ends the queue goroutine.
func (d *Device) Stop() { close(d.done) }

// Disk returns the backing bytes (read them only while no request runs).
func (d *Device) Disk() []byte { return d.disk }

// Config returns the PCI configuration space, for tests that corrupt it.
func (d *Device) Config() *[256]byte { return &d.cfg }

// FaultList returns the DMA faults and malformed chains seen so far.
func (d *Device) FaultList() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.Faults...)
}

// DMAAllocated returns how many DMA allocations are live.
func (d *Device) DMAAllocated() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.dma)
}

func (d *Device) buildConfig() {
	c := d.cfg[:]
	le16, le32 := binary.LittleEndian.PutUint16, binary.LittleEndian.PutUint32
	le16(c[0:], 0x1af4)
	le16(c[2:], 0x1042)
	le16(c[6:], 1<<4) // capability list
	c[0x08] = 1       // revision
	c[0x0b] = 0x01    // mass storage
	c[0x34] = 0x40
	vcap := func(at, next int, typ byte, off, n uint32, extra int) {
		c[at], c[at+1], c[at+2], c[at+3] = 0x09, byte(next), byte(16+extra), typ
		c[at+4] = barIndex
		le32(c[at+8:], off)
		le32(c[at+12:], n)
	}
	vcap(0x40, 0x50, 1, commonOff, commonLen, 0)
	vcap(0x50, 0x64, 2, notifyOff, notifyLen, 4)
	le32(c[0x60:], notifyMult)
	vcap(0x64, 0x74, 3, isrOff, 1, 0)
	vcap(0x74, 0x84, 4, deviceOff, deviceLen, 0)
	c[0x84], c[0x85] = 0x11, 0 // MSI-X, end of list
}

// ConfigRead implements virtio.Platform.
func (d *Device) ConfigRead(off, width int) (uint32, error) {
	if width != 1 && width != 2 && width != 4 || off < 0 || off+width > len(d.cfg) || off%width != 0 {
		return 0, fmt.Errorf("virtiotest: config read %d bytes at %#x", width, off)
	}
	var v uint32
	for i := width - 1; i >= 0; i-- {
		v = v<<8 | uint32(d.cfg[off+i])
	}
	return v, nil
}

// ConfigWrite implements virtio.Platform: only the command register is writable.
func (d *Device) ConfigWrite(off, width int, v uint32) error {
	if off != 4 || width != 2 {
		return fmt.Errorf("virtiotest: config write %d bytes at %#x refused", width, off)
	}
	binary.LittleEndian.PutUint16(d.cfg[4:], uint16(v&0x0006))
	return nil
}

// MapBAR implements virtio.Platform.
func (d *Device) MapBAR(bar int) (virtio.Region, error) {
	if bar != barIndex {
		return nil, fmt.Errorf("virtiotest: BAR %d is not a memory BAR", bar)
	}
	return bar4{d}, nil
}

// DMAAlloc implements virtio.Platform: page-rounded, zeroed, at a fresh I/O address.
func (d *Device) DMAAlloc(n int) ([]byte, uint64, error) {
	if n <= 0 || n > 1<<20 {
		return nil, 0, fmt.Errorf("virtiotest: dma_alloc %d bytes", n)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	size := (n + 4095) &^ 4095
	buf := make([]byte, size)
	iova := d.nextIOVA
	d.nextIOVA += uint64(size) + 4096 // a guard page between allocations
	d.dma[iova] = buf
	return buf[:n:n], iova, nil
}

// DMAFree implements virtio.Platform.
func (d *Device) DMAFree(buf []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for iova, b := range d.dma {
		if len(buf) > 0 && &b[0] == &buf[0] {
			delete(d.dma, iova)
			return nil
		}
	}
	return errors.New("virtiotest: dma_free of memory not allocated")
}

// WaitInterrupt implements virtio.Platform.
func (d *Device) WaitInterrupt(timeout time.Duration) (bool, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-d.irq:
		return true, nil
	case <-t.C:
		return false, nil
	}
}

// SetBadStatus makes the device write s as every request's status.
func (d *Device) SetBadStatus(s uint8) { d.BadStatus.Store(int32(s)) }

// bar4 is the device's BAR 4 as a Region.
type bar4 struct{ d *Device }

func (b bar4) Len() int { return barSize }

func (b bar4) check(off, w int) {
	if off < 0 || off+w > barSize || off%w != 0 {
		panic(fmt.Sprintf("virtiotest: %d-byte access at %#x outside BAR 4", w, off))
	}
}

func (b bar4) Load8(off int) uint8   { b.check(off, 1); return uint8(b.d.load(off, 1)) }
func (b bar4) Load16(off int) uint16 { b.check(off, 2); return uint16(b.d.load(off, 2)) }
func (b bar4) Load32(off int) uint32 { b.check(off, 4); return uint32(b.d.load(off, 4)) }
func (b bar4) Load64(off int) uint64 {
	b.check(off, 8)
	return b.d.load(off, 4) | b.d.load(off+4, 4)<<32
}
func (b bar4) Store8(off int, v uint8)   { b.check(off, 1); b.d.store(off, 1, uint64(v)) }
func (b bar4) Store16(off int, v uint16) { b.check(off, 2); b.d.store(off, 2, uint64(v)) }
func (b bar4) Store32(off int, v uint32) { b.check(off, 4); b.d.store(off, 4, uint64(v)) }
func (b bar4) Store64(off int, v uint64) {
	b.check(off, 8)
	b.d.store(off, 4, v&0xffffffff)
	b.d.store(off+4, 4, v>>32)
}

func (d *Device) load(off, w int) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case off >= commonOff && off < commonOff+commonLen:
		return d.loadCommon(off-commonOff, w)
	case off == isrOff:
		return 1
	case off >= deviceOff && off < deviceOff+deviceLen:
		return d.loadDevice(off-deviceOff, w)
	}
	return 0
}

func (d *Device) store(off, w int, v uint64) {
	switch {
	case off >= commonOff && off < commonOff+commonLen:
		d.mu.Lock()
		d.storeCommon(off-commonOff, w, v)
		d.mu.Unlock()
	case off == notifyOff+queueNotify0*notifyMult && w == 2:
		if v == 0 {
			select {
			case d.kick <- struct{}{}:
			default:
			}
		}
	}
}

func (d *Device) loadCommon(off, w int) uint64 {
	switch off {
	case 0x00:
		return uint64(d.devFeatSel)
	case 0x04:
		if d.devFeatSel > 1 {
			return 0
		}
		return d.opt.Features >> (32 * d.devFeatSel) & 0xffffffff
	case 0x08:
		return uint64(d.drvFeatSel)
	case 0x0c:
		if d.drvFeatSel > 1 {
			return 0
		}
		return d.DriverFeat >> (32 * d.drvFeatSel) & 0xffffffff
	case 0x10:
		return uint64(d.ConfigVector)
	case 0x12:
		return 1
	case 0x14:
		return uint64(d.Status)
	case 0x15:
		return uint64(d.generation)
	case 0x16:
		return uint64(d.queueSel)
	}
	if d.queueSel != 0 { // one queue: the others read as absent
		return 0
	}
	switch off {
	case 0x18:
		if d.QueueSize == 0 {
			return uint64(d.queueMax)
		}
		return uint64(d.QueueSize)
	case 0x1a:
		return uint64(d.QueueVector)
	case 0x1c:
		return uint64(d.queueEnable)
	case 0x1e:
		return queueNotify0
	case 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34:
		a := map[int]uint64{0x20: d.descAddr, 0x28: d.drvAddr, 0x30: d.devAddr}[off&^7]
		return a >> (8 * (off & 4)) & 0xffffffff
	}
	return 0
}

func (d *Device) storeCommon(off, w int, v uint64) {
	switch off {
	case 0x00:
		d.devFeatSel = uint32(v)
	case 0x08:
		d.drvFeatSel = uint32(v)
	case 0x0c:
		if d.drvFeatSel <= 1 && d.Status&8 == 0 {
			sh := 32 * d.drvFeatSel
			d.DriverFeat = d.DriverFeat&^(0xffffffff<<sh) | v<<sh
		}
	case 0x10:
		d.ConfigVector = uint16(v)
	case 0x14:
		d.setStatus(uint8(v))
	case 0x16:
		d.queueSel = uint16(v)
	}
	if d.queueSel != 0 || d.queueEnable != 0 && off != 0x1a {
		return // queue registers are read-only once the queue is enabled
	}
	switch off {
	case 0x18:
		if v == 0 || v > uint64(d.queueMax) || v&(v-1) != 0 {
			return
		}
		d.QueueSize = uint16(v)
	case 0x1a:
		d.QueueVector = uint16(v)
		if d.RefuseVector {
			d.QueueVector = virtio.NoVector
		}
	case 0x1c:
		d.queueEnable = uint16(v & 1)
	case 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34:
		p := map[int]*uint64{0x20: &d.descAddr, 0x28: &d.drvAddr, 0x30: &d.devAddr}[off&^7]
		sh := 8 * uint(off&4)
		*p = *p&^(0xffffffff<<sh) | v<<sh
	}
}

func (d *Device) setStatus(s uint8) {
	if s == 0 {
		d.Status, d.DriverFeat, d.QueueSize, d.queueEnable = 0, 0, 0, 0
		d.descAddr, d.drvAddr, d.devAddr = 0, 0, 0
		d.lastAvail, d.usedIdx = 0, 0
		d.QueueVector, d.ConfigVector = virtio.NoVector, virtio.NoVector
		return
	}
	if s&8 != 0 && d.Status&8 == 0 {
		// FEATURES_OK: refuse a set without VERSION_1, or with bits not offered, or without
		// ACCESS_PLATFORM when offered (the device needs it, as with iommu_platform=on).
		f := d.DriverFeat
		if f&FeatureVersion1 == 0 || f&^d.opt.Features != 0 ||
			d.opt.Features&FeatureAccessPlatform != 0 && f&FeatureAccessPlatform == 0 {
			s &^= 8
		}
	}
	d.Status = s
}

func (d *Device) loadDevice(off, w int) uint64 {
	if d.ConfigChanges > 0 {
		d.ConfigChanges--
		d.generation++
	}
	var c [deviceLen]byte
	binary.LittleEndian.PutUint64(c[0:], uint64(len(d.disk)/512))
	binary.LittleEndian.PutUint32(c[0x0c:], d.opt.SegMax)
	binary.LittleEndian.PutUint32(c[0x14:], d.opt.BlockSize)
	var v uint64
	for i := w - 1; i >= 0; i-- {
		v = v<<8 | uint64(c[off+i])
	}
	return v
}

// serve runs the queue: on every notification, every new chain in the available ring.
func (d *Device) serve() {
	for {
		select {
		case <-d.done:
			return
		case <-d.kick:
			if completed, vector := d.process(); completed {
				d.Interrupts.Add(1)
				if vector != virtio.NoVector {
					select {
					case d.irq <- struct{}{}:
					default:
					}
				}
			}
		}
	}
}

// mem returns the DMA memory at iova for n bytes, or nil (a fault) if it is not all inside one
// allocation: the IOMMU's check.
func (d *Device) mem(iova uint64, n int) []byte {
	for base, b := range d.dma {
		if iova >= base && iova-base <= uint64(len(b)) && uint64(n) <= uint64(len(b))-(iova-base) {
			return b[iova-base : iova-base+uint64(n)]
		}
	}
	d.Faults = append(d.Faults, fmt.Sprintf("DMA to %#x+%d outside every allocation", iova, n))
	return nil
}

func word(b []byte) *uint32 { return (*uint32)(unsafe.Pointer(&b[0])) }

// process serves the new chains and returns whether it completed any, and the queue's vector.
func (d *Device) process() (completed bool, vector uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	vector = d.QueueVector
	if d.Status&4 == 0 || d.queueEnable == 0 {
		return false, vector
	}
	qs := int(d.QueueSize)
	desc, avail, used := d.mem(d.descAddr, 16*qs), d.mem(d.drvAddr, 6+2*qs), d.mem(d.devAddr, 6+8*qs)
	if desc == nil || avail == nil || used == nil {
		return false, vector
	}
	for idx := uint16(atomic.LoadUint32(word(avail)) >> 16); d.lastAvail != idx; d.lastAvail++ {
		head := binary.LittleEndian.Uint16(avail[4+2*(int(d.lastAvail)%qs):])
		d.Requests.Add(1)
		if d.Hang.Load() {
			continue
		}
		n := d.request(desc, int(head), qs)
		id := uint32(head)
		if v := d.BadID.Load(); v != 0 {
			id = v
		}
		if v := d.BadLen.Load(); v != 0 {
			n = v
		}
		elem := used[4+8*(int(d.usedIdx)%qs):]
		atomic.StoreUint32(word(elem), id)
		atomic.StoreUint32(word(elem[4:]), n)
		d.usedIdx += 1 + uint16(d.UsedJump.Load())
		atomic.StoreUint32(word(used), uint32(d.usedIdx)<<16)
		completed = true
	}
	return completed, vector
}

type buffer struct {
	b        []byte
	writable bool
}

// request serves the chain at head and returns the bytes written into writable buffers.
func (d *Device) request(desc []byte, head, qs int) uint32 {
	var chain []buffer
	for i, n := head, 0; ; n++ {
		if i >= qs || n == qs {
			d.Faults = append(d.Faults, fmt.Sprintf("bad chain at %d", head))
			return 0
		}
		e := desc[16*i:]
		addr, length := binary.LittleEndian.Uint64(e), binary.LittleEndian.Uint32(e[8:])
		flags, next := binary.LittleEndian.Uint16(e[12:]), binary.LittleEndian.Uint16(e[14:])
		b := d.mem(addr, int(length))
		if b == nil {
			return 0
		}
		chain = append(chain, buffer{b, flags&2 != 0})
		if flags&1 == 0 {
			break
		}
		i = int(next)
	}
	if int64(len(chain)) > d.MaxChain.Load() {
		d.MaxChain.Store(int64(len(chain)))
	}
	if len(chain) < 2 || len(chain[0].b) != 16 || chain[0].writable {
		d.Faults = append(d.Faults, "malformed request header")
		return 0
	}
	st := chain[len(chain)-1]
	if len(st.b) != 1 || !st.writable {
		d.Faults = append(d.Faults, "malformed status descriptor")
		return 0
	}
	typ := binary.LittleEndian.Uint32(chain[0].b)
	sector := binary.LittleEndian.Uint64(chain[0].b[8:])
	data := chain[1 : len(chain)-1]
	status, written := d.execute(typ, sector, data)
	if s := d.BadStatus.Load(); s >= 0 {
		status = byte(s)
	}
	st.b[0] = status
	return written + 1
}

func (d *Device) execute(typ uint32, sector uint64, data []buffer) (status byte, written uint32) {
	total := 0
	for _, b := range data {
		total += len(b.b)
	}
	rw := typ == 0 || typ == 1
	if rw && (total%512 != 0 || sector > uint64(len(d.disk)/512) || uint64(total/512) > uint64(len(d.disk)/512)-sector) {
		return 1, 0
	}
	if rw && d.FailSectors[1] > d.FailSectors[0] && sector < d.FailSectors[1] && sector+uint64(total/512) > d.FailSectors[0] {
		return 1, 0
	}
	pos := int(sector * 512)
	switch typ {
	case 0: // IN
		for _, b := range data {
			if !b.writable {
				return 1, 0
			}
			pos += copy(b.b, d.disk[pos:])
			written += uint32(len(b.b))
		}
	case 1: // OUT
		if d.opt.Features&FeatureReadOnly != 0 {
			return 1, 0
		}
		for _, b := range data {
			if b.writable {
				return 1, 0
			}
			pos += copy(d.disk[pos:pos+len(b.b)], b.b)
		}
	case 4: // FLUSH
		if d.DriverFeat&FeatureFlush == 0 {
			return 2, 0
		}
		d.Flushes.Add(1)
	case 8: // GET_ID
		if len(data) != 1 || !data[0].writable || len(data[0].b) < 20 {
			return 1, 0
		}
		clear(data[0].b[:20])
		copy(data[0].b[:20], d.opt.ID)
		written = 20
	default:
		return 2, 0
	}
	return 0, written
}
