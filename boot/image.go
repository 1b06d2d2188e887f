package boot

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"sort"
)

const (
	pageSize       = 0x1000
	minLoadAddr    = 0x100000 // below 1 MiB lives the BIOS, the VGA hole and the loader itself
	multiboot32Top = 1 << 32  // Multiboot hands over in 32-bit mode: every address must fit
)

// BuildImage turns the core's ELF64 executable into a flat image that QEMU's -kernel loads as a
// Multiboot v1 kernel, and returns the header it wrote.
//
// The image is the memory range [load_addr, load_end_addr) exactly as the segments lay it out.
// The header goes into zero bytes of the first page, after the ELF and program headers, which
// stay intact because the kernel reads its own program headers at run time.
func BuildImage(elfPath, imgPath string, entrySymbol string) (ImageInfo, error) {
	fail := func(format string, args ...any) (ImageInfo, error) {
		return ImageInfo{}, fmt.Errorf("boot: %s: "+format, append([]any{elfPath}, args...)...)
	}

	data, err := os.ReadFile(elfPath)
	if err != nil {
		return ImageInfo{}, fmt.Errorf("boot: %w", err)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return fail("not an ELF file: %v", err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		return fail("want an ELF64 x86-64 executable, got %v %v %v", f.Class, f.Machine, f.Type)
	}

	segs, err := loadSegments(f)
	if err != nil {
		return fail("%v", err)
	}
	first := segs[0]
	if first.Paddr%pageSize != 0 || first.Paddr < minLoadAddr {
		return fail("lowest PT_LOAD segment at %#x: must be page aligned and at or above %#x", first.Paddr, minLoadAddr)
	}
	loadAddr, loadEnd, bssEnd := first.Paddr, uint64(0), uint64(0)
	for _, s := range segs {
		loadEnd = max(loadEnd, s.Paddr+s.Filesz)
		bssEnd = max(bssEnd, s.Paddr+s.Memsz)
	}
	if bssEnd > multiboot32Top {
		return fail("segments end at %#x, above the 4 GiB a Multiboot kernel can use", bssEnd)
	}

	img := make([]byte, loadEnd-loadAddr) // zero-filled: gaps and in-between bss stay zero
	for _, s := range segs {
		if _, err := io.ReadFull(s.Open(), img[s.Paddr-loadAddr:s.Paddr-loadAddr+s.Filesz]); err != nil {
			return fail("reading segment at %#x: %v", s.Paddr, err)
		}
	}

	entry, err := entryAddr(f, segs, entrySymbol)
	if err != nil {
		return fail("%v", err)
	}

	from := 0
	if first.Off == 0 { // the ELF and program headers are part of the image: step over them
		from = programHeadersEnd(data, f)
	}
	off, err := headerSlot(img, from)
	if err != nil {
		return fail("%v", err)
	}

	info := ImageInfo{
		Magic:        MultibootMagic,
		Flags:        MultibootFlags,
		Checksum:     multibootChecksum(MultibootFlags),
		HeaderAddr:   uint32(loadAddr) + uint32(off),
		LoadAddr:     uint32(loadAddr),
		LoadEndAddr:  uint32(loadEnd),
		BssEndAddr:   uint32(bssEnd),
		EntryAddr:    uint32(entry),
		HeaderOffset: off,
	}
	copy(img[off:], info.encode())
	if found := findMultibootHeader(img); found != off {
		return fail("a stray Multiboot magic at image offset %#x would shadow our header", found)
	}

	if err := os.WriteFile(imgPath, img, 0o644); err != nil {
		return ImageInfo{}, fmt.Errorf("boot: %w", err)
	}
	return info, nil
}

// loadSegments returns the PT_LOAD segments sorted by physical address, refusing overlaps.
func loadSegments(f *elf.File) ([]*elf.Prog, error) {
	var segs []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Memsz > 0 {
			segs = append(segs, p)
		}
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("no PT_LOAD segments")
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].Paddr < segs[j].Paddr })
	for i, s := range segs {
		if s.Filesz > s.Memsz {
			return nil, fmt.Errorf("segment at %#x has filesz %#x > memsz %#x", s.Paddr, s.Filesz, s.Memsz)
		}
		if i > 0 && s.Paddr < segs[i-1].Paddr+segs[i-1].Memsz {
			return nil, fmt.Errorf("segments at %#x and %#x overlap", segs[i-1].Paddr, s.Paddr)
		}
	}
	return segs, nil
}

// entryAddr finds the entry symbol (or its ".abi0" assembly twin) and returns its physical
// address, which must lie in the file bytes of an executable segment.
func entryAddr(f *elf.File, segs []*elf.Prog, name string) (uint64, error) {
	syms, err := f.Symbols()
	if err != nil {
		return 0, fmt.Errorf("entry symbol %s: reading the symbol table: %v", name, err)
	}
	var sym *elf.Symbol
	for i := range syms {
		if syms[i].Name == name || syms[i].Name == name+".abi0" {
			sym = &syms[i]
			break
		}
	}
	if sym == nil {
		return 0, fmt.Errorf("entry symbol %s not found", name)
	}
	for _, s := range segs {
		if s.Flags&elf.PF_X != 0 && sym.Value >= s.Vaddr && sym.Value < s.Vaddr+s.Filesz {
			phys := s.Paddr + (sym.Value - s.Vaddr)
			if phys >= multiboot32Top {
				return 0, fmt.Errorf("entry symbol %s at %#x is above 4 GiB", sym.Name, phys)
			}
			return phys, nil
		}
	}
	return 0, fmt.Errorf("entry symbol %s at %#x is not inside an executable segment", sym.Name, sym.Value)
}

// programHeadersEnd is the file offset just past the ELF header and program header table.
func programHeadersEnd(data []byte, f *elf.File) int {
	// debug/elf does not expose e_phoff, so read it from the ELF64 header directly.
	phoff := int(f.ByteOrder.Uint64(data[0x20:]))
	phentsize := int(f.ByteOrder.Uint16(data[0x36:]))
	phnum := int(f.ByteOrder.Uint16(data[0x38:]))
	return max(64, phoff+phnum*phentsize)
}

// headerSlot picks the first 16-byte aligned, all-zero 48-byte window at or after from that
// ends within the loader's 8 KiB search area.
func headerSlot(img []byte, from int) (int, error) {
	limit := min(len(img), MultibootSearchSize)
	start := (from + multibootAlign - 1) &^ (multibootAlign - 1)
	for off := start; off+MultibootHeaderSize <= limit; off += multibootAlign {
		if allZero(img[off : off+MultibootHeaderSize]) {
			return off, nil
		}
	}
	return 0, fmt.Errorf("no %d zero bytes between offset %#x and %#x to hold the Multiboot header",
		MultibootHeaderSize, start, limit)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
