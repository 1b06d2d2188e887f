package acpi

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindRSDPInBIOSArea(t *testing.T) {
	m := qemuMachine(false)
	pa, err := FindRSDP(m)
	require.NoError(t, err)
	assert.Equal(t, uint64(qemuRSDP), pa)
}

func TestFindRSDPPrefersEBDA(t *testing.T) {
	m := qemuMachine(true)
	m.put16(ebdaSegmentPtr, 0x9fc0)
	m.write(0x9fc00+0x40, rsdpV1(qemuRSDT))
	pa, err := FindRSDP(m)
	require.NoError(t, err)
	assert.Equal(t, uint64(0x9fc40), pa)
}

func TestFindRSDPSkipsBadCandidates(t *testing.T) {
	m := qemuMachine(true)
	bad := rsdpV1(qemuRSDT)
	bad[8]++
	m.write(0xe0000, bad) // ACPI 1.0 checksum wrong
	badExt := rsdpV2(qemuRSDT, qemuXSDT)
	badExt[32]++
	m.write(0xe0010, badExt)                // extended checksum wrong
	m.write(0xe0048, rsdpV1(qemuRSDT))      // not on a 16-byte boundary
	m.write(0xe0100, []byte(rsdpSignature)) // signature only
	pa, err := FindRSDP(m)
	require.NoError(t, err)
	assert.Equal(t, uint64(qemuRSDP), pa)
}

func TestFindRSDPNone(t *testing.T) {
	m := fakeMem{}
	m.write(0, make([]byte, 0x1000))
	m.write(biosAreaStart, make([]byte, biosAreaEnd-biosAreaStart))
	_, err := FindRSDP(m)
	assert.EqualError(t, err, "acpi: no RSDP in the EBDA's first KiB or in 0xe0000-0xfffff")

	_, err = FindRSDP(fakeMem{})
	assert.ErrorContains(t, err, "cannot read the BIOS area")
}

func TestFindRSDPWithHoles(t *testing.T) {
	m := fakeMem{}
	m.write(0xf5000, rsdpV1(qemuRSDT)) // only this page of the BIOS area exists
	m.write(0xe0000, []byte{0})
	pa, err := FindRSDP(m)
	require.NoError(t, err)
	assert.Equal(t, uint64(0xf5000), pa)
}

func checkQEMU(t *testing.T, tabs *Tables) {
	t.Helper()
	sigs := []string{}
	for _, tab := range tabs.All {
		sigs = append(sigs, tab.Signature)
	}
	assert.Equal(t, []string{"FACP", "APIC", "HPET", "MCFG", "DMAR"}, sigs)
	dmar, ok := tabs.Find("DMAR")
	require.True(t, ok)
	assert.Equal(t, Table{Signature: "DMAR", Addr: qemuDMAR, Length: uint32(len(qemuDMARTable())), Revision: 1, OEMID: "BOCHS"}, dmar)

	assert.Equal(t, []ECAM{{Base: 0xb0000000, Segment: 0, StartBus: 0, EndBus: 0xff}}, tabs.MCFG)

	require.NotNil(t, tabs.MADT)
	assert.Equal(t, &MADT{
		LocalAPIC: 0xfee00000,
		Flags:     MADTPCATCompat,
		LocalAPICs: []LocalAPIC{
			{ProcessorUID: 0, ID: 0, Flags: LocalAPICEnabled},
			{ProcessorUID: 1, ID: 1, Flags: LocalAPICEnabled},
			{ProcessorUID: 2, ID: 2, Flags: 0},
		},
		IOAPICs:   []IOAPIC{{ID: 0, Addr: 0xfec00000, GSIBase: 0}},
		Overrides: []Override{{Bus: 0, Source: 0, GSI: 2}, {Bus: 0, Source: 9, GSI: 9, Flags: 0xd}},
	}, tabs.MADT)
	assert.False(t, tabs.MADT.LocalAPICs[2].Usable())

	assert.Equal(t, &DMAR{
		HostAddressWidth: 39,
		Flags:            DMARIntrRemap,
		DRHDs: []DRHD{{
			Flags: DRHDIncludePCIAll, RegBase: 0xfed90000,
			Scopes: []Scope{{Type: ScopeIOAPIC, EnumID: 0, StartBus: 0xff, Path: []PathEntry{{0, 0}}}},
		}},
	}, tabs.DMAR)
}

func TestParseQEMURSDT(t *testing.T) {
	tabs, err := Parse(qemuMachine(false), qemuRSDP)
	require.NoError(t, err)
	assert.Equal(t, "RSDT", tabs.RootSig)
	assert.Equal(t, uint64(qemuRSDT), tabs.Root)
	assert.Equal(t, "BOCHS", tabs.OEMID)
	checkQEMU(t, tabs)
	assert.Equal(t, "acpi: RSDP 0xf5a40 rev 0, RSDT 0x7ffe2000: FACP APIC HPET MCFG DMAR", tabs.String())
}

func TestParseQEMUXSDT(t *testing.T) {
	tabs, err := Parse(qemuMachine(true), qemuRSDP)
	require.NoError(t, err)
	checkQEMU(t, tabs)
	assert.Equal(t, "acpi: RSDP 0xf5a40 rev 2, XSDT 0x7ffe2100: FACP APIC HPET MCFG DMAR", tabs.String())
}

func TestParseRevision2WithoutXSDTUsesRSDT(t *testing.T) {
	m := qemuMachine(false)
	m.write(qemuRSDP, rsdpV2(qemuRSDT, 0))
	tabs, err := Parse(m, qemuRSDP)
	require.NoError(t, err)
	assert.Equal(t, "RSDT", tabs.RootSig)
	checkQEMU(t, tabs)
}

func TestParseTableAbove4GiBThroughXSDT(t *testing.T) {
	m := qemuMachine(true)
	m.write(0x1_0000_0000, qemuHPETTable())
	m.write(qemuXSDT, acpiTable("XSDT", 1, uint64(qemuAPIC), uint64(0x1_0000_0000)))
	tabs, err := Parse(m, qemuRSDP)
	require.NoError(t, err)
	assert.Equal(t, "acpi: RSDP 0xf5a40 rev 2, XSDT 0x7ffe2100: APIC HPET", tabs.String())
}

func TestParseDMARWithRMRRAndPaths(t *testing.T) {
	m := qemuMachine(false)
	m.write(qemuDMAR, acpiTable("DMAR", 1, uint8(45), uint8(DMARIntrRemap|DMARX2APICOptOut), 10,
		// DRHD for one endpoint behind a bridge, segment 1.
		uint16(0), uint16(26), uint8(0), uint8(0), uint16(1), uint64(0xfed91000),
		uint8(ScopePCIEndpoint), uint8(10), uint16(0), uint8(0), uint8(0), uint8(0x1c), uint8(0), uint8(0), uint8(0),
		// An unknown type 99 of 12 bytes.
		uint16(99), uint16(12), 8,
		// RMRR for the USB controller 00:14.0.
		uint16(1), uint16(32), uint16(0), uint16(0), uint64(0x7d000000), uint64(0x7d01ffff),
		uint8(ScopePCIEndpoint), uint8(8), uint16(0), uint8(0), uint8(0), uint8(0x14), uint8(0),
	))
	tabs, err := Parse(m, qemuRSDP)
	require.NoError(t, err)
	assert.Equal(t, &DMAR{
		HostAddressWidth: 46,
		Flags:            DMARIntrRemap | DMARX2APICOptOut,
		DRHDs: []DRHD{{Segment: 1, RegBase: 0xfed91000, Scopes: []Scope{
			{Type: ScopePCIEndpoint, Path: []PathEntry{{0x1c, 0}, {0, 0}}},
		}}},
		RMRRs: []RMRR{{Base: 0x7d000000, Limit: 0x7d01ffff, Scopes: []Scope{
			{Type: ScopePCIEndpoint, Path: []PathEntry{{0x14, 0}}},
		}}},
	}, tabs.DMAR)
}

func TestMalformed(t *testing.T) {
	at := func(a uint64) string { return fmt.Sprintf("%#x", a) }
	tests := []struct {
		name    string
		xsdt    bool
		corrupt func(m fakeMem)
		want    string
	}{
		{"RSDP checksum", false, func(m fakeMem) { m.write(qemuRSDP+8, []byte{0}) },
			"acpi: RSDP at 0xf5a40: ACPI 1.0 checksum is off by"},
		{"RSDP extended checksum", true, func(m fakeMem) { m.write(qemuRSDP+32, []byte{0x55}) },
			"acpi: RSDP at 0xf5a40: extended checksum over 36 bytes is off by"},
		{"RSDP extended length", true, func(m fakeMem) {
			m.write(qemuRSDP+20, []byte{0xff, 0xff, 0, 0})
			m.fix(qemuRSDP, 20, 8)
		}, "acpi: RSDP at 0xf5a40 (revision 2): length 65535 is not in [36, 4096]"},
		{"RSDP no signature", false, func(m fakeMem) { m.write(qemuRSDP, []byte("RSD PTX")) },
			`signature "RSD PTX "`},
		{"RSDT address 0", false, func(m fakeMem) { m.write(qemuRSDP, rsdpV1(0)) },
			"acpi: RSDP at 0xf5a40: RSDT address is 0"},
		{"RSDT unreadable", false, func(m fakeMem) { m.write(qemuRSDP, rsdpV1(0x40000000)) },
			"acpi: RSDT (from the RSDP): reading 36 bytes at 0x40000000: no memory at 0x40000000"},
		{"RSDT is not one", false, func(m fakeMem) { m.write(qemuRSDP, rsdpV1(qemuFACP)) },
			"acpi: FACP at " + at(qemuFACP) + ": the RSDP points here for a RSDT"},
		{"RSDT odd length", false, func(m fakeMem) {
			m.write(qemuRSDT, acpiTable("RSDT", 1, uint32(qemuFACP), uint8(1)))
		}, "acpi: RSDT at 0x7ffe2000: length 41 leaves 5 bytes after the header, not a whole number of 4-byte entries"},
		{"XSDT odd length", true, func(m fakeMem) {
			m.write(qemuXSDT, acpiTable("XSDT", 1, uint64(qemuFACP), uint32(1)))
		}, "acpi: XSDT at 0x7ffe2100: length 48 leaves 12 bytes after the header, not a whole number of 8-byte entries"},
		{"RSDT points at itself", false, func(m fakeMem) {
			m.write(qemuRSDT, acpiTable("RSDT", 1, uint32(qemuFACP), uint32(qemuRSDT)))
		}, "acpi: RSDT at 0x7ffe2000: entry 1 points back at 0x7ffe2000"},
		{"XSDT points at the RSDP", true, func(m fakeMem) {
			m.write(qemuXSDT, acpiTable("XSDT", 1, uint64(qemuRSDP)))
		}, "acpi: XSDT at 0x7ffe2100: entry 0 points back at 0xf5a40"},
		{"duplicate entry", false, func(m fakeMem) {
			m.write(qemuRSDT, acpiTable("RSDT", 1, uint32(qemuFACP), uint32(qemuAPIC), uint32(qemuFACP)))
		}, "acpi: RSDT at 0x7ffe2000: entries 0 and 2 both point at 0x7ffe3000"},
		{"null entry", false, func(m fakeMem) {
			m.write(qemuRSDT, acpiTable("RSDT", 1, uint32(0)))
		}, "acpi: RSDT at 0x7ffe2000: entry 0 is a null pointer"},
		{"table length 0", false, func(m fakeMem) {
			m.write(qemuHPET+4, []byte{0, 0, 0, 0})
		}, "acpi: HPET at 0x7ffe3300: length 0 is shorter than the 36-byte header"},
		{"table too long", false, func(m fakeMem) {
			m.write(qemuHPET+4, []byte{0, 0, 0, 0x10})
		}, "acpi: HPET at 0x7ffe3300: length 268435456 is more than 1048576"},
		{"table past memory", false, func(m fakeMem) {
			m.write(qemuHPET+4, []byte{0, 0, 0x10, 0})
		}, "acpi: HPET at 0x7ffe3300: reading 1048576 bytes at 0x7ffe3300: no memory at 0x7ffe4000"},
		{"table checksum", false, func(m fakeMem) { m.write(qemuHPET+40, []byte{1}) },
			"acpi: HPET at 0x7ffe3300: checksum over 56 bytes is off by 0x1"},
		{"table past 4 GiB from the RSDT", false, func(m fakeMem) {
			m.write(0xffffffd8, qemuHPETTable())
			m.write(qemuRSDT, acpiTable("RSDT", 1, uint32(0xffffffd8)))
		}, "acpi: HPET at 0xffffffd8: length 56 runs to 0x100000010, past 0x100000000"},
		{"header past 4 GiB from the RSDT", false, func(m fakeMem) {
			m.write(qemuRSDT, acpiTable("RSDT", 1, uint32(0xfffffff0)))
		}, "acpi: RSDT entry 0 at 0xfffffff0: header is past 0x100000000"},
		{"table past the physical limit", true, func(m fakeMem) {
			m.write(qemuXSDT, acpiTable("XSDT", 1, uint64(1<<52-8)))
		}, "acpi: XSDT entry 0 at 0xffffffffffff8: header is past 0x10000000000000"},
		{"second MADT", false, func(m fakeMem) {
			m.write(qemuHPET, qemuMADT())
		}, "acpi: APIC at 0x7ffe3300: a second APIC table"},
		{"MADT entry length 0", false, func(m fakeMem) {
			m.write(qemuAPIC, acpiTable("APIC", 1, uint32(0xfee00000), uint32(1), uint8(0), uint8(0), 6))
		}, "acpi: APIC at 0x7ffe3200: entry at offset 44 has length 0"},
		{"MADT entry past the end", false, func(m fakeMem) {
			m.write(qemuAPIC, acpiTable("APIC", 1, uint32(0xfee00000), uint32(1), uint8(1), uint8(13), 10))
		}, "acpi: APIC at 0x7ffe3200: entry at offset 44 has length 13, past the table's end at 56"},
		{"MADT IOAPIC too short", false, func(m fakeMem) {
			m.write(qemuAPIC, acpiTable("APIC", 1, uint32(0xfee00000), uint32(1), uint8(1), uint8(8), 6))
		}, "acpi: APIC at 0x7ffe3200: entry at offset 44 (type 1) has length 8, less than 12"},
		{"MADT one byte left", false, func(m fakeMem) {
			m.write(qemuAPIC, acpiTable("APIC", 1, uint32(0xfee00000), uint32(1), uint8(0)))
		}, "acpi: APIC at 0x7ffe3200: entry at offset 44: 1 bytes left, no room for its type and length"},
		{"MADT too short", false, func(m fakeMem) { m.write(qemuAPIC, acpiTable("APIC", 1, uint32(0))) },
			"acpi: APIC at 0x7ffe3200: length 40 is shorter than 44"},
		{"MCFG partial entry", false, func(m fakeMem) {
			m.write(qemuMCFG, acpiTable("MCFG", 1, 8, uint64(0xb0000000), 4))
		}, "acpi: MCFG at 0x7ffe3400: length 56 is not 44 bytes plus whole 16-byte entries"},
		{"MCFG buses backwards", false, func(m fakeMem) {
			m.write(qemuMCFG, acpiTable("MCFG", 1, 8, uint64(0xb0000000), uint16(0), uint8(4), uint8(3), 4))
		}, "acpi: MCFG at 0x7ffe3400: entry at offset 44: end bus 0x3 is below start bus 0x4"},
		{"MCFG unaligned", false, func(m fakeMem) {
			m.write(qemuMCFG, acpiTable("MCFG", 1, 8, uint64(0xb0001000), uint16(0), uint8(0), uint8(3), 4))
		}, "acpi: MCFG at 0x7ffe3400: entry at offset 44: base 0xb0001000 is not 1 MiB aligned"},
		{"DMAR structure length 0", false, func(m fakeMem) {
			m.write(qemuDMAR, acpiTable("DMAR", 1, uint8(38), uint8(1), 10, uint16(0), uint16(0), 12))
		}, "acpi: DMAR at 0x7ffe3500: remapping structure at offset 48 has length 0"},
		{"DMAR structure past the end", false, func(m fakeMem) {
			m.write(qemuDMAR, acpiTable("DMAR", 1, uint8(38), uint8(1), 10, uint16(0), uint16(17), 12))
		}, "acpi: DMAR at 0x7ffe3500: remapping structure at offset 48 has length 17, past the table's end at 64"},
		{"DMAR trailing bytes", false, func(m fakeMem) {
			m.write(qemuDMAR, acpiTable("DMAR", 1, uint8(38), uint8(1), 10, 3))
		}, "acpi: DMAR at 0x7ffe3500: remapping structure at offset 48: 3 bytes left, no room for its type and length"},
		{"DRHD too short", false, func(m fakeMem) {
			m.write(qemuDMAR, acpiTable("DMAR", 1, uint8(38), uint8(1), 10, uint16(0), uint16(8), 4))
		}, "acpi: DMAR at 0x7ffe3500: DRHD at offset 48: length 8 is shorter than 16"},
		{"DRHD scope length 0", false, func(m fakeMem) {
			m.write(qemuDMAR, acpiTable("DMAR", 1, uint8(38), uint8(1), 10,
				uint16(0), uint16(24), uint8(1), uint8(0), uint16(0), uint64(0xfed90000), uint8(3), uint8(0), 6))
		}, "acpi: DMAR at 0x7ffe3500: DRHD at offset 48: device scope at offset 16 has length 0, less than 6"},
		{"DRHD scope odd path", false, func(m fakeMem) {
			m.write(qemuDMAR, acpiTable("DMAR", 1, uint8(38), uint8(1), 10,
				uint16(0), uint16(23), uint8(1), uint8(0), uint16(0), uint64(0xfed90000), uint8(3), uint8(7), 5))
		}, "acpi: DMAR at 0x7ffe3500: DRHD at offset 48: device scope at offset 16 has length 7, an odd number of path bytes"},
		{"DRHD scope past the structure", false, func(m fakeMem) {
			m.write(qemuDMAR, acpiTable("DMAR", 1, uint8(38), uint8(1), 10,
				uint16(0), uint16(24), uint8(1), uint8(0), uint16(0), uint64(0xfed90000), uint8(3), uint8(10), 6))
		}, "acpi: DMAR at 0x7ffe3500: DRHD at offset 48: device scope at offset 16 has length 10, past the structure's end at 24"},
		{"RMRR backwards", false, func(m fakeMem) {
			m.write(qemuDMAR, acpiTable("DMAR", 1, uint8(38), uint8(1), 10,
				uint16(1), uint16(24), uint32(0), uint64(0x2000), uint64(0x1fff)))
		}, "acpi: DMAR at 0x7ffe3500: RMRR at offset 48: limit 0x1fff is below base 0x2000"},
		{"DMAR too short", false, func(m fakeMem) { m.write(qemuDMAR, acpiTable("DMAR", 1, uint8(38))) },
			"acpi: DMAR at 0x7ffe3500: length 37 is shorter than 48"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := qemuMachine(tt.xsdt)
			tt.corrupt(m)
			tabs, err := Parse(m, qemuRSDP)
			assert.Nil(t, tabs)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestTooManyEntries(t *testing.T) {
	m := qemuMachine(false)
	entries := make([]any, maxTables+1)
	for i := range entries {
		entries[i] = uint32(qemuFACP + 0x10*i)
	}
	m.write(qemuRSDT, acpiTable("RSDT", 1, entries...))
	_, err := Parse(m, qemuRSDP)
	assert.EqualError(t, err, "acpi: RSDT at 0x7ffe2000: 513 entries, more than 512")

	m = qemuMachine(false)
	body := []any{uint32(0xfee00000), uint32(1)}
	for range maxStructures + 1 {
		body = append(body, uint8(4), uint8(2))
	}
	m.write(qemuAPIC, acpiTable("APIC", 1, body...))
	_, err = Parse(m, qemuRSDP)
	assert.EqualError(t, err, "acpi: APIC at 0x7ffe3200: more than 8192 entries")
}
