// Package virtio drives a virtio 1.x block device through its modern PCI interface (virtio
// 1.x, 4.1: capabilities, feature negotiation, one split virtqueue, completion by interrupt)
// without knowing how it reaches the hardware: everything goes through a Platform. The ring-1
// task tier1/blk implements Platform with SimpleOS's device system calls; the same code can run
// in the core for a monolithic comparison. docs/blk.md describes the driver and its limits.
//
// The device is not trusted: every value it writes (capability offsets, queue sizes, used ring
// ids and lengths, status bytes, configuration) is checked before use, and a device that breaks
// the protocol or stops answering makes the driver refuse further requests (ErrBadDevice,
// ErrDeviceHang) rather than crash or reuse buffers the device may still own.
package virtio

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Feature bits (virtio 1.x, 5.2.3 and 6).
const (
	FeatureSizeMax        = 1
	FeatureSegMax         = 2
	FeatureReadOnly       = 5
	FeatureBlockSize      = 6
	FeatureFlush          = 9
	FeatureVersion1       = 32
	FeatureAccessPlatform = 33
)

// Device status bits.
const (
	statusAcknowledge = 1
	statusDriver      = 2
	statusDriverOK    = 4
	statusFeaturesOK  = 8
	statusFailed      = 0x80
)

// Common configuration (virtio_pci_common_cfg) offsets.
const (
	ccDeviceFeatureSelect = 0x00
	ccDeviceFeature       = 0x04
	ccDriverFeatureSelect = 0x08
	ccDriverFeature       = 0x0c
	ccMSIXConfig          = 0x10
	ccNumQueues           = 0x12
	ccDeviceStatus        = 0x14
	ccConfigGeneration    = 0x15
	ccQueueSelect         = 0x16
	ccQueueSize           = 0x18
	ccQueueMSIXVector     = 0x1a
	ccQueueEnable         = 0x1c
	ccQueueNotifyOff      = 0x1e
	ccQueueDesc           = 0x20
	ccQueueDriver         = 0x28
	ccQueueDevice         = 0x30
	ccSize                = 0x38
)

// Block device configuration (virtio_blk_config) offsets.
const (
	bcCapacity  = 0x00
	bcSizeMax   = 0x08
	bcSegMax    = 0x0c
	bcBlockSize = 0x14
	bcMinSize   = 0x18 // through blk_size
)

// Request types and status values (virtio 1.x, 5.2.6).
const (
	reqIn    = 0
	reqOut   = 1
	reqFlush = 4
	reqGetID = 8

	stOK     = 0
	stIOErr  = 1
	stUnsupp = 2
)

// SectorSize is the unit of every request's position: 512 bytes, whatever the device's
// logical block size.
const SectorSize = 512

// NoVector is the MSI-X vector value meaning "no interrupt".
const NoVector = 0xffff

// Errors.
var (
	ErrDeviceHang  = errors.New("virtio: device hang: a request did not complete in time")
	ErrBadDevice   = errors.New("virtio: device broke the protocol")
	ErrIO          = errors.New("virtio: device reported an I/O error")
	ErrUnsupported = errors.New("virtio: device does not support the request")
	ErrRange       = errors.New("virtio: request outside the disk")
	ErrInvalid     = errors.New("virtio: bad request (alignment or size)")
	ErrReadOnly    = errors.New("virtio: the disk is read-only")
	ErrClosed      = errors.New("virtio: driver closed")
)

// Config tunes the driver; zero fields take the defaults.
type Config struct {
	QueueSize   int                              // upper bound on the queue size (default 128)
	MaxTransfer int                              // bounce buffer, the most bytes per request (default 64 KiB)
	Timeout     time.Duration                    // a request not completed by then is a hang (default 2 s)
	Logf        func(format string, args ...any) // progress and fallbacks (default: silent)
	// Tamper, when set, sees every request after its descriptors are written and before the
	// device does, and may sabotage it (Request.RedirectData, Request.Withhold): fault
	// injection only.
	Tamper func(r *Request)
}

func (c *Config) defaults() {
	if c.QueueSize <= 0 {
		c.QueueSize = 128
	}
	if c.MaxTransfer <= 0 {
		c.MaxTransfer = 64 << 10
	}
	c.MaxTransfer = max(c.MaxTransfer&^(pageSize-1), pageSize)
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Info is what the driver learned from the device.
type Info struct {
	Sectors     uint64 // capacity in 512-byte sectors
	BlockSize   int    // logical block size: requests are aligned to it
	Flush       bool   // VIRTIO_BLK_F_FLUSH negotiated: Flush makes completed writes durable
	ReadOnly    bool
	MaxTransfer int // most bytes per request
	QueueSize   int
	Polling     bool   // the device refused an MSI-X vector: completion is polled
	Features    uint64 // negotiated
}

// Driver is one initialized virtio-blk device. Its methods are safe for concurrent use; one
// request is outstanding at a time.
type Driver struct {
	mu       sync.Mutex
	p        Platform
	cfg      Config
	common   window
	notify   window
	device   window
	isr      window
	hasISR   bool
	notifyAt int
	q        *queue
	bounce   []byte
	bounceVA uint64
	segSize  int
	sizeMax  int // the device's limits on one data descriptor and on their number (0: none)
	segMax   int
	info     Info
	broken   error // set once the device can no longer be trusted with a request
	closed   bool
}

// Open finds the device's virtio structures, resets and initializes it and returns the driver.
// On failure the device is left reset (or marked FAILED) and every DMA buffer freed.
func Open(p Platform, cfg Config) (*Driver, error) {
	cfg.defaults()
	d := &Driver{p: p, cfg: cfg}
	if err := d.init(); err != nil {
		if d.common.r == nil {
			return nil, err
		}
		// Stop the device before its memory goes; if it will not stop, leak the memory.
		if d.reset() == nil {
			d.freeDMA()
		}
		d.common.store8(ccDeviceStatus, statusFailed)
		return nil, err
	}
	return d, nil
}

func (d *Driver) init() error {
	l, err := readCaps(d.p)
	if err != nil {
		return err
	}
	if err := d.enableDevice(); err != nil {
		return err
	}
	if err := d.mapStructures(l); err != nil {
		return err
	}
	if err := d.reset(); err != nil {
		return err
	}
	d.setStatus(statusAcknowledge)
	d.setStatus(statusDriver)
	if err := d.negotiate(); err != nil {
		return err
	}
	if err := d.readConfig(); err != nil {
		return err
	}
	if err := d.setupQueue(l.notifyMultiplier); err != nil {
		return err
	}
	d.setStatus(statusDriverOK)
	if s := d.common.load8(ccDeviceStatus); s&statusDriverOK == 0 || s&0x40 != 0 {
		return fmt.Errorf("%w: status %#x after DRIVER_OK", ErrBadDevice, s)
	}
	i := d.info
	d.cfg.Logf("virtio-blk: %d sectors (%d MiB), block %d, flush %v, queue %d, %d KiB per request, %s",
		i.Sectors, i.Sectors>>11, i.BlockSize, i.Flush, i.QueueSize, i.MaxTransfer>>10,
		map[bool]string{true: "polling (no MSI-X vector)", false: "MSI-X vector 0"}[i.Polling])
	return nil
}

// enableDevice turns on memory decoding and bus mastering (the core mediates the write; what
// counts is that both bits read back set).
func (d *Driver) enableDevice() error {
	cmd, err := d.p.ConfigRead(pciCommand, 2)
	if err != nil {
		return fmt.Errorf("virtio: PCI command: %w", err)
	}
	const want = pciCmdMemory | pciCmdMaster
	if cmd&want == want {
		return nil
	}
	werr := d.p.ConfigWrite(pciCommand, 2, cmd|want)
	if cmd, err = d.p.ConfigRead(pciCommand, 2); err != nil {
		return fmt.Errorf("virtio: PCI command: %w", err)
	}
	if cmd&want != want {
		return fmt.Errorf("virtio: cannot enable memory space and bus mastering (command %#x, write: %v)", cmd, werr)
	}
	return nil
}

func (d *Driver) mapStructures(l layout) error {
	bars := map[int]Region{}
	mapped := func(c capability) (Region, error) {
		if r, ok := bars[c.bar]; ok {
			return r, nil
		}
		r, err := d.p.MapBAR(c.bar)
		if err != nil {
			return nil, fmt.Errorf("virtio: map BAR %d: %w", c.bar, err)
		}
		bars[c.bar] = r
		return r, nil
	}
	for _, s := range []struct {
		c   capability
		w   *window
		min int
		n   string
		use bool
	}{
		{l.common, &d.common, ccSize, "common", true},
		{l.notify, &d.notify, 2, "notify", true},
		{l.device, &d.device, bcCapacity + 8, "device", true},
		{l.isr, &d.isr, 1, "ISR", l.found[capISR]},
	} {
		if !s.use {
			continue
		}
		r, err := mapped(s.c)
		if err != nil {
			return err
		}
		if *s.w, err = newWindow(r, s.c, s.min, s.n); err != nil {
			return err
		}
	}
	d.hasISR = l.found[capISR]
	return nil
}

func (d *Driver) setStatus(bit uint8) {
	d.common.store8(ccDeviceStatus, d.common.load8(ccDeviceStatus)|bit)
}

// reset writes 0 to the status and waits for the device to read back 0 (virtio 1.x, 4.1.4.3.2).
func (d *Driver) reset() error {
	d.common.store8(ccDeviceStatus, 0)
	deadline := time.Now().Add(d.cfg.Timeout)
	for d.common.load8(ccDeviceStatus) != 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: reset not complete after %v", ErrDeviceHang, d.cfg.Timeout)
		}
		time.Sleep(100 * time.Microsecond)
	}
	return nil
}

func (d *Driver) negotiate() error {
	var offered uint64
	for sel := range 2 {
		d.common.store32(ccDeviceFeatureSelect, uint32(sel))
		offered |= uint64(d.common.load32(ccDeviceFeature)) << (32 * sel)
	}
	if offered&(1<<FeatureVersion1) == 0 {
		return fmt.Errorf("%w: no VIRTIO_F_VERSION_1 (features %#x): not a modern device", ErrBadDevice, offered)
	}
	if offered&(1<<FeatureAccessPlatform) == 0 {
		d.cfg.Logf("virtio-blk: the device does not offer VIRTIO_F_ACCESS_PLATFORM: its DMA bypasses translation")
	}
	const usable = 1<<FeatureVersion1 | 1<<FeatureAccessPlatform | 1<<FeatureFlush | 1<<FeatureBlockSize |
		1<<FeatureSegMax | 1<<FeatureSizeMax | 1<<FeatureReadOnly
	want := offered & usable
	for sel := range 2 {
		d.common.store32(ccDriverFeatureSelect, uint32(sel))
		d.common.store32(ccDriverFeature, uint32(want>>(32*sel)))
	}
	d.setStatus(statusFeaturesOK)
	if d.common.load8(ccDeviceStatus)&statusFeaturesOK == 0 {
		return fmt.Errorf("%w: the device refused features %#x", ErrBadDevice, want)
	}
	d.info.Features = want
	d.info.Flush = want&(1<<FeatureFlush) != 0
	d.info.ReadOnly = want&(1<<FeatureReadOnly) != 0
	return nil
}

func (d *Driver) has(f int) bool { return d.info.Features&(1<<f) != 0 }

// readConfig reads the block configuration, again if config_generation changed meanwhile.
func (d *Driver) readConfig() error {
	var sectors uint64
	var blk, sizeMax, segMax uint32
	for try := 0; ; try++ {
		if try == 10 {
			return fmt.Errorf("%w: configuration generation keeps changing", ErrBadDevice)
		}
		gen := d.common.load8(ccConfigGeneration)
		sectors = uint64(d.device.load32(bcCapacity)) | uint64(d.device.load32(bcCapacity+4))<<32
		blk, sizeMax, segMax = SectorSize, 0, 0
		if d.has(FeatureSizeMax) && d.device.len >= bcSizeMax+4 {
			sizeMax = d.device.load32(bcSizeMax)
		}
		if d.has(FeatureSegMax) && d.device.len >= bcSegMax+4 {
			segMax = d.device.load32(bcSegMax)
		}
		if d.has(FeatureBlockSize) && d.device.len >= bcMinSize {
			blk = d.device.load32(bcBlockSize)
		}
		if d.common.load8(ccConfigGeneration) == gen {
			break
		}
	}
	if blk < SectorSize || blk > 64<<10 || blk&(blk-1) != 0 {
		return fmt.Errorf("%w: block size %d", ErrBadDevice, blk)
	}
	if sectors > 1<<52 { // 2 EiB: more than any image; also keeps sector arithmetic far from overflow
		return fmt.Errorf("%w: capacity %d sectors", ErrBadDevice, sectors)
	}
	d.info.Sectors, d.info.BlockSize = sectors, int(blk)
	d.cfg.MaxTransfer = max(d.cfg.MaxTransfer&^(int(blk)-1), int(blk))
	d.sizeMax, d.segMax = int(sizeMax), int(segMax)
	return nil
}

// sizeLimits chooses how the bounce buffer is cut into descriptors (one per page; fewer and
// larger if the queue or seg_max allow fewer) and the most a request carries (less if
// size_max caps the segments too).
func (d *Driver) sizeLimits(queueSize int) error {
	limit := queueSize - 2 // header and status take two descriptors
	if d.segMax > 0 {
		limit = min(limit, d.segMax)
	}
	seg := pageSize
	for (d.cfg.MaxTransfer+seg-1)/seg > limit {
		seg *= 2
	}
	if d.sizeMax > 0 && seg > d.sizeMax {
		seg = max(d.sizeMax&^(SectorSize-1), SectorSize)
		d.cfg.MaxTransfer = min(d.cfg.MaxTransfer, limit*seg) &^ (d.info.BlockSize - 1)
	}
	if limit < 1 || d.cfg.MaxTransfer < d.info.BlockSize {
		return fmt.Errorf("%w: %d descriptors of at most %d bytes cannot carry one %d-byte block",
			ErrBadDevice, limit, seg, d.info.BlockSize)
	}
	d.segSize = seg
	return nil
}

func (d *Driver) setupQueue(multiplier uint32) error {
	if n := d.common.load16(ccNumQueues); n == 0 {
		return fmt.Errorf("%w: no queues", ErrBadDevice)
	}
	d.common.store16(ccMSIXConfig, NoVector) // no configuration-change interrupt
	d.common.store16(ccQueueSelect, 0)
	maxSize := int(d.common.load16(ccQueueSize))
	size := 1
	for size*2 <= min(maxSize, d.cfg.QueueSize, 32768) {
		size *= 2
	}
	if size < 4 {
		return fmt.Errorf("%w: queue size %d", ErrBadDevice, maxSize)
	}
	if d.common.load16(ccQueueEnable) != 0 {
		return fmt.Errorf("%w: queue 0 enabled before setup", ErrBadDevice)
	}
	if err := d.sizeLimits(size); err != nil {
		return err
	}
	d.common.store16(ccQueueSize, uint16(size))

	notifyOff := uint64(d.common.load16(ccQueueNotifyOff)) * uint64(multiplier)
	if notifyOff%2 != 0 || notifyOff+2 > uint64(d.notify.len) {
		return fmt.Errorf("%w: queue notify offset %#x outside the %#x-byte notify structure", ErrBadDevice, notifyOff, d.notify.len)
	}
	d.notifyAt = int(notifyOff)

	_, _, _, total := queueBytes(size)
	mem, iova, err := d.p.DMAAlloc(total)
	if err != nil {
		return fmt.Errorf("virtio: DMA for the queue: %w", err)
	}
	if err := checkDMA(mem, iova, total); err != nil {
		d.p.DMAFree(mem)
		return err
	}
	d.q = newQueue(size, mem, iova)
	if d.bounce, d.bounceVA, err = d.p.DMAAlloc(d.cfg.MaxTransfer); err != nil {
		return fmt.Errorf("virtio: DMA for the bounce buffer: %w", err)
	}
	if err := checkDMA(d.bounce, d.bounceVA, d.cfg.MaxTransfer); err != nil {
		return err
	}
	d.common.store64(ccQueueDesc, iova)
	d.common.store64(ccQueueDriver, iova+uint64(d.q.avail))
	d.common.store64(ccQueueDevice, iova+uint64(d.q.used))
	d.common.store16(ccQueueMSIXVector, 0)
	if d.common.load16(ccQueueMSIXVector) == NoVector {
		d.info.Polling = true
		d.cfg.Logf("virtio-blk: the device refused MSI-X vector 0 for the queue: polling for completions")
	}
	d.common.store16(ccQueueEnable, 1)
	d.info.QueueSize, d.info.MaxTransfer = size, d.cfg.MaxTransfer
	return nil
}

func checkDMA(buf []byte, iova uint64, n int) error {
	if len(buf) < n || iova == 0 || iova%pageSize != 0 || iova+uint64(n) < iova {
		return fmt.Errorf("virtio: DMA allocation of %d bytes: got %d bytes at I/O address %#x", n, len(buf), iova)
	}
	return nil
}

// Info returns what the driver learned from the device.
func (d *Driver) Info() Info { return d.info }

// check validates a request's position and length against the disk.
func (d *Driver) check(sector uint64, n int) error {
	bs := uint64(d.info.BlockSize)
	switch {
	case n <= 0 || n > d.info.MaxTransfer || uint64(n)%bs != 0:
		return fmt.Errorf("%w: %d bytes (want a multiple of %d up to %d)", ErrInvalid, n, bs, d.info.MaxTransfer)
	case (sector*SectorSize)%bs != 0:
		return fmt.Errorf("%w: sector %d not aligned to the %d-byte block", ErrInvalid, sector, bs)
	case sector > d.info.Sectors || uint64(n)/SectorSize > d.info.Sectors-sector:
		return fmt.Errorf("%w: sectors %d+%d of %d", ErrRange, sector, n/SectorSize, d.info.Sectors)
	}
	return nil
}

// ReadAt reads len(p) bytes (a multiple of the block size, at most Info().MaxTransfer) from
// the disk starting at sector.
func (d *Driver) ReadAt(p []byte, sector uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	if err := d.check(sector, len(p)); err != nil {
		return err
	}
	if err := d.do(reqIn, sector, len(p)); err != nil {
		return err
	}
	copy(p, d.bounce[:len(p)])
	return nil
}

// WriteAt writes p (a multiple of the block size, at most Info().MaxTransfer) to the disk at
// sector. The write is complete in the device when WriteAt returns; Flush makes it durable.
func (d *Driver) WriteAt(p []byte, sector uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	if d.info.ReadOnly {
		return ErrReadOnly
	}
	if err := d.check(sector, len(p)); err != nil {
		return err
	}
	copy(d.bounce, p)
	return d.do(reqOut, sector, len(p))
}

// Flush makes every completed write durable. Without VIRTIO_BLK_F_FLUSH the device writes
// through (virtio 1.x, 5.2.5: writeback is only enabled with the flush feature), so there is
// nothing to do.
func (d *Driver) Flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	if !d.info.Flush {
		return nil
	}
	return d.do(reqFlush, 0, 0)
}

// ID returns the device's identification string (VIRTIO_BLK_T_GET_ID; at most 20 bytes).
func (d *Driver) ID() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return "", err
	}
	if err := d.do(reqGetID, 0, idSize); err != nil {
		return "", err
	}
	id := d.bounce[:idSize]
	if i := bytes.IndexByte(id, 0); i >= 0 {
		id = id[:i]
	}
	return string(id), nil
}

func (d *Driver) usable() error {
	switch {
	case d.closed:
		return ErrClosed
	case d.broken != nil:
		return d.broken
	}
	return nil
}

// do runs one request: header, n bytes of the bounce buffer (device-writable for reads and
// GET_ID), status; then waits for it and checks what the device returned.
func (d *Driver) do(typ uint32, sector uint64, n int) error {
	q := d.q
	hdr := q.mem[q.hdr : q.hdr+hdrSize]
	putLE32(hdr[0:], typ)
	putLE32(hdr[4:], 0)
	putLE64(hdr[8:], sector)
	q.mem[q.status] = 0xff // a status the device never writes: it must overwrite it
	toDevice := typ == reqOut
	var dataFlags uint16 = descNext
	if !toDevice {
		dataFlags |= descWrite
	}
	q.setDesc(0, q.iova+uint64(q.hdr), hdrSize, descNext, 1)
	next, writable := 1, 1 // descriptors used; bytes the device may write (the status)
	for off := 0; off < n; off += d.segSize {
		seg := min(d.segSize, n-off)
		va := d.bounceVA + uint64(off)
		if typ == reqGetID {
			va = q.iova + uint64(q.id)
		}
		q.setDesc(next, va, uint32(seg), dataFlags, next+1)
		next++
		if !toDevice {
			writable += seg
		}
	}
	q.setDesc(next, q.iova+uint64(q.status), 1, descWrite, 0)
	var tr *Request
	if d.cfg.Tamper != nil {
		tr = &Request{Type: typ, Sector: sector, Bytes: n, q: q, first: 1, n: next - 1}
		d.cfg.Tamper(tr)
	}
	if tr == nil || !tr.withheld {
		q.publish(0)
		d.notify.store16(d.notifyAt, 0)
	}
	err := d.complete(typ, writable)
	if tr != nil && tr.Done != nil {
		tr.Done(err)
	}
	return err
}

// complete waits for the outstanding request and checks what the device returned.
func (d *Driver) complete(typ uint32, writable int) error {
	q := d.q
	used, err := d.wait()
	if err != nil {
		d.broken = err
		return err
	}
	id, length := q.usedElem(used)
	switch {
	case id != 0:
		d.broken = fmt.Errorf("%w: used ring returned descriptor %d, want the request's head 0", ErrBadDevice, id)
	case int64(length) > int64(writable):
		d.broken = fmt.Errorf("%w: used length %d, the request had %d writable bytes", ErrBadDevice, length, writable)
	}
	if d.broken != nil {
		return d.broken
	}
	switch s := q.mem[q.status]; s {
	case stOK:
	case stIOErr:
		return ErrIO
	case stUnsupp:
		return ErrUnsupported
	default:
		d.broken = fmt.Errorf("%w: request status %#x", ErrBadDevice, s)
		return d.broken
	}
	if typ == reqIn && int(length) != writable {
		d.broken = fmt.Errorf("%w: read completed with %d of %d bytes written", ErrBadDevice, length, writable)
		return d.broken
	}
	if typ == reqGetID {
		copy(d.bounce, q.mem[q.id:q.id+idSize])
	}
	return nil
}

// wait waits for the device to return the outstanding request and returns its used slot.
// Past the deadline the device is hung: it may still own the buffers, so the driver is broken.
func (d *Driver) wait() (uint16, error) {
	q := d.q
	deadline := time.Now().Add(d.cfg.Timeout)
	for {
		if idx := q.usedIdx(); idx != q.lastUsed {
			if moved := idx - q.lastUsed; moved != 1 {
				return 0, fmt.Errorf("%w: used index moved by %d with one request outstanding", ErrBadDevice, moved)
			}
			slot := q.lastUsed
			q.lastUsed = idx
			if d.hasISR && d.info.Polling {
				d.isr.load8(0) // reading the ISR status acknowledges a level-triggered interrupt
			}
			return slot, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return 0, fmt.Errorf("%w (%v)", ErrDeviceHang, d.cfg.Timeout)
		}
		if d.info.Polling {
			left = min(left, 200*time.Microsecond)
		}
		if _, err := d.p.WaitInterrupt(left); err != nil {
			return 0, fmt.Errorf("virtio: waiting for the interrupt: %w", err)
		}
	}
}

// Close resets the device, so that it stops using the driver's memory, and frees it.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	err := d.reset()
	if err != nil {
		return err // the device may still own the buffers: leak them rather than free them
	}
	return d.freeDMA()
}

func (d *Driver) freeDMA() error {
	var err error
	if d.q != nil {
		err = d.p.DMAFree(d.q.mem)
		d.q = nil
	}
	if d.bounce != nil {
		err = errors.Join(err, d.p.DMAFree(d.bounce))
		d.bounce = nil
	}
	return err
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
func putLE64(b []byte, v uint64) { putLE32(b, uint32(v)); putLE32(b[4:], uint32(v>>32)) }
