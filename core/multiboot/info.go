// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// Package multiboot reads the Multiboot v1 (0.6.96) information structure the boot
// loader leaves in memory. Everything is read in place through a phys→virt offset.
package multiboot

// BootloaderMagic is the value a Multiboot v1 loader leaves in EAX.
const BootloaderMagic = 0x2BADB002

// Flag bits saying which info structure fields are valid.
const (
	FlagMemory         = 1 << 0
	FlagBootDevice     = 1 << 1
	FlagCommandLine    = 1 << 2
	FlagModules        = 1 << 3
	FlagMemoryMap      = 1 << 6
	FlagBootloaderName = 1 << 9
)

// Byte offsets of the info structure fields we use.
const (
	offFlags          = 0
	offMemLower       = 4
	offMemUpper       = 8
	offCmdline        = 16
	offModsCount      = 20
	offModsAddr       = 24
	offMmapLength     = 44
	offMmapAddr       = 48
	offBootloaderName = 64
)

// Info locates the info structure: its physical address and the phys→virt offset.
type Info struct {
	addr uintptr
	off  uintptr
}

// Load checks the loader's magic and wraps the info structure at infoPhys; the kernel
// reads physical address p at p+offset.
//
//go:nosplit
func Load(magic uint32, infoPhys uintptr, offset uintptr) (Info, bool) {
	if magic != BootloaderMagic || infoPhys == 0 {
		return Info{}, false
	}
	return Info{addr: infoPhys, off: offset}, true
}

// Flags reports which fields the loader filled in; 0 for an Info not from Load.
//
//go:nosplit
func (i Info) Flags() uint32 {
	if i.addr == 0 {
		return 0
	}
	return i.field(offFlags)
}

//go:nosplit
func (i Info) has(flag uint32) bool { return i.Flags()&flag != 0 }

// MemoryKB returns the KiB of memory below 1 MiB and above 1 MiB.
//
//go:nosplit
func (i Info) MemoryKB() (lower, upper uint32, ok bool) {
	if !i.has(FlagMemory) {
		return 0, 0, false
	}
	return i.field(offMemLower), i.field(offMemUpper), true
}

// CommandLine returns the kernel command line, or "" if the loader gave none.
//
//go:nosplit
func (i Info) CommandLine() string {
	if !i.has(FlagCommandLine) {
		return ""
	}
	return i.cString(i.field(offCmdline))
}

// BootloaderName returns the loader's name, or "" if absent.
//
//go:nosplit
func (i Info) BootloaderName() string {
	if !i.has(FlagBootloaderName) {
		return ""
	}
	return i.cString(i.field(offBootloaderName))
}
