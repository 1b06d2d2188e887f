package mm

// The core's virtual memory layout.
//
//	0x0000_0000_0000_0000  page 0 and the first MiB: never mapped (nil dereferences fault)
//	0x0000_0000_001f_f000  the core image (ELF header page, text, rodata, data, bss), identity-mapped
//	0x0000_0000_fec0_0000  I/O APIC and local APIC registers, identity-mapped, uncached
//	      ...              the Go runtime's mmap regions (hints it chooses, or top-down from MMapTop)
//	0x0000_7d00_0000_0000  kernel-managed windows of every task: device memory (mmio_map), DMA
//	0x0000_7d80_0000_0000  memory (dma_alloc), then
//	0x0000_7e00_0000_0000  page grants (one window per thread slot); no task maps, unmaps or
//	0x0000_7f00_0000_0000  protects anything here (UserRange)
//	0x0000_7fff_ffff_f000  top of the main thread's stack
//	0xffff_8000_0000_0000  direct map of all physical memory (phys + DirectMapBase)
//	0xffff_c000_0000_0000  kernel stacks, one 64 KiB slot per thread: 16 KiB stack, guard below
//	0xffff_d000_0000_0000  every address space's entry stacks (entry.go), one 16 KiB slot each
//
// The Go runtime's heap can only live below 2^47, so the lower half belongs to the runtime; the
// kernel's own mappings live in the upper half.
import "github.com/simpleos/simpleos/core/kernel/arch"

const (
	PageSize  = 4096
	PageShift = 12

	DirectMapBase   = 0xffff_8000_0000_0000
	KernelStackBase = 0xffff_c000_0000_0000
	KernelStackSlot = 64 << 10
	KernelStackSize = 16 << 10
	EntryAliasBase  = 0xffff_d000_0000_0000
	EntryAliasSlot  = 16 << 10

	// ImageBase is where the core's first PT_LOAD (its ELF header) sits: the link address
	// 0x200000 (boot.CoreLinkAddr) minus the header page.
	ImageBase = 0x1ff000

	UserStackTop  = UserLimit
	UserStackSize = 8 << 20
	MMapTop       = MMIOWindow // top-down mmap starts below the kernel-managed windows

	MMIOWindow  = 0x7d00_0000_0000 // device memory granted to a driver (package mmio)
	DMAWindow   = 0x7d80_0000_0000 // a driver's DMA memory (package pcidev), page i at DMAWindow+i*PageSize
	GrantWindow = 0x7e00_0000_0000 // pages lent to a server for one call (ipc.go)
	WindowsEnd  = 0x7f00_0000_0000
	UserTop     = arch.LowerHalfEnd // the end of the canonical lower half

	// UserLimit is the end of what a task may map: the last page below UserTop stays unmapped
	// (as on Linux), so the address after a SYSCALL or INT n at the top of the highest
	// mapped page is still canonical, and IRETQ back to it cannot fault in ring 0.
	UserLimit = UserTop - PageSize
)

// UserRange reports whether [start, end) is address space a task may map, unmap or protect:
// inside [PageSize, UserLimit) and clear of the kernel-managed windows.
//
//go:nosplit
func UserRange(start, end uintptr) bool {
	return start >= PageSize && start < end && end <= UserLimit && (end <= MMIOWindow || start >= WindowsEnd)
}

// DirectMapEnd is the end of the physical memory the direct map covers (set at boot).
var DirectMapEnd uint64

// DirectMap returns the kernel virtual address of physical address pa.
//
//go:nosplit
func DirectMap(pa uint64) uintptr { return uintptr(pa) + directBase }

// directBase is where the direct map starts: DirectMapBase, or a host test's memory
// (UseHostMemory).
var directBase uintptr = DirectMapBase

//go:nosplit
func IsKernelAddr(va uintptr) bool { return va >= DirectMapBase }

//go:nosplit
func PageDown(va uintptr) uintptr { return va &^ (PageSize - 1) }

//go:nosplit
func PageUp(va uintptr) uintptr { return (va + PageSize - 1) &^ (PageSize - 1) }
