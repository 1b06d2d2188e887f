package kernel

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
	f, ok := allocFrame()
	if !ok {
		arch.Panic("out of memory building the entry area", 0)
	}
	return f
}

// initEntryShared creates the shared entry-area frames and fills them: the trampoline copied
// out of the core image, the read-only data page.
//
//go:nosplit
func initEntryShared() {
	e := &entryShared
	e.stubs, e.code, e.gdt, e.idt, e.roData = mustFrame(), mustFrame(), mustFrame(), mustFrame(), mustFrame()
	arch.InstallTrampoline(directMap(e.stubs), directMap(e.code), directMap(e.roData), uint64(kernelPML4))
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
	ok := as.root.mapPage(arch.EntryStubs, e.stubs, 0, s) &&
		as.root.mapPage(arch.EntryCode, e.code, 0, s) &&
		as.root.mapPage(arch.EntryGDT, e.gdt, gdtFlags, s) &&
		as.root.mapPage(arch.EntryIDT, e.idt, ro, s) &&
		as.root.mapPage(arch.EntryROData, e.roData, ro, s)
	if !ok {
		return false
	}
	for i := 0; i < arch.TSSPages; i++ {
		f, ok := allocFrameFor(s)
		if !ok || !as.root.mapPage(arch.EntryTSS+uintptr(i)*pageSize, f, gdtFlags|pteOwned, s) {
			return false
		}
		as.tss[i] = directMap(f)
	}
	for i := 0; i < arch.EntryStackPages; i++ {
		f, ok := allocFrameFor(s)
		if !ok || !as.root.mapPage(arch.EntryStack+uintptr(i)*pageSize, f, rw|pteOwned, s) {
			return false
		}
		as.stackFrames[i] = f
	}
	as.tss.Init(codeSel, stackSel)
	return true
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
	for i := 0; i < arch.EntryStackPages; i++ {
		e, ok := kernelPML4.walk(arch.EntryStack+uintptr(i)*pageSize, false, nil)
		if !ok {
			arch.Panic("core entry area missing", 0)
		}
		arch.Store64(e, as.stackFrames[i]|ptePresent|pteWrite|pteNX)
		x86.Invlpg(arch.EntryStack + uintptr(i)*pageSize)
	}
}
