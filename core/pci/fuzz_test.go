package pci

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bytesConfig is one function, 00:00.0, whose configuration space is the fuzzer's bytes:
// the first 256 its registers, the next 256 which bits of them writes change (so BAR
// probes read back whatever the mask makes of all ones). Every other function is absent.
type bytesConfig struct {
	regs, writable [64]uint32
}

func newBytesConfig(data []byte) *bytesConfig {
	c := &bytesConfig{}
	var buf [512]byte
	copy(buf[:], data)
	for i := range c.regs {
		c.regs[i] = binary.LittleEndian.Uint32(buf[4*i:])
		c.writable[i] = binary.LittleEndian.Uint32(buf[256+4*i:])
	}
	return c
}

func (c *bytesConfig) Read32(b BDF, off int) uint32 {
	if b != (BDF{}) || off < 0 || off >= 256 {
		return 0xffffffff
	}
	return c.regs[off/4]
}

func (c *bytesConfig) Write32(b BDF, off int, v uint32) {
	if b != (BDF{}) || off < 0 || off >= 256 {
		return
	}
	m := c.writable[off/4]
	c.regs[off/4] = c.regs[off/4]&^m | v&m
}

// seedBytes is the 512 bytes of a function built by the fake, writable where its BARs are.
func seedBytes(d fakeDevice, edit func(f *fakeFn)) []byte {
	c := newFake()
	f := c.add(BDF{}, d)
	if edit != nil {
		edit(f)
	}
	out := make([]byte, 512)
	for i := range 64 {
		binary.LittleEndian.PutUint32(out[4*i:], f.regs[i])
	}
	for n := range 6 {
		binary.LittleEndian.PutUint32(out[256+regBAR0+4*n:], f.writeBAR(n, 0xffffffff)&^0xf)
	}
	binary.LittleEndian.PutUint32(out[256+regCommand:], 0xffff)
	return out
}

// FuzzDevice enumerates buses 0-1 holding one function with arbitrary configuration
// space, and checks Enumerate never panics or hangs and what it returns is sane.
func FuzzDevice(f *testing.F) {
	q := qemuBus()
	for _, b := range []BDF{{0, 3, 0}, {0, 0x1f, 2}, {0, 0x1c, 0}, {2, 0, 0}} {
		out := make([]byte, 512)
		for i := range 64 {
			binary.LittleEndian.PutUint32(out[4*i:], q.fns[b].regs[i])
		}
		for i := range 6 {
			binary.LittleEndian.PutUint32(out[256+regBAR0+4*i:], 0xffffffff)
		}
		f.Add(out)
	}
	f.Add(seedBytes(fakeDevice{vendor: 1, caps: []fakeCap{{off: 0x40, id: CapMSI}, {off: 0x50, id: CapMSIX}}},
		func(f *fakeFn) { f.setByte(0x51, 0x40) }))
	f.Add(seedBytes(fakeDevice{vendor: 1, header: headerMultiFunction,
		bars: map[int]fakeBAR{0: {size: 0x1000, flags: barType64}, 2: {size: 0x40, flags: barIO}, 5: {size: 0x100, flags: barType64}}}, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newBytesConfig(data)
		devs, err := Enumerate(c, 0, 1)
		if len(devs) > 1 {
			t.Fatalf("%d devices from one function", len(devs))
		}
		for _, d := range devs {
			if (d.Err == nil) != (err == nil) {
				t.Fatalf("device error %v, Enumerate error %v", d.Err, err)
			}
			if len(d.Caps) > maxCaps {
				t.Fatalf("%d capabilities", len(d.Caps))
			}
			for _, bar := range d.BARs {
				if bar.Size&(bar.Size-1) != 0 {
					t.Fatalf("bar%d size %#x is not a power of two", bar.Index, bar.Size)
				}
			}
			if d.MSIX != nil && (d.MSIX.TableSize < 1 || d.MSIX.TableSize > 2048 || d.MSIX.TableBAR > 5) {
				t.Fatalf("MSI-X %+v", *d.MSIX)
			}
			_ = d.String()
		}
	})
}

// Enumerating one function's bytes restores every register sizing touched.
func TestBytesConfigRestored(t *testing.T) {
	data := seedBytes(fakeDevice{vendor: 1, cmd: CommandMemory | CommandIO, status: 0xffff,
		bars: map[int]fakeBAR{0: {size: 0x1000, flags: barType64}, 2: {size: 0x40, flags: barIO}}}, nil)
	c := newBytesConfig(data)
	before := c.regs
	devs, err := Enumerate(c, 0, 0)
	require.NoError(t, err)
	require.Len(t, devs, 1)
	assert.Equal(t, before, c.regs)
	assert.Equal(t, BAR{Index: 0, Size: 0x1000, Mem64: true}, devs[0].BARs[0])
	assert.Equal(t, BAR{Index: 2, Size: 0x40, IO: true}, devs[0].BARs[2])
}
