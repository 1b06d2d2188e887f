// Runs in trap context: nosplit, no allocation, no heap pointer writes.

package multiboot

// maxModules caps mods_count so a corrupt count cannot walk arbitrary memory.
const maxModules = 64

// moduleEntrySize is the size of one module list entry:
// mod_start, mod_end, string, reserved (all u32).
const moduleEntrySize = 16

// ModuleCount returns how many boot modules the loader passed (at most 64).
//
//go:nosplit
func (i Info) ModuleCount() int {
	if !i.has(FlagModules) || i.field(offModsAddr) == 0 {
		return 0
	}
	n := i.field(offModsCount)
	if n > maxModules {
		n = maxModules
	}
	return int(n)
}

// Module returns module n's physical range [start, end) and its command line.
//
//go:nosplit
func (i Info) Module(n int) (start, end uintptr, cmdline string, ok bool) {
	if n < 0 || n >= i.ModuleCount() {
		return 0, 0, "", false
	}
	entry := i.virt(uintptr(i.field(offModsAddr)) + uintptr(n)*moduleEntrySize)
	start = uintptr(read32(entry))
	end = uintptr(read32(entry + 4))
	if end < start {
		return 0, 0, "", false
	}
	return start, end, i.cString(read32(entry + 8)), true
}
