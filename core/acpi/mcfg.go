package acpi

// ECAM is one PCI Express enhanced configuration window from the MCFG: bus b's
// configuration space starts at Base + (b-StartBus)<<20.
type ECAM struct {
	Base     uint64
	Segment  uint16
	StartBus uint8
	EndBus   uint8
}

// MCFG layout (PCI Firmware Specification 3.x, table 4-2).
const (
	mcfgEntries   = headerSize + 8 // after 8 reserved bytes
	mcfgEntrySize = 16
)

func (t *Tables) decodeMCFG(tab *table) error {
	body := len(tab.data) - mcfgEntries
	if body < 0 || body%mcfgEntrySize != 0 {
		return tab.errorf("length %d is not %d bytes plus whole %d-byte entries",
			len(tab.data), mcfgEntries, mcfgEntrySize)
	}
	if body/mcfgEntrySize > maxStructures {
		return tab.errorf("%d entries, more than %d", body/mcfgEntrySize, maxStructures)
	}
	t.MCFG = make([]ECAM, 0, body/mcfgEntrySize)
	for off := mcfgEntries; off < len(tab.data); off += mcfgEntrySize {
		e := ECAM{
			Base:     le64(tab.data, off),
			Segment:  le16(tab.data, off+8),
			StartBus: tab.data[off+10],
			EndBus:   tab.data[off+11],
		}
		switch {
		case e.EndBus < e.StartBus:
			return tab.errorf("entry at offset %d: end bus %#x is below start bus %#x", off, e.EndBus, e.StartBus)
		case e.Base&(1<<20-1) != 0:
			return tab.errorf("entry at offset %d: base %#x is not 1 MiB aligned", off, e.Base)
		case e.Base >= maxPhysAddr || uint64(e.EndBus-e.StartBus+1)<<20 > maxPhysAddr-e.Base:
			return tab.errorf("entry at offset %d: window at %#x is past the physical address limit", off, e.Base)
		}
		t.MCFG = append(t.MCFG, e)
	}
	return nil
}
