// Package acpi finds the ACPI tables in physical memory and decodes the few the core needs
// to set up devices: MCFG (PCI Express configuration windows), MADT (local and I/O APICs,
// interrupt source overrides) and DMAR (Intel VT-d remapping units and reserved regions).
//
// It runs at boot in ordinary goroutine context (not trap context): it allocates, and reads
// memory only through the Memory it is given. Firmware tables are input like any other:
// every length, count and pointer is checked, every checksum verified, and a malformed
// table gives an error naming the table, the fault and its offset, never a panic or a loop.
package acpi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Memory reads physical memory: the core implements it over its direct map, tests over a
// byte slice. A read that returns fewer bytes than asked is a failure, whatever the error.
type Memory interface {
	ReadAt(p []byte, pa int64) (int, error)
}

// Limits on what the firmware may describe; anything beyond them is reported as malformed.
const (
	maxTableSize   = 1 << 20 // bytes in one table
	maxTables      = 512     // entries in the RSDT or XSDT
	maxStructures  = 8192    // entries in one MADT, MCFG or DMAR
	headerSize     = 36      // the common description header
	maxPhysAddr    = 1 << 52 // x86-64's architectural physical address limit
	fourGiB        = 1 << 32 // the end of what a 32-bit pointer can describe
	maxRSDPLength  = 4096    // an RSDP's extended length, generously
	rsdpV1Length   = 20
	rsdpV2Length   = 36
	rsdpSignature  = "RSD PTR "
	rsdtEntrySize  = 4
	xsdtEntrySize  = 8
	tableSigLength = 4
)

// Table is one entry of the RSDT or XSDT, as listed.
type Table struct {
	Signature string
	Addr      uint64
	Length    uint32
	Revision  uint8
	OEMID     string
}

// Tables is what Parse found: the root tables, every table listed, and the decoded ones.
type Tables struct {
	RSDP     uint64
	Revision uint8  // the RSDP's: 0 for ACPI 1.0, 2 and up for an XSDT
	OEMID    string // the RSDP's
	Root     uint64 // the XSDT's address, or the RSDT's without one
	RootSig  string // "XSDT" or "RSDT"
	All      []Table

	MCFG []ECAM // nil without an MCFG
	MADT *MADT  // nil without a MADT ("APIC")
	DMAR *DMAR  // nil without a DMAR
}

// Find returns the first listed table with signature sig.
func (t *Tables) Find(sig string) (Table, bool) {
	for _, tab := range t.All {
		if tab.Signature == sig {
			return tab, true
		}
	}
	return Table{}, false
}

// String is one boot line: `acpi: RSDP 0xf5a40 rev 2, XSDT 0x7ffe2345: FACP APIC HPET MCFG`.
func (t *Tables) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "acpi: RSDP %#x rev %d, %s %#x:", t.RSDP, t.Revision, t.RootSig, t.Root)
	for _, tab := range t.All {
		b.WriteByte(' ')
		b.WriteString(tab.Signature)
	}
	return b.String()
}

// read returns n bytes of physical memory at pa.
func read(mem Memory, pa uint64, n int) ([]byte, error) {
	if pa >= maxPhysAddr || uint64(n) > maxPhysAddr-pa {
		return nil, fmt.Errorf("%d bytes at %#x are past the physical address limit", n, pa)
	}
	p := make([]byte, n)
	got, err := mem.ReadAt(p, int64(pa))
	if got < n {
		if err == nil {
			err = errors.New("short read")
		}
		return nil, fmt.Errorf("reading %d bytes at %#x: %w", n, pa, err)
	}
	return p, nil
}

// sum is the 8-bit sum of b: zero over a whole table or RSDP when its checksum is right.
func sum(b []byte) uint8 {
	var s uint8
	for _, c := range b {
		s += c
	}
	return s
}

// signature renders a 4-byte signature, quoted when it is not printable ASCII.
func signature(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%q", b)
		}
	}
	return string(b)
}

// oemID renders a blank-padded OEM field.
func oemID(b []byte) string {
	return strings.TrimRight(strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, string(b)), " ")
}

func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// table is one table read whole and checksummed.
type table struct {
	sig  string
	addr uint64
	data []byte
}

// errorf names the table and where it is: `acpi: DMAR at 0xffe1234: ...`.
func (t *table) errorf(format string, args ...any) error {
	return fmt.Errorf("acpi: %s at %#x: %s", t.sig, t.addr, fmt.Sprintf(format, args...))
}
