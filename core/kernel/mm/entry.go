package mm

// The entry area in each address space (arch/entry.go has its layout): the shared pages —
// trampoline, GDT, IDT, read-only data — and each space's own TSS, I/O bitmap and entry
// stacks. The core maps the running task's entry stacks at the same addresses in its own map,
// so the stack stays valid while the trampoline switches CR3.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/x86"
)

// Shared frames of the entry area.
var entryShared struct {
	stubs, code, gdt, idt, roData uint64
}

//go:nosplit
func mustFrame() uint64 {
	f, ok := AllocFrame()
	if !ok {
		arch.Panic("out of memory building the entry area", 0)
	}
	return f
}

// InitEntryShared creates the shared entry-area frames and fills them: the trampoline copied
// out of the core image, the read-only data page.
//
//go:nosplit
func InitEntryShared() {
	e := &entryShared
	e.stubs, e.code, e.gdt, e.idt, e.roData = mustFrame(), mustFrame(), mustFrame(), mustFrame(), mustFrame()
	arch.InstallTrampoline(DirectMap(e.stubs), DirectMap(e.code), DirectMap(e.roData), uint64(KernelPML4))
}

// BuildEntryArea maps the entry area into as: the shared pages, and fresh TSS and stack
// pages of its own. core says whether as is the core's (writable GDT and TSS).
//
//go:nosplit
func (as *AddressSpace) BuildEntryArea(core bool, codeSel, stackSel uint64) bool {
	e := &entryShared
	rw := uint64(PTEWrite | PTENX)
	ro := uint64(PTENX)
	gdtFlags := ro
	if core {
		gdtFlags = rw
	}
	s := as.src()
	ok := as.root.MapPage(arch.EntryStubs, e.stubs, 0, s) &&
		as.root.MapPage(arch.EntryCode, e.code, 0, s) &&
		as.root.MapPage(arch.EntryGDT, e.gdt, gdtFlags, s) &&
		as.root.MapPage(arch.EntryIDT, e.idt, ro, s) &&
		as.root.MapPage(arch.EntryROData, e.roData, ro, s)
	if !ok {
		return false
	}
	for i := 0; i < arch.TSSPages; i++ {
		f, ok := AllocFrameFor(s)
		if !ok || !as.root.MapPage(arch.EntryTSS+uintptr(i)*PageSize, f, gdtFlags|PTEOwned, s) {
			return false
		}
		as.tss[i] = DirectMap(f)
	}
	for i := 0; i < arch.EntryStackPages; i++ {
		f, ok := AllocFrameFor(s)
		if !ok || !as.root.MapPage(arch.EntryStack+uintptr(i)*PageSize, f, rw|PTEOwned, s) {
			return false
		}
		as.stackFrames[i] = f
	}
	as.tss.Init(codeSel, stackSel)
	return true
}

// entryStackOwner is the address space whose entry stacks the core's map shows.
var entryStackOwner int32 = -1

// entryStackPTEs are the entries of the core's page table that map its entry stacks, found
// once (InitCoreEntryArea): a thread switch rewrites them without walking the table.
var entryStackPTEs [arch.EntryStackPages]uintptr

// ShowEntryStacks maps space s's entry stacks into the core's entry area, where trapEntry and
// the return path use them.
//
//go:nosplit
func ShowEntryStacks(s int32) {
	if hosted || s == entryStackOwner {
		return
	}
	entryStackOwner = s
	as := Space(s)
	for i := range entryStackPTEs {
		arch.Store64(entryStackPTEs[i], as.stackFrames[i]|PTEPresent|PTEWrite|PTENX)
		x86.Invlpg(arch.EntryStack + uintptr(i)*PageSize)
	}
}

// InitCoreEntryArea maps the entry area into the core's own space (writable GDT and TSS): its
// entry stacks are the ones its map shows until a task runs.
//
//go:nosplit
func InitCoreEntryArea() {
	if !Space(CoreSpace).BuildEntryArea(true, arch.SelKernelCode, arch.SelKernelData) {
		arch.Panic("out of memory building the core's entry area", 0)
	}
	entryStackOwner = CoreSpace
	for i := range entryStackPTEs {
		e, ok := KernelPML4.Walk(arch.EntryStack+uintptr(i)*PageSize, false, nil)
		if !ok {
			arch.Panic("core entry area missing", 0)
		}
		entryStackPTEs[i] = e
	}
}

// DescriptorPages returns the kernel addresses of the shared GDT and IDT pages.
//
//go:nosplit
func DescriptorPages() (gdt, idt uintptr) {
	return DirectMap(entryShared.gdt), DirectMap(entryShared.idt)
}
