package boot

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func symbolValue(t *testing.T, f *elf.File, name string) uint64 {
	t.Helper()
	syms, err := f.Symbols()
	require.NoError(t, err)
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("symbol %s not in the test ELF", name)
	return 0
}

func TestBuildImageLaysOutSegmentsAndHeader(t *testing.T) {
	elfPath := buildTinyELF(t)
	imgPath := filepath.Join(t.TempDir(), "tiny.img")

	info, err := BuildImage(elfPath, imgPath, "main.entryHere")
	require.NoError(t, err)

	raw, err := os.ReadFile(elfPath)
	require.NoError(t, err)
	img, err := os.ReadFile(imgPath)
	require.NoError(t, err)
	f, err := elf.Open(elfPath)
	require.NoError(t, err)
	defer f.Close()

	// Header fields.
	assert.Equal(t, uint32(0x1BADB002), info.Magic)
	assert.Equal(t, uint32(1<<0|1<<1|1<<16), info.Flags)
	assert.Zero(t, info.Magic+info.Flags+info.Checksum, "checksum")
	assert.Equal(t, uint32(0x1ff000), info.LoadAddr)
	assert.Equal(t, uint32(symbolValue(t, f, "main.entryHere")), info.EntryAddr)

	var loadEnd, bssEnd uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loadEnd = max(loadEnd, p.Paddr+p.Filesz)
			bssEnd = max(bssEnd, p.Paddr+p.Memsz)
		}
	}
	assert.Equal(t, uint32(loadEnd), info.LoadEndAddr)
	assert.Equal(t, uint32(bssEnd), info.BssEndAddr)
	assert.Greater(t, bssEnd, loadEnd, "the tiny program has a .bss")
	assert.Len(t, img, int(loadEnd)-0x1ff000, "image covers [load_addr, load_end_addr)")

	// Header placement: after the program headers, aligned, findable by a loader, and encoded.
	phEnd := programHeadersEnd(raw, f)
	assert.GreaterOrEqual(t, info.HeaderOffset, phEnd)
	assert.Less(t, info.HeaderOffset+MultibootHeaderSize, MultibootSearchSize+1)
	assert.Zero(t, info.HeaderOffset%16)
	assert.Equal(t, info.LoadAddr+uint32(info.HeaderOffset), info.HeaderAddr)
	words := make([]uint32, 12)
	for i := range words {
		words[i] = binary.LittleEndian.Uint32(img[info.HeaderOffset+4*i:])
	}
	assert.Equal(t, []uint32{info.Magic, info.Flags, info.Checksum, info.HeaderAddr, info.LoadAddr,
		info.LoadEndAddr, info.BssEndAddr, info.EntryAddr, 0, 0, 0, 0}, words)
	decoded, err := ReadImageInfo(imgPath)
	require.NoError(t, err)
	assert.Equal(t, info, decoded)

	// The ELF header and program headers are intact: the kernel reads them at run time.
	assert.Equal(t, raw[:phEnd], img[:phEnd])

	// Every segment's file bytes sit at paddr - load_addr (the header went into bytes that were
	// zero, so zero it again to compare); the gaps between segments are zero.
	plain := bytes.Clone(img)
	clear(plain[info.HeaderOffset : info.HeaderOffset+MultibootHeaderSize])
	prevEnd := uint64(info.LoadAddr)
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		at := p.Paddr - uint64(info.LoadAddr)
		assert.Equal(t, raw[p.Off:p.Off+p.Filesz], plain[at:at+p.Filesz], "segment at %#x", p.Paddr)
		if p.Paddr > prevEnd {
			assert.True(t, allZero(plain[prevEnd-uint64(info.LoadAddr):at]), "gap before %#x", p.Paddr)
		}
		prevEnd = p.Paddr + p.Filesz
	}
}

func TestBuildImageAcceptsAbi0AssemblyEntry(t *testing.T) {
	elfPath := buildTinyELF(t)
	f, err := elf.Open(elfPath)
	require.NoError(t, err)
	defer f.Close()

	info, err := BuildImage(elfPath, filepath.Join(t.TempDir(), "img"), "main.asmEntry")
	require.NoError(t, err)
	assert.Equal(t, uint32(symbolValue(t, f, "main.asmEntry.abi0")), info.EntryAddr)
}

// patched writes a copy of the ELF at src with bytes replaced at the given offsets.
func patched(t *testing.T, src string, at int, b ...byte) string {
	t.Helper()
	raw, err := os.ReadFile(src)
	require.NoError(t, err)
	copy(raw[at:], b)
	dst := filepath.Join(t.TempDir(), "patched.elf")
	require.NoError(t, os.WriteFile(dst, raw, 0o644))
	return dst
}

// elf32Header is a minimal ELF32 i386 executable header with no program or section headers.
func elf32Header() []byte {
	h := make([]byte, 52)
	copy(h, "\x7fELF\x01\x01\x01")
	binary.LittleEndian.PutUint16(h[0x10:], uint16(elf.ET_EXEC))
	binary.LittleEndian.PutUint16(h[0x12:], uint16(elf.EM_386))
	binary.LittleEndian.PutUint32(h[0x14:], 1)
	binary.LittleEndian.PutUint16(h[0x28:], 52) // e_ehsize
	return h
}

func TestBuildImageRejectsBadInput(t *testing.T) {
	elfPath := buildTinyELF(t)
	dir := t.TempDir()
	notELF := filepath.Join(dir, "notelf")
	require.NoError(t, os.WriteFile(notELF, []byte("#!/bin/sh\necho hello\n"), 0o644))
	elf32 := filepath.Join(dir, "i386.elf")
	require.NoError(t, os.WriteFile(elf32, elf32Header(), 0o644))
	arm64 := patched(t, elfPath, 0x12, byte(elf.EM_AARCH64), 0)
	dyn := patched(t, elfPath, 0x10, byte(elf.ET_DYN), 0)

	cases := []struct {
		name, elf, entry string
		want             []string
	}{
		{"missing file", filepath.Join(dir, "nope.elf"), "main.entryHere", []string{"nope.elf", "no such file"}},
		{"not an ELF", notELF, "main.entryHere", []string{notELF, "not an ELF file"}},
		{"32-bit", elf32, "main.entryHere", []string{elf32, "ELFCLASS32"}},
		{"wrong arch", arm64, "main.entryHere", []string{arm64, "EM_AARCH64"}},
		{"not executable type", dyn, "main.entryHere", []string{dyn, "ET_DYN"}},
		{"missing symbol", elfPath, "main.noSuchEntry", []string{elfPath, "main.noSuchEntry", "not found"}},
		{"entry in data", elfPath, "main.tableHere", []string{elfPath, "main.tableHere", "not inside an executable segment"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "out.img")
			_, err := BuildImage(c.elf, img, c.entry)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "boot: ")
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NoFileExists(t, img, "no image is written on error")
		})
	}
}

func TestHeaderSlot(t *testing.T) {
	img := make([]byte, 3*4096)
	off, err := headerSlot(img, 0x191)
	require.NoError(t, err)
	assert.Equal(t, 0x1a0, off, "first 16-byte boundary after the program headers")

	img[0x1a0+47] = 1 // the window at 0x1a0 is not all zero any more
	off, err = headerSlot(img, 0x191)
	require.NoError(t, err)
	assert.Equal(t, 0x1d0, off)

	for i := range img[:MultibootSearchSize] {
		img[i] = 0xff
	}
	clear(img[MultibootSearchSize-40 : MultibootSearchSize+100]) // zero, but past the 8 KiB limit
	_, err = headerSlot(img, 0x40)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no 48 zero bytes")
}

func TestReadImageInfoWithoutHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blank.img")
	require.NoError(t, os.WriteFile(path, make([]byte, 4096), 0o644))
	_, err := ReadImageInfo(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
}
