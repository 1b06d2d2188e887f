package pci

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBDFString(t *testing.T) {
	assert.Equal(t, "00:03.0", BDF{0, 3, 0}.String())
	assert.Equal(t, "ff:1f.7", BDF{0xff, 0x1f, 7}.String())
}

func lines(devs []Device) []string {
	out := []string{}
	for _, d := range devs {
		out = append(out, d.String())
	}
	return out
}

func TestEnumerateQEMU(t *testing.T) {
	c := qemuBus()
	devs, err := Enumerate(c, 0, 0xff)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"pci: 00:00.0 8086:29c0 class 06.00.00",
		"pci: 00:03.0 1af4:1042 class 01.00.00 bar1 0xfebd1000+0x1000 mem, bar4 0xfe000000+0x4000 mem64 pref; msix 2 vectors in bar1; caps 11 09 09 09 09 09",
		"pci: 00:1c.0 1b36:000c class 06.04.00; bridge to buses 02-02",
		"pci: 02:00.0 1af4:1041 class 02.00.00 bar0 0xc000+0x20 io, bar1 0x800000000+0x100000000 mem64",
		"pci: 00:1f.0 8086:2918 class 06.01.00",
		"pci: 00:1f.2 8086:2922 class 01.06.01 bar4 0xc080+0x20 io, bar5 0xfebd3000+0x1000 mem; msi 1 vectors; caps 05 12",
		"pci: 00:1f.3 8086:2930 class 0c.05.00 bar4 0x700+0x40 io",
		"pci: 05:01.0 1234:1111 class 03.00.00",
	}, lines(devs))
	assert.Empty(t, c.faults)

	virtio := devs[1]
	assert.Equal(t, &MSIX{TableSize: 2, TableBAR: 1, TableOffset: 0, PBABAR: 1, PBAOffset: 0x800, CapOffset: 0x98}, virtio.MSIX)
	assert.Nil(t, virtio.MSI)
	assert.Equal(t, BAR{Index: 4, Addr: 0xfe000000, Size: 0x4000, Mem64: true, Prefetchable: true}, virtio.BARs[4])
	assert.Equal(t, BAR{Index: 5}, virtio.BARs[5], "the upper half of bar4")
	assert.Equal(t, BAR{Index: 0}, virtio.BARs[0])
	assert.Equal(t, []Capability{{0x11, 0x98}, {9, 0x84}, {9, 0x70}, {9, 0x60}, {9, 0x50}, {9, 0x40}}, virtio.Caps)
	assert.Equal(t, uint8(1), virtio.Revision)

	sata := devs[5]
	assert.Equal(t, &MSI{CapOffset: 0x80, Is64: true, Vectors: 1}, sata.MSI)
	assert.True(t, devs[4].MultiFunction)
	assert.Equal(t, uint8(HeaderNormal), devs[4].HeaderType)
	assert.Equal(t, uint8(2), devs[2].Secondary)
}

func TestSizingRestoresRegisters(t *testing.T) {
	c := qemuBus()
	before := map[BDF][1024]uint32{}
	for b, f := range c.fns {
		before[b] = f.regs
	}
	_, err := Enumerate(c, 0, 0xff)
	require.NoError(t, err)
	assert.Empty(t, c.faults)
	for b, f := range c.fns {
		assert.Equal(t, before[b], f.regs, "%s", b)
	}
}

func TestSizingKeepsStatusBits(t *testing.T) {
	c := newFake()
	c.add(BDF{0, 2, 0}, fakeDevice{vendor: 0x8086, device: 1, status: 0xf900, cmd: CommandMemory,
		bars: map[int]fakeBAR{0: {size: 0x100}}, addrs: map[int]uint64{0: 0xfe001000}})
	devs, err := Enumerate(c, 0, 0)
	require.NoError(t, err)
	assert.Empty(t, c.faults)
	assert.Equal(t, uint32(0xf900_0000|CommandMemory), c.fns[BDF{0, 2, 0}].regs[1])
	assert.Equal(t, BAR{Index: 0, Addr: 0xfe001000, Size: 0x100}, devs[0].BARs[0])
}

func TestBridges(t *testing.T) {
	c := newFake()
	bridge := func(b BDF, sec uint8) {
		f := c.add(b, fakeDevice{vendor: 0x1b36, device: 0xc, class: 0x060400, header: HeaderBridge})
		f.setByte(regSecondary, sec)
		f.setByte(regSubordinate, sec)
	}
	bridge(BDF{0, 1, 0}, 3)    // to bus 3
	bridge(BDF{3, 0, 0}, 3)    // to its own bus: ignored
	bridge(BDF{3, 1, 0}, 1)    // back up: ignored
	bridge(BDF{3, 2, 0}, 0x40) // out of the range: ignored
	bridge(BDF{0, 2, 0}, 0)    // unconfigured
	c.add(BDF{1, 0, 0}, fakeDevice{vendor: 0x1234, device: 1})
	c.add(BDF{0x40, 0, 0}, fakeDevice{vendor: 0x1234, device: 2})
	devs, err := Enumerate(c, 0, 0x3f)
	require.NoError(t, err)
	got := []string{}
	for _, d := range devs {
		got = append(got, d.BDF.String())
	}
	assert.Equal(t, []string{"00:01.0", "03:00.0", "03:01.0", "03:02.0", "00:02.0", "01:00.0"}, got)

	_, err = Enumerate(c, 2, 1)
	assert.EqualError(t, err, "pci: bus range 0x2-0x1 is backwards")
}

func TestMultiFunctionOnlyWhenFlagged(t *testing.T) {
	c := newFake()
	c.add(BDF{0, 4, 0}, fakeDevice{vendor: 0x1234, device: 1})
	c.add(BDF{0, 4, 1}, fakeDevice{vendor: 0x1234, device: 2}) // not flagged: not seen
	c.add(BDF{0, 5, 1}, fakeDevice{vendor: 0x1234, device: 3}) // no function 0: not seen
	devs, err := Enumerate(c, 0, 0)
	require.NoError(t, err)
	require.Len(t, devs, 1)
	assert.Equal(t, BDF{0, 4, 0}, devs[0].BDF)
}

func TestDeviceFaults(t *testing.T) {
	tests := []struct {
		name string
		dev  fakeDevice
		edit func(f *fakeFn)
		want string
	}{
		{"capability pointer below 0x40", fakeDevice{caps: []fakeCap{{off: 0x40, id: 9}}},
			func(f *fakeFn) { f.setByte(0x41, 0x3c) },
			"pci: 00:07.0: capability pointer at 0x41 is 0x3c, below 0x40"},
		{"first pointer below 0x40", fakeDevice{caps: []fakeCap{{off: 0x40, id: 9}}},
			func(f *fakeFn) { f.setByte(regCapPtr, 0x10) },
			"pci: 00:07.0: capability pointer at 0x34 is 0x10, below 0x40"},
		{"unaligned pointer", fakeDevice{caps: []fakeCap{{off: 0x40, id: 9}}},
			func(f *fakeFn) { f.setByte(0x41, 0x45) },
			"pci: 00:07.0: capability pointer at 0x41 is 0x45, not 4-byte aligned"},
		{"loop", fakeDevice{caps: []fakeCap{{off: 0x40, id: 9}, {off: 0x50, id: 9}}},
			func(f *fakeFn) { f.setByte(0x51, 0x40) },
			"pci: 00:07.0: capability pointer at 0x51 loops back to 0x40"},
		{"self loop", fakeDevice{caps: []fakeCap{{off: 0xfc, id: 9}}},
			func(f *fakeFn) { f.setByte(0xfd, 0xfc) },
			"pci: 00:07.0: capability pointer at 0xfd loops back to 0xfc"},
		{"MSI-X reserved BIR", fakeDevice{caps: []fakeCap{{off: 0x40, id: CapMSIX, data: []uint32{6, 0}}}}, nil,
			"pci: 00:07.0: MSI-X capability at 0x40: table BAR indicator 6 is reserved"},
		{"MSI-X table in a missing BAR", fakeDevice{caps: []fakeCap{{off: 0x40, id: CapMSIX, data: []uint32{2, 2}}}}, nil,
			"pci: 00:07.0: MSI-X capability at 0x40: table in bar2, which is not an implemented memory BAR"},
		{"MSI-X table past its BAR", fakeDevice{
			bars: map[int]fakeBAR{0: {size: 0x1000}}, addrs: map[int]uint64{0: 0xfe000000},
			caps: []fakeCap{{off: 0x40, id: CapMSIX, ctrl: 0x7ff, data: []uint32{0, 0x800}}}}, nil,
			"pci: 00:07.0: MSI-X capability at 0x40: table at 0x0+0x8000 runs past bar0's 0x1000 bytes"},
		{"MSI-X past 0x100", fakeDevice{caps: []fakeCap{{off: 0xf8, id: CapMSIX}}}, nil,
			"pci: 00:07.0: MSI-X capability at 0xf8 runs past 0x100"},
		{"MSI reserved count", fakeDevice{caps: []fakeCap{{off: 0x40, id: CapMSI, ctrl: 6 << 1}}}, nil,
			"pci: 00:07.0: MSI capability at 0x40: multiple message capable 6 is reserved"},
		{"64-bit BAR in slot 5", fakeDevice{bars: map[int]fakeBAR{5: {size: 0x1000, flags: barType64}}}, nil,
			"pci: 00:07.0: bar5 is 64-bit with no slot above it"},
		{"reserved memory type", fakeDevice{bars: map[int]fakeBAR{2: {size: 0x1000, flags: barTypeReserved}}}, nil,
			"pci: 00:07.0: bar2 has the reserved memory type 3 (0x6)"},
		{"unknown header", fakeDevice{header: 0x7f}, nil,
			"pci: 00:07.0: header type 0x7f is not one of 0, 1, 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFake()
			tt.dev.vendor, tt.dev.device = 0x1234, 0x5678
			f := c.add(BDF{0, 7, 0}, tt.dev)
			if tt.edit != nil {
				tt.edit(f)
			}
			c.add(BDF{0, 8, 0}, fakeDevice{vendor: 0x1234, device: 0x9999})
			devs, err := Enumerate(c, 0, 0)
			assert.EqualError(t, err, tt.want)
			require.Len(t, devs, 2, "a faulty device hides no other")
			assert.EqualError(t, devs[0].Err, tt.want)
			assert.Contains(t, devs[0].String(), "; error: "+tt.want)
			assert.NoError(t, devs[1].Err)
			assert.Empty(t, c.faults)
		})
	}
}

func TestCapsKeptBeforeAFault(t *testing.T) {
	c := newFake()
	f := c.add(BDF{0, 7, 0}, fakeDevice{vendor: 1, caps: []fakeCap{{off: 0x40, id: CapMSI}, {off: 0x50, id: 0x10}}})
	f.setByte(0x51, 0x40)
	devs, err := Enumerate(c, 0, 0)
	require.Error(t, err)
	assert.Equal(t, []Capability{{CapMSI, 0x40}, {0x10, 0x50}}, devs[0].Caps)
	assert.NotNil(t, devs[0].MSI)
}

func TestECAM(t *testing.T) {
	var loads []uintptr
	stored := map[uintptr]uint32{}
	e := ECAM{
		Base: 0xb000_0000, StartBus: 0x10, EndBus: 0x1f,
		Load32: func(a uintptr) uint32 {
			loads = append(loads, a)
			if v, ok := stored[a]; ok {
				return v
			}
			return 0x11223344
		},
		Store32: func(a uintptr, v uint32) { stored[a] = v },
	}
	var cfg Config = e
	assert.Equal(t, uint32(0x11223344), cfg.Read32(BDF{0x12, 3, 1}, 0x10))
	assert.Equal(t, []uintptr{0xb000_0000 + 2<<20 + 3<<15 + 1<<12 + 0x10}, loads)

	for _, tt := range []struct {
		b   BDF
		off int
	}{{BDF{0x0f, 0, 0}, 0}, {BDF{0x20, 0, 0}, 0}, {BDF{0x10, 32, 0}, 0}, {BDF{0x10, 0, 8}, 0},
		{BDF{0x10, 0, 0}, 4096}, {BDF{0x10, 0, 0}, -4}, {BDF{0x10, 0, 0}, 2}} {
		assert.Equal(t, uint32(0xffffffff), cfg.Read32(tt.b, tt.off), "%v %#x", tt.b, tt.off)
		cfg.Write32(tt.b, tt.off, 0)
	}
	assert.Len(t, loads, 1)
	assert.Empty(t, stored)

	b := BDF{0x1f, 31, 7}
	top := uintptr(0xb000_0000 + 0xf<<20 + 31<<15 + 7<<12 + 0xffc)
	cfg.Write32(b, 0xffc, 0xaabbccdd)
	assert.Equal(t, uint32(0xaabbccdd), stored[top])
	assert.Equal(t, uint16(0xaabb), Read16(cfg, b, 0xffe))
	assert.Equal(t, uint16(0xccdd), Read16(cfg, b, 0xffc))
	assert.Equal(t, uint8(0xbb), Read8(cfg, b, 0xffe))
	assert.Equal(t, uint8(0xdd), Read8(cfg, b, 0xffc))
	Write16(cfg, b, 0xffe, 0x1234)
	assert.Equal(t, uint32(0x1234ccdd), stored[top])
	Write16(cfg, b, 0xffc, 0x5678)
	assert.Equal(t, uint32(0x12345678), stored[top])
}
