package acpi

import "fmt"

// Parse reads the RSDP at rsdpAddr, then the XSDT (revision 2 and up with a non-zero
// XsdtAddress) or else the RSDT, then every table they list, verifying each checksum, and
// decodes the MCFG, MADT and DMAR. The first fault found is returned, naming its table.
func Parse(mem Memory, rsdpAddr uint64) (*Tables, error) {
	r, err := readRSDP(mem, rsdpAddr)
	if err != nil {
		return nil, err
	}
	t := &Tables{RSDP: rsdpAddr, Revision: r.revision, OEMID: r.oemID}
	entrySize, limit := rsdtEntrySize, uint64(fourGiB)
	t.Root, t.RootSig = uint64(r.rsdt), "RSDT"
	if r.revision >= 2 && r.xsdt != 0 {
		entrySize, limit = xsdtEntrySize, maxPhysAddr
		t.Root, t.RootSig = r.xsdt, "XSDT"
	}
	if t.Root == 0 {
		return nil, fmt.Errorf("acpi: RSDP at %#x: %s address is 0", rsdpAddr, t.RootSig)
	}
	root, err := readTable(mem, t.Root, limit, t.RootSig+" (from the RSDP)")
	if err != nil {
		return nil, err
	}
	if root.sig != t.RootSig {
		return nil, root.errorf("the RSDP points here for a %s", t.RootSig)
	}
	entries, err := rootEntries(root, entrySize)
	if err != nil {
		return nil, err
	}
	seen := map[uint64]int{}
	for i, addr := range entries {
		if err := t.add(mem, root, i, addr, limit, seen); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// rootEntries returns the table addresses an RSDT or XSDT lists.
func rootEntries(root *table, size int) ([]uint64, error) {
	body := len(root.data) - headerSize
	if body%size != 0 {
		return nil, root.errorf("length %d leaves %d bytes after the header, not a whole number of %d-byte entries",
			len(root.data), body, size)
	}
	if body/size > maxTables {
		return nil, root.errorf("%d entries, more than %d", body/size, maxTables)
	}
	entries := make([]uint64, 0, body/size)
	for off := headerSize; off < len(root.data); off += size {
		if size == xsdtEntrySize {
			entries = append(entries, le64(root.data, off))
		} else {
			entries = append(entries, uint64(le32(root.data, off)))
		}
	}
	return entries, nil
}

// add reads the table root's entry i points to, lists it and decodes it if it is one of ours.
func (t *Tables) add(mem Memory, root *table, i int, addr, limit uint64, seen map[uint64]int) error {
	switch prev, dup := seen[addr]; {
	case addr == 0:
		return root.errorf("entry %d is a null pointer", i)
	case addr == root.addr || addr == t.RSDP:
		return root.errorf("entry %d points back at %#x", i, addr)
	case dup:
		return root.errorf("entries %d and %d both point at %#x", prev, i, addr)
	}
	seen[addr] = i
	tab, err := readTable(mem, addr, limit, fmt.Sprintf("%s entry %d", t.RootSig, i))
	if err != nil {
		return err
	}
	t.All = append(t.All, Table{
		Signature: tab.sig, Addr: addr, Length: uint32(len(tab.data)),
		Revision: tab.data[8], OEMID: oemID(tab.data[10:16]),
	})
	decode := map[string]func(*table) error{
		"MCFG": t.decodeMCFG,
		"APIC": t.decodeMADT,
		"DMAR": t.decodeDMAR,
	}[tab.sig]
	if decode == nil {
		return nil
	}
	if n := t.count(tab.sig); n > 1 {
		return tab.errorf("a second %s table", tab.sig)
	}
	return decode(tab)
}

func (t *Tables) count(sig string) int {
	n := 0
	for _, tab := range t.All {
		if tab.Signature == sig {
			n++
		}
	}
	return n
}

// readTable reads the whole table at addr, which must end at or below limit, and checks its
// length and checksum. what names the pointer it came from, for errors before the
// signature is known.
func readTable(mem Memory, addr, limit uint64, what string) (*table, error) {
	if addr >= limit || limit-addr < headerSize {
		return nil, fmt.Errorf("acpi: %s at %#x: header is past %#x", what, addr, limit)
	}
	hdr, err := read(mem, addr, headerSize)
	if err != nil {
		return nil, fmt.Errorf("acpi: %s: %w", what, err)
	}
	tab := &table{sig: signature(hdr[:tableSigLength]), addr: addr}
	length := uint64(le32(hdr, 4))
	switch {
	case length < headerSize:
		return nil, tab.errorf("length %d is shorter than the %d-byte header", length, headerSize)
	case length > maxTableSize:
		return nil, tab.errorf("length %d is more than %d", length, maxTableSize)
	case length > limit-addr:
		return nil, tab.errorf("length %d runs to %#x, past %#x", length, addr+length, limit)
	}
	if tab.data, err = read(mem, addr, int(length)); err != nil {
		return nil, tab.errorf("%v", err)
	}
	if s := sum(tab.data); s != 0 {
		return nil, tab.errorf("checksum over %d bytes is off by %#x", length, s)
	}
	return tab, nil
}
