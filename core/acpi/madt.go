package acpi

// MADT is the Multiple APIC Description Table ("APIC", ACPI 6.x section 5.2.12).
type MADT struct {
	LocalAPIC         uint32 // the local APICs' physical address
	LocalAPICOverride uint64 // a 64-bit address replacing LocalAPIC; 0 without one
	Flags             uint32 // bit 0: PC-AT compatible dual 8259s present
	LocalAPICs        []LocalAPIC
	IOAPICs           []IOAPIC
	Overrides         []Override
}

// MADT flags.
const MADTPCATCompat = 1 << 0

// LocalAPIC is one processor's local APIC or local x2APIC entry.
type LocalAPIC struct {
	ProcessorUID uint32
	ID           uint32
	Flags        uint32 // LocalAPICEnabled, LocalAPICOnlineCapable
	X2APIC       bool   // from a local x2APIC entry (type 9)
}

// Local APIC flags.
const (
	LocalAPICEnabled       = 1 << 0
	LocalAPICOnlineCapable = 1 << 1
)

// Usable reports whether the processor is enabled or may be brought online.
func (l LocalAPIC) Usable() bool { return l.Flags&(LocalAPICEnabled|LocalAPICOnlineCapable) != 0 }

// IOAPIC is one I/O APIC: its ID, register address and first global system interrupt.
type IOAPIC struct {
	ID      uint8
	Addr    uint32
	GSIBase uint32
}

// Override maps an ISA interrupt (Bus 0, Source IRQ) to a global system interrupt.
type Override struct {
	Bus    uint8
	Source uint8
	GSI    uint32
	Flags  uint16 // MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2
}

// MADT entry types and the least length each needs.
const (
	madtLocalAPIC         = 0
	madtIOAPIC            = 1
	madtOverride          = 2
	madtLocalAPICOverride = 5
	madtLocalX2APIC       = 9
	madtEntries           = headerSize + 8
)

var madtMinLength = map[uint8]int{
	madtLocalAPIC:         8,
	madtIOAPIC:            12,
	madtOverride:          10,
	madtLocalAPICOverride: 12,
	madtLocalX2APIC:       16,
}

func (t *Tables) decodeMADT(tab *table) error {
	d := tab.data
	if len(d) < madtEntries {
		return tab.errorf("length %d is shorter than %d", len(d), madtEntries)
	}
	m := &MADT{LocalAPIC: le32(d, headerSize), Flags: le32(d, headerSize+4)}
	n := 0
	for off := madtEntries; off < len(d); {
		if n++; n > maxStructures {
			return tab.errorf("more than %d entries", maxStructures)
		}
		if len(d)-off < 2 {
			return tab.errorf("entry at offset %d: %d bytes left, no room for its type and length", off, len(d)-off)
		}
		typ, length := d[off], int(d[off+1])
		switch {
		case length < 2:
			return tab.errorf("entry at offset %d has length %d", off, length)
		case length > len(d)-off:
			return tab.errorf("entry at offset %d has length %d, past the table's end at %d", off, length, len(d))
		case length < madtMinLength[typ]:
			return tab.errorf("entry at offset %d (type %d) has length %d, less than %d", off, typ, length, madtMinLength[typ])
		}
		m.decodeEntry(typ, d[off:off+length])
		off += length
	}
	t.MADT = m
	return nil
}

func (m *MADT) decodeEntry(typ uint8, e []byte) {
	switch typ {
	case madtLocalAPIC:
		m.LocalAPICs = append(m.LocalAPICs, LocalAPIC{ProcessorUID: uint32(e[2]), ID: uint32(e[3]), Flags: le32(e, 4)})
	case madtIOAPIC:
		m.IOAPICs = append(m.IOAPICs, IOAPIC{ID: e[2], Addr: le32(e, 4), GSIBase: le32(e, 8)})
	case madtOverride:
		m.Overrides = append(m.Overrides, Override{Bus: e[2], Source: e[3], GSI: le32(e, 4), Flags: le16(e, 8)})
	case madtLocalAPICOverride:
		m.LocalAPICOverride = le64(e, 4)
	case madtLocalX2APIC:
		m.LocalAPICs = append(m.LocalAPICs, LocalAPIC{ID: le32(e, 4), Flags: le32(e, 8), ProcessorUID: le32(e, 12), X2APIC: true})
	}
}
