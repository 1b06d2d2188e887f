package multiboot

import (
	"encoding/binary"
	"runtime"
	"testing"
)

// Fake physical layout of the boot memory the tests build.
const (
	fakeBase    = 0x8000 // physical address of fakeBoot.mem[0]
	fakeSize    = 0x8000
	infoPhys    = 0x8000
	cmdlinePhys = 0x8100 // room for > maxStringLen bytes up to namePhys
	namePhys    = 0x9200
	modsPhys    = 0x9300 // room for 64 entries
	modStrPhys  = 0x9800
	mmapPhys    = 0xa000 // room for 300+ entries of 24 bytes up to the end
)

// fakeBoot is boot memory built in a Go byte slice; phys address p lives at mem[p-fakeBase].
type fakeBoot struct {
	t   *testing.T
	mem []byte
}

func newFakeBoot(t *testing.T) *fakeBoot {
	f := &fakeBoot{t: t, mem: make([]byte, fakeSize)}
	// Returned strings point into mem: keep it alive for the whole test.
	t.Cleanup(func() { runtime.KeepAlive(f.mem) })
	return f
}

func (f *fakeBoot) at(phys uintptr, n int) []byte {
	f.t.Helper()
	if phys < fakeBase || phys+uintptr(n) > fakeBase+fakeSize {
		f.t.Fatalf("fake write at %#x+%d outside fake memory", phys, n)
	}
	return f.mem[phys-fakeBase : phys-fakeBase+uintptr(n)]
}

func (f *fakeBoot) put32(phys uintptr, v uint32) { binary.LittleEndian.PutUint32(f.at(phys, 4), v) }
func (f *fakeBoot) put64(phys uintptr, v uint64) { binary.LittleEndian.PutUint64(f.at(phys, 8), v) }

func (f *fakeBoot) putString(phys uintptr, s string) { copy(f.at(phys, len(s)+1), s+"\x00") }

func (f *fakeBoot) addFlags(flags uint32) {
	old := binary.LittleEndian.Uint32(f.at(infoPhys+offFlags, 4))
	f.put32(infoPhys+offFlags, old|flags)
}

// offset is the phys→virt offset that makes Info read from mem.
func (f *fakeBoot) offset() uintptr { return addrOf(f.mem) - fakeBase }

func (f *fakeBoot) info() Info {
	f.t.Helper()
	i, ok := Load(BootloaderMagic, infoPhys, f.offset())
	if !ok {
		f.t.Fatal("Load failed")
	}
	return i
}

// physOf returns the fake physical address of a string returned by Info, or 0 if it
// does not point into mem.
func (f *fakeBoot) physOf(s string) uintptr {
	p := addrOfString(s)
	if p < addrOf(f.mem) || p >= addrOf(f.mem)+fakeSize {
		return 0
	}
	return p - addrOf(f.mem) + fakeBase
}

type entry struct {
	base, length uint64
	typ          uint32
}

// qemuMap is the memory map QEMU's Multiboot loader gives a 128 MiB guest.
var qemuMap = []entry{
	{0, 0x9fc00, RegionAvailable},
	{0x9fc00, 0x400, RegionReserved},
	{0xf0000, 0x10000, RegionReserved},
	{0x100000, 0x7ee0000, RegionAvailable},
	{0x7fe0000, 0x20000, RegionReserved},
	{0xfffc0000, 0x40000, RegionReserved},
}

// setMemoryMap writes entries with the usual size field 20 and sets mmap_length to fit.
func (f *fakeBoot) setMemoryMap(entries []entry) {
	f.setMemoryMapSized(entries, 20)
	f.put32(infoPhys+offMmapLength, uint32(len(entries)*24))
}

// setMemoryMapSized writes entries whose size field is size (extra bytes are zero) and
// returns where the next entry would start; mmap_length is left to the caller.
func (f *fakeBoot) setMemoryMapSized(entries []entry, size uint32) uintptr {
	f.addFlags(FlagMemoryMap)
	f.put32(infoPhys+offMmapAddr, mmapPhys)
	p := uintptr(mmapPhys)
	for _, e := range entries {
		f.put32(p, size)
		f.put64(p+4, e.base)
		f.put64(p+12, e.length)
		f.put32(p+20, e.typ)
		p += 4 + uintptr(size)
	}
	return p
}

type module struct {
	start, end uint32
	cmdline    string
}

func (f *fakeBoot) setModules(mods []module) {
	f.addFlags(FlagModules)
	f.put32(infoPhys+offModsCount, uint32(len(mods)))
	f.put32(infoPhys+offModsAddr, modsPhys)
	str := uintptr(modStrPhys)
	for n, m := range mods {
		e := modsPhys + uintptr(n)*16
		f.put32(e, m.start)
		f.put32(e+4, m.end)
		f.put32(e+8, uint32(str))
		f.putString(str, m.cmdline)
		str += uintptr(len(m.cmdline)) + 1
	}
}

// qemuBoot is a realistic boot: QEMU's map, a command line, two modules.
func qemuBoot(t *testing.T) *fakeBoot {
	f := newFakeBoot(t)
	f.addFlags(FlagMemory | FlagCommandLine | FlagBootloaderName)
	f.put32(infoPhys+offMemLower, 639)
	f.put32(infoPhys+offMemUpper, 130944)
	f.put32(infoPhys+offCmdline, cmdlinePhys)
	f.putString(cmdlinePhys, "build/kernel.elf selftest=primes:100000 quiet")
	f.put32(infoPhys+offBootloaderName, namePhys)
	f.putString(namePhys, "qemu")
	f.setMemoryMap(qemuMap)
	f.setModules([]module{
		{0x800000, 0x812345, "init.elf arg1"},
		{0x813000, 0x813000, "empty"},
	})
	return f
}
