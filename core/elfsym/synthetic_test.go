package elfsym

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openImage(t testing.TB, img []byte) (Table, uintptr, bool) {
	base := guarded(t, img)
	tab, ok := Open(base, uintptr(len(img)))
	return tab, base, ok
}

func TestBuilderMakesValidELF(t *testing.T) {
	img, _ := buildELF(sampleSyms)
	f, err := elf.NewFile(bytes.NewReader(img))
	require.NoError(t, err)
	syms, err := f.Symbols()
	require.NoError(t, err)
	require.Len(t, syms, len(sampleSyms))
	assert.Equal(t, "main.inner", syms[4].Name)
}

func TestSyntheticLookup(t *testing.T) {
	img, _ := buildELF(sampleSyms)
	tab, _, ok := openImage(t, img)
	require.True(t, ok)
	assert.Equal(t, len(sampleSyms)+1, tab.Count())

	tests := []struct {
		pc     uintptr
		name   string
		offset uintptr
	}{
		{0x400fff, "", 0},                 // below every symbol
		{0x401000, "runtime.text", 0},     // size-0 symbol start
		{0x401100, "runtime.text", 0x100}, // reaches until the next symbol
		{0x401200, "asm.stub", 0},         // nearer size-0 symbol takes over
		{0x401fff, "asm.stub", 0xdff},     //
		{0x402000, "main.small", 0},       // entry
		{0x402020, "main.small", 0x20},    // middle
		{0x40203f, "main.small", 0x3f},    // last byte
		{0x402040, "", 0},                 // one past the end: padding, not asm.stub
		{0x403000, "main.outer", 0},       //
		{0x403100, "main.inner", 0},       // nested symbol wins
		{0x4031ff, "main.inner", 0xff},    //
		{0x403200, "main.outer", 0x200},   // back in the outer one
		{0x403fff, "main.outer", 0xfff},   //
		{0x404000, "", 0},                 // objects and NOTYPE are not functions
		{0x405800, "", 0},                 //
		{0x500000, "asm.far", 0},          //
		{0x50ffff, "asm.far", 0xffff},     // size-0 reach is 64 KiB
		{0x510000, "", 0},                 //
		{0x600010, "", 0},                 // undefined symbols are ignored
		{0x700000, "main.main", 0},        //
		{0x70007f, "main.main", 0x7f},     //
		{0x700080, "", 0},                 //
		{^uintptr(0), "", 0},              //
	}
	for _, tc := range tests {
		name, offset, ok := tab.Lookup(tc.pc)
		assert.Equal(t, tc.name != "", ok, "pc %#x", tc.pc)
		assert.Equal(t, tc.name, name, "pc %#x", tc.pc)
		assert.Equal(t, tc.offset, offset, "pc %#x", tc.pc)
	}
}

func TestSyntheticSymbolAddr(t *testing.T) {
	img, _ := buildELF(sampleSyms)
	tab, _, ok := openImage(t, img)
	require.True(t, ok)

	found := map[string]uintptr{
		"main.main":    0x700000,
		"main.data":    0x404000, // any type
		"runtime.text": 0x401000,
		"main.inner":   0x403100,
	}
	for name, want := range found {
		got, ok := tab.SymbolAddr(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, got, name)
	}
	for _, name := range []string{"", "main", "main.mai", "main.main2", "libc.undefined", "nope"} {
		_, ok := tab.SymbolAddr(name)
		assert.False(t, ok, "%q", name)
	}
}

func TestNamesPointIntoImage(t *testing.T) {
	img, l := buildELF(sampleSyms)
	tab, base, ok := openImage(t, img)
	require.True(t, ok)
	name, _, ok := tab.Lookup(0x402000)
	require.True(t, ok)
	at := uintptr(unsafe.Pointer(unsafe.StringData(name)))
	assert.Equal(t, base+uintptr(l.strOff)+uintptr(bytes.Index(img[l.strOff:], []byte("main.small"))), at)
}

func TestLongAndUnterminatedNames(t *testing.T) {
	long := strings.Repeat("n", 600)
	img, l := buildELF([]testSym{
		{name: "a." + long, value: 0x1000, size: 0x10, typ: elf.STT_FUNC},
		{name: "zz", value: 0x2000, size: 0x10, typ: elf.STT_FUNC},
	})
	// Drop the last NUL: "zz" now runs to the end of the string table.
	strSize := binary.LittleEndian.Uint64(img[l.strHdr+32:])
	binary.LittleEndian.PutUint64(img[l.strHdr+32:], strSize-1)
	tab, _, ok := openImage(t, img)
	require.True(t, ok)

	name, _, ok := tab.Lookup(0x1000)
	assert.True(t, ok)
	assert.Equal(t, ("a." + long)[:maxName], name, "names are bounded")
	name, _, ok = tab.Lookup(0x2000)
	assert.True(t, ok)
	assert.Equal(t, "zz", name, "stops at the end of the string table")
	_, ok = tab.SymbolAddr("zz")
	assert.False(t, ok, "an unterminated name matches nothing")
}

func TestBadNameOffset(t *testing.T) {
	img, l := buildELF([]testSym{{name: "f", value: 0x1000, size: 0x10, typ: elf.STT_FUNC}})
	binary.LittleEndian.PutUint32(img[l.symOff+24:], 0xfffffff0)
	tab, _, ok := openImage(t, img)
	require.True(t, ok)
	name, offset, ok := tab.Lookup(0x1004)
	assert.True(t, ok, "the symbol is still found")
	assert.Equal(t, "", name)
	assert.Equal(t, uintptr(4), offset)
}

func TestTruncatedSynthetic(t *testing.T) {
	img, _ := buildELF(sampleSyms)
	for n := 0; n < len(img); n++ {
		tab, _, ok := openImage(t, img[:n])
		assert.False(t, ok, "length %d", n)
		assert.Zero(t, tab.Count())
	}
}

func TestCorruptHeaders(t *testing.T) {
	le := binary.LittleEndian
	put16 := func(off int, v uint16) func([]byte, layout) {
		return func(b []byte, _ layout) { le.PutUint16(b[off:], v) }
	}
	put64 := func(off int, v uint64) func([]byte, layout) {
		return func(b []byte, _ layout) { le.PutUint64(b[off:], v) }
	}
	sym := func(field int, v uint64) func([]byte, layout) {
		return func(b []byte, l layout) { le.PutUint64(b[l.symHdr+field:], v) }
	}
	str := func(field int, v uint64) func([]byte, layout) {
		return func(b []byte, l layout) { le.PutUint64(b[l.strHdr+field:], v) }
	}
	link := func(v uint32) func([]byte, layout) {
		return func(b []byte, l layout) { le.PutUint32(b[l.symHdr+40:], v) }
	}
	tests := map[string]func([]byte, layout){
		"bad magic":           func(b []byte, _ layout) { b[1] = 'X' },
		"32-bit class":        func(b []byte, _ layout) { b[4] = 1 },
		"big endian":          func(b []byte, _ layout) { b[5] = 2 },
		"wrong machine":       put16(18, uint16(elf.EM_386)),
		"shentsize zero":      put16(58, 0),
		"shentsize small":     put16(58, 63),
		"shnum huge":          put16(60, 0xffff),
		"shnum zero":          put16(60, 0),
		"shoff past end":      put64(40, 1<<20),
		"shoff wraps":         put64(40, ^uint64(0)-10),
		"link out of range":   link(3),
		"link huge":           link(0xffffffff),
		"link not a strtab":   link(0),
		"symtab offset past":  sym(24, 1<<20),
		"symtab offset wraps": sym(24, ^uint64(0)-8),
		"symtab size past":    sym(32, 1<<20),
		"symtab size wraps":   sym(32, ^uint64(0)),
		"entsize zero":        sym(56, 0),
		"entsize small":       sym(56, 23),
		"entsize huge":        sym(56, 1<<40),
		"strtab offset past":  str(24, 1<<20),
		"strtab size past":    str(32, 1<<20),
		"strtab size wraps":   str(32, ^uint64(0)-0x40),
		"no symtab": func(b []byte, l layout) {
			le.PutUint32(b[l.symHdr+4:], uint32(elf.SHT_PROGBITS))
		},
	}
	for name, corrupt := range tests {
		t.Run(name, func(t *testing.T) {
			img, l := buildELF(sampleSyms)
			corrupt(img, l)
			tab, _, ok := openImage(t, img)
			assert.False(t, ok)
			assert.Zero(t, tab.Count())
			_, _, ok = tab.Lookup(0x402000)
			assert.False(t, ok, "zero Table finds nothing")
			_, ok = tab.SymbolAddr("main.main")
			assert.False(t, ok)
		})
	}
}

func TestOpenRejectsNilAndWrappingImages(t *testing.T) {
	_, ok := Open(0, 1<<20)
	assert.False(t, ok)
	img, _ := buildELF(sampleSyms)
	base := guarded(t, img)
	_, ok = Open(base, ^uintptr(0)-base+10) // base+size wraps
	assert.False(t, ok)
}

func TestLargerEntsizeIsHonoured(t *testing.T) {
	// Rebuild the symbol table with 32-byte entries (padding after each symbol).
	img, l := buildELF(sampleSyms)
	count := len(sampleSyms) + 1
	wide := make([]byte, 0, count*32)
	for n := 0; n < count; n++ {
		wide = append(wide, img[l.symOff+n*24:l.symOff+n*24+24]...)
		wide = append(wide, make([]byte, 8)...)
	}
	newSymOff := len(img)
	img = append(img, wide...)
	binary.LittleEndian.PutUint64(img[l.symHdr+24:], uint64(newSymOff))
	binary.LittleEndian.PutUint64(img[l.symHdr+32:], uint64(len(wide)))
	binary.LittleEndian.PutUint64(img[l.symHdr+56:], 32)
	tab, _, ok := openImage(t, img)
	require.True(t, ok)
	assert.Equal(t, count, tab.Count())
	name, offset, ok := tab.Lookup(0x4031ff)
	assert.True(t, ok)
	assert.Equal(t, "main.inner", name)
	assert.Equal(t, uintptr(0xff), offset)
}

func TestNoAllocations(t *testing.T) {
	img, _ := buildELF(sampleSyms)
	base := guarded(t, img)
	allocs := testing.AllocsPerRun(100, func() {
		tab, _ := Open(base, uintptr(len(img)))
		_, _, _ = tab.Lookup(0x403100)
		_, _ = tab.SymbolAddr("main.main")
	})
	assert.Zero(t, allocs)
}
