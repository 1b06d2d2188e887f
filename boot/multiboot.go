package boot

import (
	"encoding/binary"
	"fmt"
	"os"
)

// Multiboot v1 header constants. We use the "a.out kludge" (flag 16) because QEMU's -kernel
// refuses ELF64 Multiboot kernels but happily loads a flat image described by the header.
const (
	MultibootMagic      uint32 = 0x1BADB002
	MultibootPageAlign  uint32 = 1 << 0  // load modules on page boundaries
	MultibootMemoryInfo uint32 = 1 << 1  // pass mem_lower/mem_upper and the memory map
	MultibootAoutKludge uint32 = 1 << 16 // the address fields below are valid
	MultibootFlags             = MultibootPageAlign | MultibootMemoryInfo | MultibootAoutKludge

	MultibootHeaderSize = 48   // 12 little-endian words
	MultibootSearchSize = 8192 // the loader looks for the header only this far into the image
	multibootAlign      = 16   // we place it 16-byte aligned (the spec needs 4)
)

// ImageInfo describes a built image: every Multiboot header field plus where the header sits.
type ImageInfo struct {
	Magic        uint32
	Flags        uint32
	Checksum     uint32
	HeaderAddr   uint32
	LoadAddr     uint32
	LoadEndAddr  uint32
	BssEndAddr   uint32
	EntryAddr    uint32
	HeaderOffset int // byte offset of the header inside the image file
}

// String is the one-line summary that `simpleos build` prints.
func (i ImageInfo) String() string {
	return fmt.Sprintf("entry %#x, load %#x-%#x, bss end %#x, multiboot header at offset %#x",
		i.EntryAddr, i.LoadAddr, i.LoadEndAddr, i.BssEndAddr, i.HeaderOffset)
}

func multibootChecksum(flags uint32) uint32 { return -(MultibootMagic + flags) }

// encode returns the 48 header bytes; the video mode fields stay zero.
func (i ImageInfo) encode() []byte {
	b := make([]byte, MultibootHeaderSize)
	words := []uint32{i.Magic, i.Flags, i.Checksum, i.HeaderAddr, i.LoadAddr, i.LoadEndAddr, i.BssEndAddr, i.EntryAddr}
	for n, w := range words {
		binary.LittleEndian.PutUint32(b[4*n:], w)
	}
	return b
}

// findMultibootHeader returns the offset of the first header a loader would accept (magic at a
// 4-byte aligned offset within the first 8 KiB, valid checksum), or -1.
func findMultibootHeader(img []byte) int {
	limit := min(len(img), MultibootSearchSize) - MultibootHeaderSize
	for off := 0; off <= limit; off += 4 {
		magic := binary.LittleEndian.Uint32(img[off:])
		flags := binary.LittleEndian.Uint32(img[off+4:])
		sum := binary.LittleEndian.Uint32(img[off+8:])
		if magic == MultibootMagic && magic+flags+sum == 0 {
			return off
		}
	}
	return -1
}

// ReadImageInfo decodes the Multiboot header of a built image, as a loader would find it.
func ReadImageInfo(imgPath string) (ImageInfo, error) {
	img, err := os.ReadFile(imgPath)
	if err != nil {
		return ImageInfo{}, fmt.Errorf("boot: %w", err)
	}
	off := findMultibootHeader(img)
	if off < 0 {
		return ImageInfo{}, fmt.Errorf("boot: %s: no Multiboot header in the first %d bytes", imgPath, MultibootSearchSize)
	}
	w := func(n int) uint32 { return binary.LittleEndian.Uint32(img[off+4*n:]) }
	return ImageInfo{
		Magic: w(0), Flags: w(1), Checksum: w(2), HeaderAddr: w(3), LoadAddr: w(4),
		LoadEndAddr: w(5), BssEndAddr: w(6), EntryAddr: w(7), HeaderOffset: off,
	}, nil
}
