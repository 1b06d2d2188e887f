package arch

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// Init fills the I/O bitmap eight bytes a store: the same bytes as one at a time, every port
// denied, and nothing past the byte after the bitmap touched.
func TestTSSInitDeniesEveryPortAndTouchesNothingElse(t *testing.T) {
	var pages [TSSPages][4096 + 8]byte // +8: each buffer starts 8-aligned, the fill does not
	var tss TSS
	for i := range pages {
		for j := range pages[i] {
			pages[i][j] = 0x5a
		}
		tss[i] = uintptr(unsafe.Pointer(&pages[i][0]))
		tss[i] += (8 - tss[i]%8) % 8
	}
	const alias = 0xffff_d000_0000_4000
	tss.Init(0x1b, 0x23, alias)
	byteAt := func(off uintptr) byte { return *(*byte)(unsafe.Pointer(tss.byteAt(off))) }
	for off := uintptr(ioBitmapOffset); off <= tssLimit; off++ {
		if !assert.Equal(t, byte(0xff), byteAt(off), "bitmap byte %d", off) {
			break
		}
	}
	info := uintptr(entryTaskInfo - EntryTSS)
	for off := uintptr(tssLimit + 1); off < TSSPages*4096; off++ {
		if off >= info && off < info+24 {
			continue // the selectors and the alias offset Init stores after the bitmap
		}
		if !assert.Equal(t, byte(0x5a), byteAt(off), "byte %d past the bitmap", off) {
			break
		}
	}
	word := func(off uintptr) uint64 {
		var v uint64
		for i := uintptr(0); i < 8; i++ {
			v |= uint64(byteAt(off+i)) << (8 * i)
		}
		return v
	}
	assert.Equal(t, uint64(0x1b), word(info))
	assert.Equal(t, uint64(0x23), word(info+8))
	stack := uintptr(EntryStack)
	assert.Equal(t, uint64(alias-stack), word(info+16), "the trampoline adds this to SP to reach the alias")
	assert.False(t, bytes.Contains(pages[0][:ioBitmapOffset], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), "the TSS proper is not the bitmap")
	tss.AllowPort(0x3f8)
	assert.Equal(t, byte(0xfe), byteAt(ioBitmapOffset+0x3f8/8))
}
