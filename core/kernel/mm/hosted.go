package mm

// Physical memory on a host, for tests (a fake machine, as Hubris's tests have): the page
// tables, address spaces, demand paging, user-memory access and loans all work on ordinary
// memory, since the kernel reaches every frame through the direct map and never through a
// loaded page table. Only loading a table (CR3) and flushing the TLB are the machine's, and
// there is no machine.

import (
	"unsafe"

	"github.com/simpleos/simpleos/core/multiboot"
)

// hosted says the package runs on a host's memory (UseHostMemory).
var hosted bool

// UseHostMemory makes mem physical memory, from address 0 (its first MiB is never handed
// out), and the direct map mem itself; it starts afresh: every frame free, no address space
// but the core's (an empty one), no loan, the entry area's shared pages made. For host tests;
// never on the machine.
func UseHostMemory(mem []byte) {
	hosted = true
	directBase = uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	DirectMapEnd = uint64(len(mem))
	frameBitmap = [maxFrames / 64]uint64{}
	frames, frameHint, frameTop = FrameStats{}, 0, 0
	FramePool = Pool{Keep: coreFrames}
	spaces = [MaxSpaces]AddressSpace{}
	pcids = false
	loans = [maxLoans]loan{}
	snapshots = [MaxSnapshots]snapshot{}
	CoreTablePages = 0
	InitFrames([]multiboot.Range{{Start: 1 << 20, End: uint64(len(mem))}})
	root, _ := AllocFrame()
	KernelPML4 = PageTable(root)
	spaces[CoreSpace].root = KernelPML4
	spaces[CoreSpace].setCR3()
	InitEntryShared()
}
