package mm

// The entry area in each address space (arch/entry.go has its layout): the shared pages —
// trampoline, GDT, IDT, read-only data — and each space's own TSS, I/O bitmap and entry
// stacks. The core's map shows every task's entry stacks too, each space's at an address of
// its own (its alias, EntryAliasBase + id × EntryAliasSlot), mapped when the space is built:
// the trampoline reaches the stack it arrived on through the alias once it has switched to the
// core's CR3, and the way back writes through it, so no thread switch touches a page table.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import "github.com/simpleos/simpleos/core/kernel/arch"

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
	as.entryAlias = arch.EntryStack // kept: every switch to one of its threads reads it
	if !core {
		as.entryAlias = EntryAliasBase + uintptr(as.id&(MaxSpaces-1))*EntryAliasSlot
	}
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
	alias := uintptr(0)
	if !core && !hosted {
		alias = as.EntryStackAlias()
		for i, f := range as.stackFrames {
			if !KernelPML4.MapPage(alias+uintptr(i)*PageSize, f, rw, nil) {
				return false
			}
		}
	}
	as.tss.Init(codeSel, stackSel, alias)
	return true
}

// EntryStackAlias is where the core's map shows as's entry stacks (the core's own: at
// arch.EntryStack, in its own entry area), as BuildEntryArea set it.
//
//go:nosplit
func (as *AddressSpace) EntryStackAlias() uintptr { return as.entryAlias }

// dropEntryStackAlias unmaps as's entry stacks from the core's map, before they are freed.
//
//go:nosplit
func (as *AddressSpace) dropEntryStackAlias() {
	if as.id == CoreSpace || hosted {
		return
	}
	for i := range as.stackFrames {
		KernelPML4.ClearPage(as.EntryStackAlias() + uintptr(i)*PageSize)
	}
}

// InitCoreEntryArea maps the entry area into the core's own space (writable GDT and TSS): its
// entry stacks take the traps of the core's own code.
//
//go:nosplit
func InitCoreEntryArea() {
	if !Space(CoreSpace).BuildEntryArea(true, arch.SelKernelCode, arch.SelKernelData) {
		arch.Panic("out of memory building the core's entry area", 0)
	}
	// The page tables of every space's alias, made now: they belong to the core from boot
	// (one table covers them all), not to the first task that starts.
	if _, ok := KernelPML4.Walk(EntryAliasBase, true, nil); !ok {
		arch.Panic("out of memory mapping the entry stacks' aliases", 0)
	}
}

// The aliases of every space fit in the one page table InitCoreEntryArea makes.
var _ = [1]struct{}{}[MaxSpaces*EntryAliasSlot/(2<<20)]

// DescriptorPages returns the kernel addresses of the shared GDT and IDT pages.
//
//go:nosplit
func DescriptorPages() (gdt, idt uintptr) {
	return DirectMap(entryShared.gdt), DirectMap(entryShared.idt)
}
