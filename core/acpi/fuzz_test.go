package acpi

import (
	"encoding/binary"
	"testing"
)

// fuzzBase is where FuzzParse's image sits: the BIOS area, so FindRSDP finds an RSDP at
// its start. Nothing else is memory.
const fuzzBase = biosAreaStart

// fuzzImage is physical memory holding only data at fuzzBase, in whole 4 KiB pages (the
// rest of the last page reads as zeros).
type fuzzImage []byte

func (m fuzzImage) size() int64 { return (int64(len(m)) + 4095) &^ 4095 }

func (m fuzzImage) ReadAt(p []byte, pa int64) (int, error) {
	if pa < fuzzBase || pa-fuzzBase >= m.size() {
		return 0, errNoMemory
	}
	off := pa - fuzzBase
	n := min(int64(len(p)), m.size()-off)
	clear(p[:n])
	if off < int64(len(m)) {
		copy(p[:n], m[off:])
	}
	if n < int64(len(p)) {
		return int(n), errNoMemory
	}
	return int(n), nil
}

var errNoMemory = &memError{}

type memError struct{}

func (*memError) Error() string { return "no memory" }

// fixChecksums makes the checksums right for an RSDP at the image's start, its root table
// and every table the root lists inside the image, so mutations get past them and reach
// the decoders. It trusts nothing: every offset is bounds checked.
func fixChecksums(img []byte) {
	if len(img) < rsdpV2Length || string(img[:8]) != rsdpSignature {
		return
	}
	fixAt := func(off, n, at int) {
		if off < 0 || n < 0 || off+n > len(img) || at >= n {
			return
		}
		img[off+at] = 0
		img[off+at] = -sum(img[off : off+n])
	}
	fixAt(0, rsdpV1Length, 8)
	fixAt(0, rsdpV2Length, 32)
	root, size := int64(le32(img, 16))-fuzzBase, 4
	if img[15] >= 2 && le64(img, 24) != 0 {
		root, size = int64(le64(img, 24))-fuzzBase, 8
	}
	tableAt := func(off int64) (int, int, bool) {
		if off < 0 || off+headerSize > int64(len(img)) {
			return 0, 0, false
		}
		n := int(le32(img, int(off)+4))
		if n < headerSize || int64(n) > int64(len(img))-off {
			return 0, 0, false
		}
		return int(off), n, true
	}
	r, n, ok := tableAt(root)
	if !ok {
		return
	}
	for e := r + headerSize; e+size <= r+n; e += size {
		var a int64
		if size == 8 {
			a = int64(le64(img, e))
		} else {
			a = int64(le32(img, e))
		}
		if t, tn, ok := tableAt(a - fuzzBase); ok && t != r {
			fixAt(t, tn, 9)
		}
	}
	fixAt(r, n, 9)
}

// fuzzSeed lays QEMU's tables out in one image at fuzzBase.
func fuzzSeed(xsdt bool, tables ...[]byte) []byte {
	img := make([]byte, 0x40)
	var addrs []uint64
	for _, t := range tables {
		addrs = append(addrs, uint64(fuzzBase+len(img)))
		img = append(img, t...)
	}
	var r, x []any
	for _, a := range addrs {
		r, x = append(r, uint32(a)), append(x, a)
	}
	rsdt := uint64(fuzzBase + len(img))
	img = append(img, acpiTable("RSDT", 1, r...)...)
	if xsdt {
		xa := uint64(fuzzBase + len(img))
		img = append(img, acpiTable("XSDT", 1, x...)...)
		copy(img, rsdpV2(uint32(rsdt), xa))
	} else {
		copy(img, rsdpV1(uint32(rsdt)))
	}
	return img
}

// FuzzParse mutates a memory image holding an RSDP, its root table and tables, fixing the
// checksums, and checks FindRSDP and Parse never panic or hang and that what Parse
// returns is consistent.
func FuzzParse(f *testing.F) {
	all := [][]byte{qemuFACPTable(), qemuMADT(), qemuHPETTable(), qemuMCFGTable(), qemuDMARTable()}
	f.Add(fuzzSeed(false, all...))
	f.Add(fuzzSeed(true, all...))
	f.Add(fuzzSeed(true, qemuDMARTable()))
	f.Add(fuzzSeed(false, qemuMADT()))
	f.Fuzz(func(t *testing.T, img []byte) {
		if len(img) > 1<<16 {
			return
		}
		img = append([]byte(nil), img...) // the fuzzer's input is not ours to change
		fixChecksums(img)
		mem := fuzzImage(img)
		pa, err := FindRSDP(mem)
		if err != nil {
			pa = fuzzBase
		}
		tabs, err := Parse(mem, pa)
		if err != nil {
			if tabs != nil {
				t.Fatalf("tables and error %v", err)
			}
			return
		}
		for _, tab := range tabs.All {
			if tab.Addr < fuzzBase || tab.Addr-fuzzBase+uint64(tab.Length) > uint64(mem.size()) {
				t.Fatalf("table %s at %#x+%#x outside the image", tab.Signature, tab.Addr, tab.Length)
			}
		}
		_ = tabs.String()
	})
}

// FuzzDecode feeds arbitrary bodies to the MCFG, MADT and DMAR decoders behind a valid
// header, and checks they never panic and stay within their caps.
func FuzzDecode(f *testing.F) {
	for i, tab := range [][]byte{qemuMCFGTable(), qemuMADT(), qemuDMARTable()} {
		f.Add(uint8(i), tab[headerSize:])
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		sig := []string{"MCFG", "APIC", "DMAR"}[which%3]
		data := append(acpiTable(sig, 1), body...)
		if len(data) > maxTableSize {
			return
		}
		binary.LittleEndian.PutUint32(data[4:], uint32(len(data)))
		tab := &table{sig: sig, addr: 0x1000, data: data}
		var tabs Tables
		var err error
		switch sig {
		case "MCFG":
			err = tabs.decodeMCFG(tab)
		case "APIC":
			err = tabs.decodeMADT(tab)
		case "DMAR":
			err = tabs.decodeDMAR(tab)
		}
		if err != nil {
			return
		}
		if tabs.DMAR != nil {
			for _, d := range tabs.DMAR.DRHDs {
				for _, s := range d.Scopes {
					if len(s.Path) > 128 {
						t.Fatalf("scope path of %d", len(s.Path))
					}
				}
			}
		}
		if tabs.MADT != nil && len(tabs.MADT.LocalAPICs)+len(tabs.MADT.IOAPICs)+len(tabs.MADT.Overrides) > maxStructures {
			t.Fatalf("more than %d MADT entries", maxStructures)
		}
	})
}

// The seeds must parse, or the fuzzer starts from nothing.
func TestFuzzSeedsParse(t *testing.T) {
	for _, xsdt := range []bool{false, true} {
		img := fuzzSeed(xsdt, qemuFACPTable(), qemuMADT(), qemuHPETTable(), qemuMCFGTable(), qemuDMARTable())
		fixChecksums(img)
		mem := fuzzImage(img)
		pa, err := FindRSDP(mem)
		if err != nil || pa != fuzzBase {
			t.Fatalf("FindRSDP: %#x, %v", pa, err)
		}
		tabs, err := Parse(mem, pa)
		if err != nil || tabs.DMAR == nil || tabs.MADT == nil || len(tabs.MCFG) != 1 {
			t.Fatalf("Parse: %v, %v", tabs, err)
		}
	}
}
