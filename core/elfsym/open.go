// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// Package elfsym turns instruction addresses into function names using the .symtab of
// an ELF64 x86-64 image already in memory. Every read is bounds-checked against the
// image, so garbage input gives ok=false rather than a fault.
package elfsym

// ELF constants we need (see the System V gABI).
const (
	elfHeaderSize  = 64
	sectionHdrSize = 64
	symbolSize     = 24
	classELF64     = 2
	dataLittle     = 1
	machineX86_64  = 62
	sectionSymtab  = 2
	sectionStrtab  = 3
)

// Offsets in the ELF header and in a section header.
const (
	offShoff     = 40
	offShentsize = 58
	offShnum     = 60

	offShType   = 4
	offShOffset = 24
	offShSize   = 32
	offShLink   = 40
	offShEntsz  = 56
)

// maxEntrySize rejects absurd sh_entsize values; real symbols are 24 bytes.
const maxEntrySize = 4096

// Table locates a symbol table and its string table inside a loaded image.
type Table struct {
	symtab  uintptr // address of the first symbol
	count   uintptr // number of symbols
	entsize uintptr // bytes per symbol (>= 24)
	strtab  uintptr // address of the string table
	strsize uintptr // bytes in the string table
}

// Open validates the ELF64 little-endian x86-64 image at [base, base+size) and finds its
// SHT_SYMTAB and the linked SHT_STRTAB.
//
//go:nosplit
func Open(base, size uintptr) (t Table, ok bool) {
	if base != 0 && size >= elfHeaderSize && base+size > base && validIdent(base) {
		t, ok = openSymtab(base, size)
	}
	return t, ok
}

// findSymtab returns the addresses of the first SHT_SYMTAB section header and of the
// header its sh_link names, after checking the header table lies inside the image.
//
//go:nosplit
func findSymtab(base uintptr, size uint64) (symHdr, strHdr uintptr, ok bool) {
	shoff := read64(base + offShoff)
	shentsize := uint64(read16(base + offShentsize))
	shnum := uint64(read16(base + offShnum))
	if shentsize < sectionHdrSize || !within(shoff, shnum*shentsize, size) {
		return 0, 0, false
	}
	table := base + uintptr(shoff)
	for n := uint64(0); n < shnum; n++ {
		hdr := table + uintptr(n*shentsize)
		if read32(hdr+offShType) != sectionSymtab {
			continue
		}
		link := uint64(read32(hdr + offShLink))
		if link >= shnum {
			return 0, 0, false
		}
		return hdr, table + uintptr(link*shentsize), true
	}
	return 0, 0, false
}

// validIdent checks magic, class, byte order and machine.
//
//go:nosplit
func validIdent(base uintptr) bool {
	return read32(base) == 0x464c457f && // "\x7fELF"
		read8(base+4) == classELF64 &&
		read8(base+5) == dataLittle &&
		read16(base+18) == machineX86_64
}

// openSymtab builds a Table from the symtab section and its string table.
//
//go:nosplit
func openSymtab(base, size uintptr) (Table, bool) {
	symHdr, strHdr, ok := findSymtab(base, uint64(size))
	if !ok {
		return Table{}, false
	}
	symOff, symSize := read64(symHdr+offShOffset), read64(symHdr+offShSize)
	entsize := read64(symHdr + offShEntsz)
	if entsize < symbolSize || entsize > maxEntrySize {
		return Table{}, false
	}
	strOff, strSize := read64(strHdr+offShOffset), read64(strHdr+offShSize)
	if !within(symOff, symSize, uint64(size)) ||
		read32(strHdr+offShType) != sectionStrtab ||
		!within(strOff, strSize, uint64(size)) {
		return Table{}, false
	}
	return Table{
		symtab:  base + uintptr(symOff),
		count:   uintptr(symSize / entsize),
		entsize: uintptr(entsize),
		strtab:  base + uintptr(strOff),
		strsize: uintptr(strSize),
	}, true
}

// Count returns the number of entries in the symbol table (including the null symbol).
//
//go:nosplit
func (t Table) Count() int { return int(t.count) }
