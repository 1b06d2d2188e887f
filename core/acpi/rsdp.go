package acpi

import (
	"errors"
	"fmt"
)

// Where a BIOS leaves the RSDP (ACPI 6.x section 5.2.5.1).
const (
	ebdaSegmentPtr = 0x40e   // the BIOS data area word holding the EBDA's segment
	ebdaScanLength = 1024    // the EBDA's first KiB
	biosAreaStart  = 0xe0000 // the BIOS read-only area
	biosAreaEnd    = 0x100000
	conventionalHi = 0xa0000 // an EBDA must start below the VGA hole
)

// rsdp is a checked Root System Description Pointer.
type rsdp struct {
	revision uint8
	oemID    string
	rsdt     uint32
	xsdt     uint64
}

// FindRSDP scans the first KiB of the EBDA and then 0xE0000-0xFFFFF, on 16-byte boundaries,
// for a valid RSDP and returns its physical address. A candidate counts only when its
// ACPI 1.0 checksum and, for revision 2 and up, its extended checksum are right. A machine
// booted by UEFI may have none there: its RSDP comes from the EFI system table instead.
func FindRSDP(mem Memory) (uint64, error) {
	if seg, err := read(mem, ebdaSegmentPtr, 2); err == nil {
		ebda := uint64(le16(seg, 0)) << 4
		if ebda >= 0x500 && ebda+ebdaScanLength <= conventionalHi {
			if pa, ok := scanRSDP(mem, ebda, ebdaScanLength); ok {
				return pa, nil
			}
		}
	}
	if _, err := read(mem, biosAreaStart, 16); err != nil {
		return 0, fmt.Errorf("acpi: no RSDP: cannot read the BIOS area: %w", err)
	}
	if pa, ok := scanRSDP(mem, biosAreaStart, biosAreaEnd-biosAreaStart); ok {
		return pa, nil
	}
	return 0, errors.New("acpi: no RSDP in the EBDA's first KiB or in 0xe0000-0xfffff")
}

// scanRSDP looks for a valid RSDP in [start, start+n), a page at a time: a page that
// cannot be read is skipped.
func scanRSDP(mem Memory, start uint64, n int) (uint64, bool) {
	const page = 4096
	for at := start; at < start+uint64(n); at += page {
		buf, err := read(mem, at, int(min(page, start+uint64(n)-at)))
		if err != nil {
			continue
		}
		for off := 0; off+16 <= len(buf); off += 16 {
			if string(buf[off:off+8]) != rsdpSignature {
				continue
			}
			if _, err := readRSDP(mem, at+uint64(off)); err == nil {
				return at + uint64(off), true
			}
		}
	}
	return 0, false
}

// readRSDP reads and checks the RSDP at pa.
func readRSDP(mem Memory, pa uint64) (rsdp, error) {
	v1, err := read(mem, pa, rsdpV1Length)
	if err != nil {
		return rsdp{}, fmt.Errorf("acpi: RSDP at %#x: %w", pa, err)
	}
	if string(v1[:8]) != rsdpSignature {
		return rsdp{}, fmt.Errorf("acpi: RSDP at %#x: signature %q, not %q", pa, v1[:8], rsdpSignature)
	}
	if s := sum(v1); s != 0 {
		return rsdp{}, fmt.Errorf("acpi: RSDP at %#x: ACPI 1.0 checksum is off by %#x", pa, s)
	}
	r := rsdp{revision: v1[15], oemID: oemID(v1[9:15]), rsdt: le32(v1, 16)}
	if r.revision < 2 {
		return r, nil
	}
	v2, err := read(mem, pa, rsdpV2Length)
	if err != nil {
		return rsdp{}, fmt.Errorf("acpi: RSDP at %#x (revision %d): %w", pa, r.revision, err)
	}
	length := le32(v2, 20)
	if length < rsdpV2Length || length > maxRSDPLength {
		return rsdp{}, fmt.Errorf("acpi: RSDP at %#x (revision %d): length %d is not in [%d, %d]",
			pa, r.revision, length, rsdpV2Length, maxRSDPLength)
	}
	full, err := read(mem, pa, int(length))
	if err != nil {
		return rsdp{}, fmt.Errorf("acpi: RSDP at %#x (revision %d): %w", pa, r.revision, err)
	}
	if s := sum(full); s != 0 {
		return rsdp{}, fmt.Errorf("acpi: RSDP at %#x: extended checksum over %d bytes is off by %#x", pa, length, s)
	}
	r.xsdt = le64(v2, 24)
	return r, nil
}
