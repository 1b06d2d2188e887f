package elfsym

import (
	"debug/elf"
	"encoding/binary"
)

// testSym is a symbol for buildELF.
type testSym struct {
	name        string
	value, size uint64
	typ         elf.SymType
	shndx       uint16 // 0 means "use 1" (defined); use elf.SHN_UNDEF via undefined
	undefined   bool
}

// Offsets of interesting fields in images from buildELF, for corruption tests.
type layout struct {
	strOff, symOff, shOff int
	symHdr, strHdr        int // offsets of the two section headers
}

// buildELF makes a minimal ELF64 x86-64 executable image: header, string table,
// symbol table (null symbol first), then three section headers (null, .symtab, .strtab)
// at the very end, so any truncation cuts them.
func buildELF(syms []testSym) ([]byte, layout) {
	le := binary.LittleEndian
	var l layout

	strtab := []byte{0}
	nameOff := make([]uint32, len(syms))
	for n, s := range syms {
		nameOff[n] = uint32(len(strtab))
		strtab = append(strtab, s.name...)
		strtab = append(strtab, 0)
	}

	img := make([]byte, 64)
	copy(img, "\x7fELF")
	img[4], img[5], img[6] = 2, 1, 1 // ELFCLASS64, little-endian, version
	le.PutUint16(img[16:], uint16(elf.ET_EXEC))
	le.PutUint16(img[18:], uint16(elf.EM_X86_64))
	le.PutUint32(img[20:], 1)
	le.PutUint16(img[52:], 64) // e_ehsize

	l.strOff = len(img)
	img = append(img, strtab...)
	for len(img)%8 != 0 {
		img = append(img, 0)
	}

	l.symOff = len(img)
	img = append(img, make([]byte, 24)...) // null symbol
	for n, s := range syms {
		e := make([]byte, 24)
		le.PutUint32(e[0:], nameOff[n])
		e[4] = byte(elf.STB_GLOBAL)<<4 | byte(s.typ)
		shndx := s.shndx
		if shndx == 0 {
			shndx = 1
		}
		if s.undefined {
			shndx = 0
		}
		le.PutUint16(e[6:], shndx)
		le.PutUint64(e[8:], s.value)
		le.PutUint64(e[16:], s.size)
		img = append(img, e...)
	}
	symSize := len(img) - l.symOff

	l.shOff = len(img)
	le.PutUint64(img[40:], uint64(l.shOff))
	le.PutUint16(img[58:], 64) // e_shentsize
	le.PutUint16(img[60:], 3)  // e_shnum
	le.PutUint16(img[62:], 2)  // e_shstrndx (names are not needed)

	img = append(img, make([]byte, 3*64)...)
	l.symHdr = l.shOff + 64
	sh := img[l.symHdr:]
	le.PutUint32(sh[4:], uint32(elf.SHT_SYMTAB))
	le.PutUint64(sh[24:], uint64(l.symOff))
	le.PutUint64(sh[32:], uint64(symSize))
	le.PutUint32(sh[40:], 2) // sh_link: .strtab
	le.PutUint32(sh[44:], 1) // sh_info: first global
	le.PutUint64(sh[48:], 8)
	le.PutUint64(sh[56:], 24)
	l.strHdr = l.shOff + 128
	sh = img[l.strHdr:]
	le.PutUint32(sh[4:], uint32(elf.SHT_STRTAB))
	le.PutUint64(sh[24:], uint64(l.strOff))
	le.PutUint64(sh[32:], uint64(len(strtab)))
	le.PutUint64(sh[48:], 1)
	return img, l
}

// sampleSyms exercises sized, nested, zero-size and non-function symbols.
var sampleSyms = []testSym{
	{name: "runtime.text", value: 0x401000, typ: elf.STT_FUNC}, // size 0, marks text start
	{name: "asm.stub", value: 0x401200, typ: elf.STT_FUNC},     // size 0
	{name: "main.small", value: 0x402000, size: 0x40, typ: elf.STT_FUNC},
	{name: "main.outer", value: 0x403000, size: 0x1000, typ: elf.STT_FUNC},
	{name: "main.inner", value: 0x403100, size: 0x100, typ: elf.STT_FUNC},
	{name: "main.data", value: 0x404000, size: 0x1000, typ: elf.STT_OBJECT},
	{name: "main.untyped", value: 0x405000, size: 0x1000, typ: elf.STT_NOTYPE},
	{name: "asm.far", value: 0x500000, typ: elf.STT_FUNC},
	{name: "libc.undefined", value: 0x600000, size: 0x100, typ: elf.STT_FUNC, undefined: true},
	{name: "main.main", value: 0x700000, size: 0x80, typ: elf.STT_FUNC},
}
