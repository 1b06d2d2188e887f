package arch

// Global descriptor table and task-state segment.
//
// The GDT holds 64-bit code and data descriptors for each of the four rings and the TSS. The
// ring-3 entries follow the order SYSRET expects (32-bit code, data, 64-bit code from
// STAR[63:48]). Both live in the entry area (entry.go): the GDT is shared, the TSS (stack
// pointers and I/O permission bitmap) belongs to each address space. Every vector enters on an
// IST stack (the CPU does not switch stacks for traps taken at ring 0), NMI/#DF/#MC on a
// second one.
//
// Runs before the Go runtime (InitGDT) and in trap context: nosplit, no allocation, no heap
// pointer writes.

import (
	"unsafe"

	"github.com/simpleos/simpleos/core/x86"
)

// Segment selectors.
const (
	SelKernelCode = 0x08
	SelKernelData = 0x10
	SelRing1Code  = 0x18 | 1
	SelRing1Data  = 0x20 | 1
	SelRing2Code  = 0x28 | 2
	SelRing2Data  = 0x30 | 2
	SelUser32Code = 0x38 | 3
	SelUserData   = 0x40 | 3
	SelUserCode   = 0x48 | 3
	selTSS        = 0x50
)

const gdtEntries = 12 // 10 segment descriptors + a 16-byte TSS descriptor

// Pseudo-descriptor for LGDT/LIDT: 2-byte limit, 8-byte base.
type pseudoDescriptor struct {
	words [2]uint64
}

//go:nosplit
func (p *pseudoDescriptor) set(base uintptr, limit uint16) {
	p.words[0] = uint64(limit) | uint64(base)<<16
	p.words[1] = uint64(base) >> 48
}

var gdtr pseudoDescriptor

// Descriptors are built with their accessed bit already set: the GDT is read-only in tasks'
// address spaces, and the CPU would otherwise write that bit when a selector is loaded.

// codeDescriptor returns a 64-bit code segment descriptor for ring dpl.
func codeDescriptor(dpl uint64) uint64 {
	return 0x00af_9b00_0000_ffff | dpl<<45
}

// dataDescriptor returns a writable data segment descriptor for ring dpl.
func dataDescriptor(dpl uint64) uint64 {
	return 0x00cf_9300_0000_ffff | dpl<<45
}

// user32CodeDescriptor is the 32-bit ring-3 code segment SYSRET's layout requires.
const user32CodeDescriptor = 0x00cf_fb00_0000_ffff

// tssDescriptor returns the two words of an available 64-bit TSS descriptor.
func tssDescriptor(base uint64, limit uint64) (lo, hi uint64) {
	lo = limit&0xffff | (base&0xff_ffff)<<16 | 0x89<<40 | (limit>>16&0xf)<<48 | (base>>24&0xff)<<56
	hi = base >> 32
	return
}

// InitGDT writes the GDT into its entry-area page (at kernel address g), loads it and the
// task register.
//
//go:nosplit
func InitGDT(g uintptr) {
	descs := [gdtEntries - 2]uint64{
		0,
		codeDescriptor(0), dataDescriptor(0),
		codeDescriptor(1), dataDescriptor(1),
		codeDescriptor(2), dataDescriptor(2),
		user32CodeDescriptor, dataDescriptor(3), codeDescriptor(3),
	}
	for i, d := range descs {
		Store64(g+uintptr(i)*8, d)
	}
	lo, hi := tssDescriptor(EntryTSS, tssLimit)
	Store64(g+10*8, lo)
	Store64(g+11*8, hi)
	gdtr.set(EntryGDT, gdtEntries*8-1)
	x86.Lgdt(uintptr(unsafe.Pointer(&gdtr)))
	x86.ReloadSegments(SelKernelCode, SelKernelData)
	x86.Ltr(selTSS)
}

// SelectorsForRing returns the code and stack selectors of a ring.
//
//go:nosplit
func SelectorsForRing(ring int) (code, stack uint64) {
	switch ring {
	case 1:
		return SelRing1Code, SelRing1Data
	case 2:
		return SelRing2Code, SelRing2Data
	case 3:
		return SelUserCode, SelUserData
	}
	return SelKernelCode, SelKernelData
}

// InitSyscallMSRs points SYSCALL at the trampoline. STAR: SYSCALL loads CS=0x08, SS=0x10;
// SYSRET (ring 3) loads CS=0x4b, SS=0x43. FMASK clears IF, TF, DF, AC and NT on entry.
//
//go:nosplit
func InitSyscallMSRs() {
	x86.WriteMSR(x86.MSR_STAR, uint64(SelUser32Code)<<48|uint64(SelKernelCode)<<32)
	x86.WriteMSR(x86.MSR_LSTAR, entrySyscall)
	x86.WriteMSR(x86.MSR_KERNEL_GS_BASE, EntryStack) // trampSyscall's scratch word
	x86.WriteMSR(x86.MSR_GS_BASE, 0)
	x86.WriteMSR(x86.MSR_FMASK, x86.FlagIF|x86.FlagTF|x86.FlagDF|x86.FlagAC|x86.FlagNT)
	x86.WriteMSR(x86.MSR_EFER, x86.ReadMSR(x86.MSR_EFER)|1|1<<11) // SCE, NXE
}
