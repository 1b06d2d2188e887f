package acpi

import (
	"encoding/binary"
	"fmt"
)

// fakeMem is sparse physical memory: 4 KiB pages that exist only once written. Reading a
// missing page fails, as reading past the core's direct map would.
type fakeMem map[uint64]*[4096]byte

func (m fakeMem) ReadAt(p []byte, pa int64) (int, error) {
	for n := range p {
		a := uint64(pa) + uint64(n)
		page, ok := m[a>>12]
		if !ok {
			return n, fmt.Errorf("no memory at %#x", a)
		}
		p[n] = page[a&4095]
	}
	return len(p), nil
}

func (m fakeMem) write(pa uint64, b []byte) {
	for n, c := range b {
		a := pa + uint64(n)
		if m[a>>12] == nil {
			m[a>>12] = new([4096]byte)
		}
		m[a>>12][a&4095] = c
	}
}

func (m fakeMem) put16(pa uint64, v uint16) { m.write(pa, binary.LittleEndian.AppendUint16(nil, v)) }

// fix sets byte at of the n bytes at pa so that they sum to zero.
func (m fakeMem) fix(pa uint64, n int, at int) {
	b := make([]byte, n)
	if _, err := m.ReadAt(b, int64(pa)); err != nil {
		panic(err)
	}
	b[at] = 0
	m.write(pa+uint64(at), []byte{-sum(b)})
}

// bytes builds little-endian byte strings: uint8, uint16, uint32, uint64, string, []byte.
func bytes(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case uint8:
			b = append(b, v)
		case uint16:
			b = binary.LittleEndian.AppendUint16(b, v)
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		case uint64:
			b = binary.LittleEndian.AppendUint64(b, v)
		case int:
			b = append(b, make([]byte, v)...) // n zero bytes
		case string:
			b = append(b, v...)
		case []byte:
			b = append(b, v...)
		default:
			panic(fmt.Sprintf("bytes: %T", p))
		}
	}
	return b
}

// acpiTable wraps body in a description header with the right length and checksum.
func acpiTable(sig string, rev uint8, body ...any) []byte {
	b := bytes(sig, uint32(0), rev, uint8(0), "BOCHS ", "BXPC    ", uint32(1), "BXPC", uint32(1))
	b = append(b, bytes(body...)...)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
	b[9] = -sum(b)
	return b
}

func rsdpV1(rsdt uint32) []byte {
	b := bytes(rsdpSignature, uint8(0), "BOCHS ", uint8(0), rsdt)
	b[8] = -sum(b)
	return b
}

func rsdpV2(rsdt uint32, xsdt uint64) []byte {
	b := bytes(rsdpSignature, uint8(0), "BOCHS ", uint8(2), rsdt, uint32(36), xsdt, uint8(0), 3)
	b[8] = -sum(b[:20])
	b[32] = -sum(b)
	return b
}

// What QEMU's q35 machine with -device intel-iommu,intremap=on,device-iotlb=on emits
// (hw/i386/acpi-build.c), at the addresses below.
const (
	qemuRSDP = 0xf5a40
	qemuRSDT = 0x7ffe2000
	qemuXSDT = 0x7ffe2100
	qemuFACP = 0x7ffe3000
	qemuAPIC = 0x7ffe3200
	qemuHPET = 0x7ffe3300
	qemuMCFG = 0x7ffe3400
	qemuDMAR = 0x7ffe3500
)

var qemuAddrs = []uint64{qemuFACP, qemuAPIC, qemuHPET, qemuMCFG, qemuDMAR}

func qemuFACPTable() []byte { return acpiTable("FACP", 1, 80) }

func qemuMADT() []byte {
	return acpiTable("APIC", 1, uint32(0xfee00000), uint32(MADTPCATCompat),
		uint8(0), uint8(8), uint8(0), uint8(0), uint32(1), // CPU 0
		uint8(0), uint8(8), uint8(1), uint8(1), uint32(1), // CPU 1
		uint8(0), uint8(8), uint8(2), uint8(2), uint32(0), // CPU 2, absent
		uint8(1), uint8(12), uint8(0), uint8(0), uint32(0xfec00000), uint32(0), // IOAPIC 0
		uint8(2), uint8(10), uint8(0), uint8(0), uint32(2), uint16(0), // IRQ 0 -> GSI 2
		uint8(2), uint8(10), uint8(0), uint8(9), uint32(9), uint16(0xd), // IRQ 9 level high
		uint8(4), uint8(6), uint8(0xff), uint16(0), uint8(1), // local APIC NMI: skipped
	)
}

func qemuHPETTable() []byte { return acpiTable("HPET", 1, uint32(0x8086a201), 16) }

func qemuMCFGTable() []byte {
	return acpiTable("MCFG", 1, 8, uint64(0xb0000000), uint16(0), uint8(0), uint8(0xff), 4)
}

func qemuDMARTable() []byte {
	return acpiTable("DMAR", 1, uint8(39-1), uint8(DMARIntrRemap), 10,
		// DRHD: INCLUDE_PCI_ALL, segment 0, registers at 0xfed90000, the IOAPIC's scope.
		uint16(0), uint16(24), uint8(DRHDIncludePCIAll), uint8(0), uint16(0), uint64(0xfed90000),
		uint8(ScopeIOAPIC), uint8(8), uint16(0), uint8(0), uint8(0xff), uint8(0), uint8(0),
		// ATSR: ALL_PORTS, segment 0 (skipped).
		uint16(2), uint16(8), uint8(1), uint8(0), uint16(0),
	)
}

// qemuMachine lays QEMU's tables out in fake memory with an RSDT and an XSDT; the RSDP is
// revision 0 (RSDT only) unless xsdt.
func qemuMachine(xsdt bool) fakeMem {
	m := fakeMem{}
	m.write(0, make([]byte, 0x1000)) // BDA: EBDA segment 0, none
	m.write(0x80000, make([]byte, 0x20000))
	m.write(biosAreaStart, make([]byte, biosAreaEnd-biosAreaStart))
	if xsdt {
		m.write(qemuRSDP, rsdpV2(qemuRSDT, qemuXSDT))
	} else {
		m.write(qemuRSDP, rsdpV1(qemuRSDT))
	}
	var r, x []any
	for _, a := range qemuAddrs {
		r = append(r, uint32(a))
		x = append(x, a)
	}
	m.write(qemuRSDT, acpiTable("RSDT", 1, r...))
	m.write(qemuXSDT, acpiTable("XSDT", 1, x...))
	m.write(qemuFACP, qemuFACPTable())
	m.write(qemuAPIC, qemuMADT())
	m.write(qemuHPET, qemuHPETTable())
	m.write(qemuMCFG, qemuMCFGTable())
	m.write(qemuDMAR, qemuDMARTable())
	return m
}
