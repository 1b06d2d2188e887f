package kernel

// The entry area: the part of the upper half that every address space maps at the same
// address (PML4 slot 511), holding what the CPU needs to enter the kernel from a task —
// and nothing else of the core. Like the trampoline page of xv6 or the entry area of Linux's
// page-table isolation:
//
//	+0x0000  trampoline stubs, one per IDT vector (shared, read-only, executable)
//	+0x1000  trampoline code: trampCommon, +0x400 trampSyscall, +0x800 trampExit
//	+0x2000  GDT (shared; writable only in the core's map)
//	+0x3000  IDT (shared, read-only)
//	+0x4000  read-only data: the core's CR3 and the address of trapEntry (shared)
//	+0x5000  TSS and I/O permission bitmap, 3 pages (per address space, read-only to tasks);
//	         +0x7800 holds the space's code and stack selectors for trampSyscall
//	+0x8000  entry stack, 2 pages (per address space): IST1 for every vector; its first
//	         word is trampSyscall's scratch (KERNEL_GS_BASE)
//	+0xa000  NMI / double-fault / machine-check stack, 1 page (per address space): IST2
//
// Rings 1 and 2 can read and write any page mapped in their address space, so the shared
// structures are mapped read-only there and the writable ones are per task: a task can only
// scribble on its own entry stack, which holds nothing but its own registers. The core maps
// the *running* task's entry stacks at the same addresses, so the stack stays valid while
// trampCommon switches CR3.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import "github.com/simpleos/simpleos/core/x86"

const (
	entryBase      = 0xffff_ff80_0000_0000
	entryStubs     = entryBase + 0x0000
	entryCode      = entryBase + 0x1000
	entrySyscall   = entryCode + 0x400
	entryExit      = entryCode + 0x800
	entryGDT       = entryBase + 0x2000
	entryIDT       = entryBase + 0x3000
	entryROData    = entryBase + 0x4000
	entryTSS       = entryBase + 0x5000
	entryTaskInfo  = entryBase + 0x7800
	entryStack     = entryBase + 0x8000
	entryStackTop  = entryBase + 0xa000
	entryNMIStack  = entryBase + 0xa000
	entryNMITop    = entryBase + 0xb000
	entryCodeSlot  = 0x400 // room for each trampoline routine
	tssPages       = 3
	ioBitmapOffset = 104
	ioBitmapSize   = 8192
	tssLimit       = ioBitmapOffset + ioBitmapSize // the byte after the bitmap (0xff) is included
)

// Shared frames of the entry area.
var entryShared struct {
	stubs, code, gdt, idt, roData uint64
}

func trampAddrs() (stubs, common, syscall, exit uintptr)
func trapEntryAddr() uintptr
func trampStubs()
func trampCommon()
func trampSyscall()
func trampExit()

// trampLength finds a trampoline routine's end marker ("TAMPREND").
//
//go:nosplit
func trampLength(start uintptr, max uintptr) uintptr {
	for off := uintptr(0); off+8 <= max; off++ {
		if load32(start+off) == 0x504d4154 && load32(start+off+4) == 0x444e4552 {
			return off
		}
	}
	panicKernel("trampoline routine too long or without end marker at", uint64(start))
	return 0
}

//go:nosplit
func mustFrame() uint64 {
	f, ok := allocFrame()
	if !ok {
		panicKernel("out of memory building the entry area", 0)
	}
	return f
}

// initEntryShared creates the shared entry-area frames: it copies the trampoline out of the
// core image and fills the read-only data page.
//
//go:nosplit
func initEntryShared() {
	stubs, common, syscall, exit := trampAddrs()
	e := &entryShared
	e.stubs, e.code, e.gdt, e.idt, e.roData = mustFrame(), mustFrame(), mustFrame(), mustFrame(), mustFrame()
	if n := trampLength(stubs, pageSize+8); n != 256*16 {
		panicKernel("trampoline stubs are not 4096 bytes:", uint64(n))
	}
	memmove(directMap(e.stubs), stubs, 256*16)
	memmove(directMap(e.code), common, trampLength(common, entryCodeSlot))
	memmove(directMap(e.code)+0x400, syscall, trampLength(syscall, entryCodeSlot))
	memmove(directMap(e.code)+0x800, exit, trampLength(exit, entryCodeSlot))
	store64(directMap(e.roData), uint64(kernelPML4))
	store64(directMap(e.roData)+8, uint64(trapEntryAddr()))
}

// buildEntryArea maps the entry area into as: the shared pages, and fresh TSS and stack
// pages of its own. core says whether as is the core's (writable GDT and TSS).
//
//go:nosplit
func (as *AddressSpace) buildEntryArea(core bool, codeSel, stackSel uint64) bool {
	e := &entryShared
	rw := uint64(pteWrite | pteNX)
	ro := uint64(pteNX)
	gdtFlags := ro
	if core {
		gdtFlags = rw
	}
	s := as.src()
	ok := as.root.mapPage(entryStubs, e.stubs, 0, s) &&
		as.root.mapPage(entryCode, e.code, 0, s) &&
		as.root.mapPage(entryGDT, e.gdt, gdtFlags, s) &&
		as.root.mapPage(entryIDT, e.idt, ro, s) &&
		as.root.mapPage(entryROData, e.roData, ro, s)
	if !ok {
		return false
	}
	for i := 0; i < tssPages; i++ {
		f, ok := allocFrameFor(s)
		if !ok || !as.root.mapPage(entryTSS+uintptr(i)*pageSize, f, gdtFlags|pteOwned, s) {
			return false
		}
		as.tssFrames[i] = f
	}
	for i := 0; i < 3; i++ {
		f, ok := allocFrameFor(s)
		if !ok || !as.root.mapPage(entryStack+uintptr(i)*pageSize, f, rw|pteOwned, s) {
			return false
		}
		as.stackFrames[i] = f
	}
	// TSS: every stack pointer is an entry-area stack; no port is allowed until granted.
	tss := directMap(as.tssFrames[0])
	storeUnaligned64(tss+4, entryStackTop)  // RSP0
	storeUnaligned64(tss+36, entryStackTop) // IST1
	storeUnaligned64(tss+44, entryNMITop)   // IST2
	store32(tss+100, ioBitmapOffset<<16)
	for off := uintptr(ioBitmapOffset); off <= tssLimit; off++ {
		tssByte(as, off, 0xff)
	}
	info := directMap(as.tssFrames[2]) + (entryTaskInfo - entryTSS - 2*pageSize)
	store64(info, codeSel)
	store64(info+8, stackSel)
	return true
}

// tssByte writes byte off of as's 3-page TSS area.
//
//go:nosplit
func tssByte(as *AddressSpace, off uintptr, v uint8) {
	store8(directMap(as.tssFrames[(off/pageSize)%tssPages])+off%pageSize, v)
}

// AllowPort clears port's bit in as's I/O permission bitmap.
//
//go:nosplit
func (as *AddressSpace) allowPort(port uint16) {
	off := ioBitmapOffset + uintptr(port/8)
	f := directMap(as.tssFrames[(off/pageSize)%tssPages]) + off%pageSize
	store8(f, load8(f)&^(1<<(port%8)))
}

//go:nosplit
func storeUnaligned64(p uintptr, v uint64) {
	store32(p, uint32(v))
	store32(p+4, uint32(v>>32))
}

// entryStackOwner is the address space whose entry stacks the core's map shows.
var entryStackOwner int32 = -1

// showEntryStacks maps space s's entry stacks into the core's entry area, where trapEntry and
// the return path use them.
//
//go:nosplit
func showEntryStacks(s int32) {
	if s == entryStackOwner {
		return
	}
	entryStackOwner = s
	as := &spaces[s&(maxProcs-1)]
	for i := 0; i < 3; i++ {
		e, ok := kernelPML4.walk(entryStack+uintptr(i)*pageSize, false, nil)
		if !ok {
			panicKernel("core entry area missing", 0)
		}
		store64(e, as.stackFrames[i]|ptePresent|pteWrite|pteNX)
		x86.Invlpg(entryStack + uintptr(i)*pageSize)
	}
}
