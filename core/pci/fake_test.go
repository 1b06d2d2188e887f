package pci

import (
	"fmt"
)

// fakeBAR is one modelled BAR: writes keep only the address bits a region of size bytes
// decodes, so all ones read back as ^(size-1)|flags. Size 0 is an unimplemented BAR.
type fakeBAR struct {
	size  uint64
	flags uint32 // barIO, barType64, barPrefetchable
}

// fakeFn is one function's configuration space.
type fakeFn struct {
	regs [1024]uint32
	bars [6]fakeBAR // for type 0 headers
}

// fakeConfig is configuration space for a set of functions. It records faults in how it
// is driven: BARs probed with decode on, and status bits cleared by writes.
type fakeConfig struct {
	fns    map[BDF]*fakeFn
	faults []string
}

func newFake() *fakeConfig { return &fakeConfig{fns: map[BDF]*fakeFn{}} }

func (c *fakeConfig) Read32(b BDF, off int) uint32 {
	f := c.fns[b]
	if f == nil || off < 0 || off >= 4096 {
		return 0xffffffff
	}
	return f.regs[off/4]
}

func (c *fakeConfig) Write32(b BDF, off int, v uint32) {
	f := c.fns[b]
	if f == nil {
		return
	}
	i := off / 4
	switch {
	case off == regCommand:
		// Status is write-one-to-clear: count any 1 written over a set bit as a fault.
		if cleared := f.regs[i] >> 16 & (v >> 16); cleared != 0 {
			c.faults = append(c.faults, fmt.Sprintf("%s: status bits %#x cleared", b, cleared))
		}
		f.regs[i] = f.regs[i]&0xffff0000 | v&0xffff
	case f.regs[regHeaderType/4]>>16&0x7f == HeaderNormal && off >= regBAR0 && off < regBAR0+24:
		if f.regs[regCommand/4]&(CommandIO|CommandMemory) != 0 && v == 0xffffffff {
			c.faults = append(c.faults, fmt.Sprintf("%s: BAR at %#x probed with decode on", b, off))
		}
		f.regs[i] = f.writeBAR((off-regBAR0)/4, v)
	default:
		f.regs[i] = v
	}
}

// writeBAR returns what BAR slot n holds after v is written to it.
func (f *fakeFn) writeBAR(n int, v uint32) uint32 {
	bar := f.bars[n]
	if n > 0 && f.bars[n-1].flags&barTypeMask == barType64 && f.bars[n-1].size != 0 {
		return v & uint32(^(f.bars[n-1].size-1)>>32) // the upper half of a 64-bit BAR
	}
	if bar.size == 0 {
		return 0
	}
	low := uint32(0xf)
	if bar.flags&barIO != 0 {
		low = 3
	}
	return v&uint32(^(bar.size-1))&^low | bar.flags
}

// fakeDevice describes a function to add.
type fakeDevice struct {
	vendor, device uint16
	class          uint32 // class<<16 | subclass<<8 | progIF
	header         uint8  // with headerMultiFunction
	bars           map[int]fakeBAR
	addrs          map[int]uint64
	caps           []fakeCap // chained in this order, at their offsets
	status         uint16
	cmd            uint16
}

type fakeCap struct {
	off  int
	id   uint8
	data []uint32 // dwords after the ID and next pointer's dword, and that dword's upper half
	ctrl uint16
}

func (c *fakeConfig) add(b BDF, d fakeDevice) *fakeFn {
	f := &fakeFn{}
	c.fns[b] = f
	f.regs[0] = uint32(d.device)<<16 | uint32(d.vendor)
	f.regs[regCommand/4] = uint32(d.status)<<16 | uint32(d.cmd)
	f.regs[regClass/4] = d.class<<8 | 1
	f.regs[regHeaderType/4] = uint32(d.header) << 16
	for n, bar := range d.bars {
		f.bars[n] = bar
		addr := d.addrs[n]
		f.regs[regBAR0/4+n] = f.writeBAR(n, uint32(addr))
		if bar.flags&barTypeMask == barType64 {
			f.regs[regBAR0/4+n+1] = uint32(addr >> 32)
		}
	}
	if len(d.caps) > 0 {
		f.regs[regStatus/4] |= statusCapList << 16
		f.regs[regCapPtr/4] = uint32(d.caps[0].off)
	}
	for i, cp := range d.caps {
		next := 0
		if i+1 < len(d.caps) {
			next = d.caps[i+1].off
		}
		f.regs[cp.off/4] = uint32(cp.ctrl)<<16 | uint32(next)<<8 | uint32(cp.id)
		for j, v := range cp.data {
			f.regs[cp.off/4+1+j] = v
		}
	}
	return f
}

// setByte sets one byte of a function's configuration space.
func (f *fakeFn) setByte(off int, v uint8) {
	shift := 8 * (off & 3)
	f.regs[off/4] = f.regs[off/4]&^(0xff<<shift) | uint32(v)<<shift
}

func virtioCaps(first fakeCap) []fakeCap {
	return []fakeCap{first,
		{off: 0x84, id: 0x09}, {off: 0x70, id: 0x09}, {off: 0x60, id: 0x09}, {off: 0x50, id: 0x09}, {off: 0x40, id: 0x09}}
}

// qemuBus is a small q35 machine: host bridge, a virtio-blk device, a root port with a
// device behind it, the ICH9 LPC/SATA/SMBus multi-function device, and a device on bus 5
// that no configured bridge leads to.
func qemuBus() *fakeConfig {
	c := newFake()
	c.add(BDF{0, 0, 0}, fakeDevice{vendor: 0x8086, device: 0x29c0, class: 0x060000})
	c.add(BDF{0, 3, 0}, fakeDevice{
		vendor: 0x1af4, device: 0x1042, class: 0x010000, status: 0x0010, cmd: CommandMemory | CommandMaster,
		bars: map[int]fakeBAR{
			1: {size: 0x1000},
			4: {size: 0x4000, flags: barType64 | barPrefetchable},
		},
		addrs: map[int]uint64{1: 0xfebd1000, 4: 0xfe000000},
		caps:  virtioCaps(fakeCap{off: 0x98, id: CapMSIX, ctrl: 1, data: []uint32{0x00000001, 0x00000801}}),
	})
	c.add(BDF{0, 0x1c, 0}, fakeDevice{vendor: 0x1b36, device: 0x000c, class: 0x060400, header: HeaderBridge})
	c.fns[BDF{0, 0x1c, 0}].setByte(regSecondary, 2)
	c.fns[BDF{0, 0x1c, 0}].setByte(regSubordinate, 2)
	c.add(BDF{2, 0, 0}, fakeDevice{
		vendor: 0x1af4, device: 0x1041, class: 0x020000,
		bars:  map[int]fakeBAR{0: {size: 0x20, flags: barIO}, 1: {size: 0x1_0000_0000, flags: barType64}},
		addrs: map[int]uint64{0: 0xc000, 1: 0x8_0000_0000},
	})
	c.add(BDF{0, 0x1f, 0}, fakeDevice{vendor: 0x8086, device: 0x2918, class: 0x060100, header: headerMultiFunction})
	c.add(BDF{0, 0x1f, 2}, fakeDevice{
		vendor: 0x8086, device: 0x2922, class: 0x010601, cmd: CommandIO | CommandMemory,
		bars:  map[int]fakeBAR{4: {size: 0x20, flags: barIO}, 5: {size: 0x1000}},
		addrs: map[int]uint64{4: 0xc080, 5: 0xfebd3000},
		caps:  []fakeCap{{off: 0x80, id: CapMSI, ctrl: 1 << 7}, {off: 0xa8, id: 0x12}},
	})
	c.add(BDF{0, 0x1f, 3}, fakeDevice{
		vendor: 0x8086, device: 0x2930, class: 0x0c0500, cmd: CommandIO,
		bars: map[int]fakeBAR{4: {size: 0x40, flags: barIO}}, addrs: map[int]uint64{4: 0x700},
	})
	c.add(BDF{5, 1, 0}, fakeDevice{vendor: 0x1234, device: 0x1111, class: 0x030000})
	return c
}
