package pci

import "fmt"

// Capability list limits: entries live in the device-specific dwords 0x40-0xff, so more
// than 48 of them means a loop.
const (
	maxCaps     = 48
	capMinPtr   = 0x40
	legacyLimit = 0x100 // the end of the PCI-compatible configuration space
	msixSize    = 12
	msixEntry   = 16
)

// walkCaps follows the capability list from the pointer at register ptrReg, if the status
// register says there is one. It returns the capabilities read before any fault.
func walkCaps(cfg Config, b BDF, ptrReg int) ([]Capability, error) {
	if Read16(cfg, b, regStatus)&statusCapList == 0 {
		return nil, nil
	}
	var caps []Capability
	var seen [legacyLimit]bool
	from := ptrReg
	for ptr := int(Read8(cfg, b, ptrReg)); ptr != 0; {
		switch {
		case len(caps) == maxCaps:
			return caps, fmt.Errorf("capability list longer than %d entries", maxCaps)
		case ptr < capMinPtr:
			return caps, fmt.Errorf("capability pointer at %#x is %#x, below %#x", from, ptr, capMinPtr)
		case ptr&3 != 0:
			return caps, fmt.Errorf("capability pointer at %#x is %#x, not 4-byte aligned", from, ptr)
		case seen[ptr]:
			return caps, fmt.Errorf("capability pointer at %#x loops back to %#x", from, ptr)
		}
		seen[ptr] = true
		caps = append(caps, Capability{ID: Read8(cfg, b, ptr), Offset: ptr})
		from, ptr = ptr+1, int(Read8(cfg, b, ptr+1))
	}
	return caps, nil
}

// decodeCaps decodes the first MSI and MSI-X capabilities and checks the MSI-X table and
// PBA lie inside implemented memory BARs (type 0 headers).
func (d *Device) decodeCaps(cfg Config) []error {
	var errs []error
	for _, c := range d.Caps {
		switch {
		case c.ID == CapMSI && d.MSI == nil:
			ctrl := Read16(cfg, d.BDF, c.Offset+2)
			mmc := int(ctrl>>1) & 7
			if mmc > 5 {
				errs = append(errs, fmt.Errorf("MSI capability at %#x: multiple message capable %d is reserved", c.Offset, mmc))
				continue
			}
			d.MSI = &MSI{CapOffset: c.Offset, Is64: ctrl&(1<<7) != 0, PerVector: ctrl&(1<<8) != 0, Vectors: 1 << mmc}
		case c.ID == CapMSIX && d.MSIX == nil:
			if c.Offset+msixSize > legacyLimit {
				errs = append(errs, fmt.Errorf("MSI-X capability at %#x runs past %#x", c.Offset, legacyLimit))
				continue
			}
			ctrl := Read16(cfg, d.BDF, c.Offset+2)
			table, pba := cfg.Read32(d.BDF, c.Offset+4), cfg.Read32(d.BDF, c.Offset+8)
			m := &MSIX{
				TableSize: int(ctrl&0x7ff) + 1, CapOffset: c.Offset,
				TableBAR: int(table & 7), TableOffset: table &^ 7,
				PBABAR: int(pba & 7), PBAOffset: pba &^ 7,
			}
			if err := d.checkMSIX(m); err != nil {
				errs = append(errs, fmt.Errorf("MSI-X capability at %#x: %w", c.Offset, err))
				continue
			}
			d.MSIX = m
		}
	}
	return errs
}

// checkMSIX checks the table and the PBA each lie inside one implemented memory BAR.
func (d *Device) checkMSIX(m *MSIX) error {
	if err := d.inBAR("table", m.TableBAR, m.TableOffset, uint64(m.TableSize)*msixEntry); err != nil {
		return err
	}
	return d.inBAR("PBA", m.PBABAR, m.PBAOffset, (uint64(m.TableSize)+63)/64*8)
}

func (d *Device) inBAR(what string, bir int, off uint32, size uint64) error {
	if bir > 5 {
		return fmt.Errorf("%s BAR indicator %d is reserved", what, bir)
	}
	if d.HeaderType != HeaderNormal {
		return nil // only type 0 BARs are sized here
	}
	bar := d.BARs[bir]
	switch {
	case bar.Size == 0 || bar.IO:
		return fmt.Errorf("%s in bar%d, which is not an implemented memory BAR", what, bir)
	case uint64(off) > bar.Size || size > bar.Size-uint64(off):
		return fmt.Errorf("%s at %#x+%#x runs past bar%d's %#x bytes", what, off, size, bir, bar.Size)
	}
	return nil
}
