package main

// The block driver's deployments (blk= on the kernel command line): the same driver code,
// package tier1/blk/virtio behind blk.Server, runs as the ring-1 task "blk" (tiered, the
// default: its device's DMA confined by the IOMMU to the memory the core gave it) or inside
// the core itself (monolithic), as a monolithic kernel's driver runs: ring 0, the core's own
// PCI access and mapping of the BAR, DMA memory that is plain core frames at I/O address =
// physical address, no IOMMU domain (boot with iommu=off), completion by polling. The core
// serves the same endpoint "blk", so the same clients run in both deployments.
//
// When the monolithic driver finds the device hung or broken it does what a monolithic
// kernel's driver can do: reset the device and initialise it again, in place (the call is
// answered EIO). A bug in it is a bug of the core.

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/pci"
	"github.com/simpleos/simpleos/core/x86"
	"github.com/simpleos/simpleos/ipc"
	"github.com/simpleos/simpleos/ipc/blk"
	"github.com/simpleos/simpleos/tier1/blk/blkfault"
	"github.com/simpleos/simpleos/tier1/blk/virtio"
)

// blkModule is the block driver's module name in the policy.
const blkModule = "blk"

func blkMode(args map[string]string) (string, error) {
	switch m := args["blk"]; m {
	case "", "tiered":
		return "tiered", nil
	case "monolithic":
		return m, nil
	default:
		return "", fmt.Errorf("blk=%q: want tiered or monolithic", m)
	}
}

// corePlatform is virtio.Platform for the driver in the core.
type corePlatform struct {
	dev    pci.Device
	cfg    uintptr            // its configuration space through ECAM
	frames map[uintptr]uint64 // direct-map address of each allocation → its page count
	mapped map[int]bool
	// lastFreed is the first frame of the last allocation freed (filled with freedByte), for
	// telling whether a stale DMA landed in it.
	lastFreed uint64
}

const freedByte = 0x5a

func newCorePlatform() (*corePlatform, error) {
	if hw.ecam == nil {
		return nil, errors.New("no PCI configuration space was found at boot")
	}
	for _, d := range hw.devices {
		if d.Vendor == 0x1af4 && d.DeviceID == 0x1042 {
			return &corePlatform{dev: d, cfg: uintptr(hw.ecam.Base) + uintptr(d.Bus-hw.ecam.StartBus)<<20 +
				uintptr(d.Device)<<15 + uintptr(d.Function)<<12, frames: map[uintptr]uint64{}, mapped: map[int]bool{}}, nil
		}
	}
	return nil, errors.New("no virtio-blk (1af4:1042) on the PCI bus")
}

func (p *corePlatform) ConfigRead(off, width int) (uint32, error) {
	if off < 0 || off+width > 4096 || off%width != 0 {
		return 0, fmt.Errorf("config read %d@%#x", width, off)
	}
	v := arch.Load32(p.cfg+uintptr(off&^3)) >> (8 * (off & 3))
	if width < 4 {
		v &= 1<<(8*width) - 1
	}
	return v, nil
}

func (p *corePlatform) ConfigWrite(off, width int, v uint32) error {
	if off < 0 || off+width > 4096 || off%width != 0 {
		return fmt.Errorf("config write %d@%#x", width, off)
	}
	a := p.cfg + uintptr(off&^3)
	shift := 8 * (off & 3)
	mask := uint32(1<<(8*width)-1) << shift
	if width == 4 {
		mask = ^uint32(0)
	}
	arch.Store32(a, arch.Load32(a)&^mask|v<<shift&mask)
	return nil
}

func (p *corePlatform) MapBAR(bar int) (virtio.Region, error) {
	if bar < 0 || bar >= len(p.dev.BARs) {
		return nil, fmt.Errorf("no BAR %d", bar)
	}
	b := p.dev.BARs[bar]
	if b.Size == 0 || b.IO || b.Size > 1<<30 {
		return nil, fmt.Errorf("BAR %d is not a memory BAR", bar)
	}
	if !p.mapped[bar] {
		if err := kernel.MapDeviceRegisters(b.Addr, b.Size); err != nil {
			return nil, err
		}
		p.mapped[bar] = true
	}
	return virtio.NewMMIO(uintptr(b.Addr), int(b.Size)), nil
}

// DMAAlloc returns physically contiguous core frames; the I/O address is the physical one.
func (p *corePlatform) DMAAlloc(n int) ([]byte, uint64, error) {
	pages := (n + mm.PageSize - 1) / mm.PageSize
	if n <= 0 || pages > 64 {
		return nil, 0, fmt.Errorf("DMA allocation of %d bytes", n)
	}
	x86.Cli()
	var run, spare []uint64
	for len(run) < pages && len(spare) < 256 {
		f, ok := mm.AllocFrame()
		if !ok {
			break
		}
		if len(run) > 0 && f != run[len(run)-1]+mm.PageSize {
			spare = append(spare, run...)
			run = run[:0]
		}
		run = append(run, f)
	}
	for _, f := range spare {
		mm.FreeFrame(f)
	}
	if len(run) < pages {
		for _, f := range run {
			mm.FreeFrame(f)
		}
		x86.Sti()
		return nil, 0, fmt.Errorf("no %d contiguous frames", pages)
	}
	x86.Sti()
	k := mm.DirectMap(run[0])
	p.frames[k] = uint64(pages)
	return unsafe.Slice((*byte)(pointerTo(k)), pages*mm.PageSize)[:n:n], run[0], nil
}

func (p *corePlatform) DMAFree(buf []byte) error {
	if len(buf) == 0 {
		return errors.New("DMA free of nothing")
	}
	k := uintptr(unsafe.Pointer(&buf[0]))
	pages, ok := p.frames[k]
	if !ok {
		return fmt.Errorf("DMA free of %#x: not an allocation", k)
	}
	delete(p.frames, k)
	first := uint64(k - mm.DirectMap(0))
	full := unsafe.Slice((*byte)(pointerTo(k)), int(pages)*mm.PageSize)
	for i := range full {
		full[i] = freedByte
	}
	p.lastFreed = first
	x86.Cli()
	for i := uint64(0); i < pages; i++ {
		mm.FreeFrame(first + i*mm.PageSize)
	}
	x86.Sti()
	return nil
}

// WaitInterrupt polls: the core does not route the device's interrupt.
func (p *corePlatform) WaitInterrupt(timeout time.Duration) (bool, error) {
	time.Sleep(min(timeout, 200*time.Microsecond))
	return false, nil
}

// pointerTo turns a direct-map address into a pointer (it is not Go memory).
func pointerTo(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// coreBlk is the monolithic driver and what the campaign runner arms in it.
type coreBlk struct {
	p     *corePlatform
	cfg   virtio.Config
	srv   *blk.Server
	mu    sync.Mutex
	sab   *blkfault.Sabotage
	d     *virtio.Driver
	opens int
}

var inCoreBlk struct {
	sync.Mutex
	b *coreBlk
}

// runBlkInCore is the monolithic deployment of the block driver.
func runBlkInCore() {
	fmt.Println("core: blk driver linked into the core (monolithic): it runs in ring 0, its device's DMA unconfined")
	if hw.iommu {
		fmt.Println("core: blk: the IOMMU is on and the core gives its device no domain: boot with iommu=off")
	}
	p, err := newCorePlatform()
	if err != nil {
		fmt.Println("core: blk:", err)
		return
	}
	b := &coreBlk{p: p}
	b.cfg = virtio.Config{
		Logf:   func(f string, a ...any) { fmt.Printf("core: blk: "+f+"\n", a...) },
		Tamper: func(r *virtio.Request) { b.armed().Tamper(r) },
	}
	if err := b.open(); err != nil {
		fmt.Println("core: blk:", err)
		return
	}
	ep, err := ipc.Register(blk.Endpoint)
	if err != nil {
		fmt.Printf("core: blk: register %q: %v\n", blk.Endpoint, err)
		return
	}
	b.srv = &blk.Server{Dev: b.d.Block(), Fatal: b.fatal}
	inCoreBlk.Lock()
	inCoreBlk.b = b
	inCoreBlk.Unlock()
	err = ep.Serve(func(m ipc.Msg) ipc.Msg {
		r := b.srv.Handle(m)
		if m.Label == blk.LabelWrite && r.Label == 0 {
			b.armed().CrashAfterWrite()
		}
		return r
	})
	fmt.Println("core: blk: serve:", err)
}

func (b *coreBlk) armed() *blkfault.Sabotage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sab
}

func (b *coreBlk) arm(s *blkfault.Sabotage) {
	b.mu.Lock()
	b.sab = s
	b.mu.Unlock()
}

func (b *coreBlk) open() error {
	d, err := virtio.Open(b.p, b.cfg)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.d = d
	b.opens++
	b.mu.Unlock()
	return nil
}

// fatal is the monolithic driver's recovery: reset the device and initialise it again.
func (b *coreBlk) fatal(err error) {
	fmt.Printf("core: blk: %v: resetting and re-initialising the device\n", err)
	b.d.Close()
	if err := b.open(); err != nil {
		fmt.Printf("core: blk: re-initialising: %v: the disk is gone\n", err)
		return
	}
	b.srv.Dev = b.d.Block()
}

// opened returns how many times the driver was initialised and whether it is usable.
func (b *coreBlk) state() (opens int, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opens, b.d != nil
}

// freedLanded reports whether the last freed allocation's first page was written after it was
// freed (it no longer holds freedByte; a page the allocator handed out again is zero, and is
// not counted).
func (p *corePlatform) freedLanded() (uint64, bool) {
	if p.lastFreed == 0 {
		return 0, false
	}
	k := mm.DirectMap(p.lastFreed)
	changed, zero := false, true
	for off := uintptr(0); off < mm.PageSize; off++ {
		c := arch.Load8(k + off)
		changed = changed || c != freedByte
		zero = zero && c == 0
	}
	return p.lastFreed, changed && !zero
}
