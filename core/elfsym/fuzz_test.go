package elfsym

import (
	"testing"
	"unsafe"
)

// FuzzOpenLookup mutates ELF images and checks Open, Lookup and SymbolAddr never read
// outside the image (guard pages would fault) and return names inside it.
func FuzzOpenLookup(f *testing.F) {
	img, _ := buildELF(sampleSyms)
	f.Add(img, uint64(0x403100))
	f.Add(img, uint64(0x401234))
	f.Add(img[:len(img)-1], uint64(0x402000))
	f.Fuzz(func(t *testing.T, data []byte, pc uint64) {
		tab, base, ok := openImage(t, data)
		if !ok {
			return
		}
		end := base + uintptr(len(data))
		name, offset, found := tab.Lookup(uintptr(pc))
		if found {
			if offset > uintptr(pc) {
				t.Fatalf("offset %#x above pc %#x", offset, pc)
			}
			if len(name) > maxName {
				t.Fatalf("name of %d bytes", len(name))
			}
			if len(name) > 0 {
				at := uintptr(unsafe.Pointer(unsafe.StringData(name)))
				if at < base || at+uintptr(len(name)) > end {
					t.Fatalf("name outside the image")
				}
			}
		}
		_, _ = tab.SymbolAddr("main.main")
		_, _ = tab.SymbolAddr(name)
	})
}
