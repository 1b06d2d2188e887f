package acpi

import "fmt"

// DMAR is the DMA Remapping Reporting table (Intel VT-d specification, chapter 8).
type DMAR struct {
	HostAddressWidth int   // bits of DMA address the platform supports (the field plus one)
	Flags            uint8 // DMARIntrRemap, DMARX2APICOptOut, DMARDMACtrlOptIn
	DRHDs            []DRHD
	RMRRs            []RMRR
}

// DMAR flags.
const (
	DMARIntrRemap    = 1 << 0 // interrupt remapping is supported
	DMARX2APICOptOut = 1 << 1 // firmware asks the OS not to enable x2APIC mode
	DMARDMACtrlOptIn = 1 << 2 // the platform is DMA-protection capable (opt-in)
)

// DRHD is one DMA remapping hardware unit and the devices it translates for.
type DRHD struct {
	Flags   uint8 // DRHDIncludePCIAll
	Segment uint16
	RegBase uint64 // the unit's register page
	Scopes  []Scope
}

// DRHDIncludePCIAll says the unit covers every PCI device on its segment not claimed by
// another unit's scopes; its own scopes then list only IOAPICs and HPETs.
const DRHDIncludePCIAll = 1 << 0

// RMRR is a reserved memory region the devices in its scopes may DMA to at any time (a
// firmware's USB or graphics buffer): it must stay identity mapped for them.
type RMRR struct {
	Segment uint16
	Base    uint64
	Limit   uint64 // the region's last byte
	Scopes  []Scope
}

// Scope is one device scope entry: a device, or a bridge and everything below it.
type Scope struct {
	Type     uint8 // ScopePCIEndpoint ... ScopeNamespace
	EnumID   uint8 // the IOAPIC ID, HPET number or ACPI namespace device number
	StartBus uint8
	Path     []PathEntry // from StartBus down through bridges to the device
}

// PathEntry is one hop of a scope's path: the device and function on the current bus.
type PathEntry struct {
	Device   uint8
	Function uint8
}

// Scope types.
const (
	ScopePCIEndpoint     = 1
	ScopePCISubHierarchy = 2
	ScopeIOAPIC          = 3
	ScopeHPET            = 4
	ScopeNamespace       = 5
)

// DMAR layout.
const (
	dmarStructures = headerSize + 12 // after width, flags and 10 reserved bytes
	dmarDRHD       = 0
	dmarRMRR       = 1
	drhdScopes     = 16
	rmrrScopes     = 24
	scopePath      = 6
)

func (t *Tables) decodeDMAR(tab *table) error {
	d := tab.data
	if len(d) < dmarStructures {
		return tab.errorf("length %d is shorter than %d", len(d), dmarStructures)
	}
	m := &DMAR{HostAddressWidth: int(d[headerSize]) + 1, Flags: d[headerSize+1]}
	n := 0
	for off := dmarStructures; off < len(d); {
		if n++; n > maxStructures {
			return tab.errorf("more than %d remapping structures", maxStructures)
		}
		if len(d)-off < 4 {
			return tab.errorf("remapping structure at offset %d: %d bytes left, no room for its type and length", off, len(d)-off)
		}
		typ, length := le16(d, off), int(le16(d, off+2))
		switch {
		case length < 4:
			return tab.errorf("remapping structure at offset %d has length %d", off, length)
		case length > len(d)-off:
			return tab.errorf("remapping structure at offset %d has length %d, past the table's end at %d", off, length, len(d))
		}
		if err := m.decodeStructure(typ, d[off:off+length]); err != nil {
			return tab.errorf("%s at offset %d: %v", structName(typ), off, err)
		}
		off += length
	}
	t.DMAR = m
	return nil
}

func structName(typ uint16) string {
	switch typ {
	case dmarDRHD:
		return "DRHD"
	case dmarRMRR:
		return "RMRR"
	}
	return fmt.Sprintf("remapping structure type %d", typ)
}

// decodeStructure decodes a DRHD or RMRR; other types are skipped by their length.
func (m *DMAR) decodeStructure(typ uint16, s []byte) error {
	switch typ {
	case dmarDRHD:
		if len(s) < drhdScopes {
			return fmt.Errorf("length %d is shorter than %d", len(s), drhdScopes)
		}
		scopes, err := decodeScopes(s, drhdScopes)
		if err != nil {
			return err
		}
		m.DRHDs = append(m.DRHDs, DRHD{Flags: s[4], Segment: le16(s, 6), RegBase: le64(s, 8), Scopes: scopes})
	case dmarRMRR:
		if len(s) < rmrrScopes {
			return fmt.Errorf("length %d is shorter than %d", len(s), rmrrScopes)
		}
		r := RMRR{Segment: le16(s, 6), Base: le64(s, 8), Limit: le64(s, 16)}
		if r.Limit < r.Base {
			return fmt.Errorf("limit %#x is below base %#x", r.Limit, r.Base)
		}
		scopes, err := decodeScopes(s, rmrrScopes)
		if err != nil {
			return err
		}
		r.Scopes = scopes
		m.RMRRs = append(m.RMRRs, r)
	}
	return nil
}

// decodeScopes decodes the device scope entries filling s from offset start.
func decodeScopes(s []byte, start int) ([]Scope, error) {
	var scopes []Scope
	for off := start; off < len(s); {
		if len(s)-off < 2 {
			return nil, fmt.Errorf("device scope at offset %d: %d byte left, no room for its type and length", off, len(s)-off)
		}
		length := int(s[off+1])
		switch {
		case length < scopePath:
			return nil, fmt.Errorf("device scope at offset %d has length %d, less than %d", off, length, scopePath)
		case length > len(s)-off:
			return nil, fmt.Errorf("device scope at offset %d has length %d, past the structure's end at %d", off, length, len(s))
		case (length-scopePath)%2 != 0:
			return nil, fmt.Errorf("device scope at offset %d has length %d, an odd number of path bytes", off, length)
		}
		e := s[off : off+length]
		sc := Scope{Type: e[0], EnumID: e[4], StartBus: e[5]}
		for p := scopePath; p < length; p += 2 {
			sc.Path = append(sc.Path, PathEntry{Device: e[p], Function: e[p+1]})
		}
		scopes = append(scopes, sc)
		off += length
	}
	return scopes, nil
}
