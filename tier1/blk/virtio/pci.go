package virtio

import (
	"errors"
	"fmt"
)

// PCI configuration space: the parts the driver reads.
const (
	pciCommand     = 0x04
	pciStatus      = 0x06
	pciCapPointer  = 0x34
	pciStatusCaps  = 1 << 4
	pciCmdMemory   = 1 << 1
	pciCmdMaster   = 1 << 2
	pciCapVendor   = 0x09
	pciConfigSize  = 256
	pciFirstCapOff = 0x40
	maxCaps        = 48 // (256-64)/4: more than this is a loop in the list
)

// Virtio structure types (virtio 1.x, 4.1.4: cfg_type of a vendor-specific capability).
const (
	capCommon = 1
	capNotify = 2
	capISR    = 3
	capDevice = 4
)

// capability is where one virtio structure lives: a window of a BAR.
type capability struct {
	bar    int
	offset uint32
	length uint32
}

// layout is what the driver learns from the capability list.
type layout struct {
	common, notify, isr, device capability
	found                       [5]bool
	notifyMultiplier            uint32
}

// ErrNoCapability reports a device whose capability list lacks a structure the driver needs.
var ErrNoCapability = errors.New("virtio: missing capability")

// readCaps walks the capability list and keeps the first capability of each virtio structure
// type (the spec's rule for drivers); everything read from the device is checked, and a list
// that loops or points outside config space is an error.
func readCaps(p Platform) (layout, error) {
	var l layout
	status, err := p.ConfigRead(pciStatus, 2)
	if err != nil {
		return l, fmt.Errorf("virtio: PCI status: %w", err)
	}
	if status&pciStatusCaps == 0 {
		return l, fmt.Errorf("%w: the device has no capability list", ErrNoCapability)
	}
	ptr, err := p.ConfigRead(pciCapPointer, 1)
	if err != nil {
		return l, fmt.Errorf("virtio: capability pointer: %w", err)
	}
	for i := 0; ptr != 0; i++ {
		ptr &^= 3
		if i == maxCaps || ptr < pciFirstCapOff || ptr > pciConfigSize-4 {
			return l, fmt.Errorf("virtio: bad capability list (entry %d at %#x)", i, ptr)
		}
		hdr, err := p.ConfigRead(int(ptr), 4)
		if err != nil {
			return l, fmt.Errorf("virtio: capability at %#x: %w", ptr, err)
		}
		if hdr&0xff == pciCapVendor {
			if err := readVirtioCap(p, int(ptr), hdr, &l); err != nil {
				return l, err
			}
		}
		ptr = hdr >> 8 & 0xff
	}
	for typ, name := range map[int]string{capCommon: "common", capNotify: "notify", capDevice: "device"} {
		if !l.found[typ] {
			return l, fmt.Errorf("%w: no %s configuration", ErrNoCapability, name)
		}
	}
	return l, nil
}

// readVirtioCap reads a virtio_pci_cap (and the notify capability's multiplier) at ptr.
func readVirtioCap(p Platform, ptr int, hdr uint32, l *layout) error {
	capLen, typ := int(hdr>>16&0xff), int(hdr>>24)
	if typ < capCommon || typ > capDevice || l.found[typ] {
		return nil // PCI config access (5), shared memory (8), or a second one: not used
	}
	need := 16
	if typ == capNotify {
		need = 20
	}
	if capLen < need || ptr+need > pciConfigSize {
		return fmt.Errorf("virtio: capability type %d at %#x is %d bytes, want %d", typ, ptr, capLen, need)
	}
	var w [4]uint32
	for i := range need / 4 {
		v, err := p.ConfigRead(ptr+4*(i+1), 4)
		if err != nil {
			return fmt.Errorf("virtio: capability at %#x: %w", ptr, err)
		}
		if i < len(w) {
			w[i] = v
		}
	}
	c := capability{bar: int(w[0] & 0xff), offset: w[1], length: w[2]}
	if c.bar > 5 {
		return fmt.Errorf("virtio: capability type %d names BAR %d", typ, c.bar)
	}
	switch typ {
	case capCommon:
		l.common = c
	case capNotify:
		l.notify = c
		l.notifyMultiplier = w[3]
	case capISR:
		l.isr = c
	case capDevice:
		l.device = c
	}
	l.found[typ] = true
	return nil
}

// window is a checked part of a BAR's region: a virtio structure.
type window struct {
	r   Region
	off int
	len int
}

// newWindow checks that the capability's window lies inside the mapped BAR and is at least
// min bytes long.
func newWindow(r Region, c capability, min int, what string) (window, error) {
	off, n := uint64(c.offset), uint64(c.length)
	if n < uint64(min) || off%4 != 0 || off+n > uint64(r.Len()) {
		return window{}, fmt.Errorf("virtio: %s configuration at BAR %d %#x+%#x: unaligned, outside the %#x-byte BAR or under %d bytes",
			what, c.bar, off, n, r.Len(), min)
	}
	return window{r: r, off: int(off), len: int(n)}, nil
}

func (w window) check(off, width int) int {
	if off < 0 || off+width > w.len {
		panic(fmt.Sprintf("virtio: %d-byte access at %#x outside a %#x-byte structure", width, off, w.len))
	}
	return w.off + off
}

func (w window) load8(off int) uint8       { return w.r.Load8(w.check(off, 1)) }
func (w window) load16(off int) uint16     { return w.r.Load16(w.check(off, 2)) }
func (w window) load32(off int) uint32     { return w.r.Load32(w.check(off, 4)) }
func (w window) store8(off int, v uint8)   { w.r.Store8(w.check(off, 1), v) }
func (w window) store16(off int, v uint16) { w.r.Store16(w.check(off, 2), v) }
func (w window) store32(off int, v uint32) { w.r.Store32(w.check(off, 4), v) }

// store64 writes a 64-bit field as two 32-bit stores, low half first: the access the spec
// allows for 64-bit fields and every device supports.
func (w window) store64(off int, v uint64) {
	w.store32(off, uint32(v))
	w.store32(off+4, uint32(v>>32))
}
