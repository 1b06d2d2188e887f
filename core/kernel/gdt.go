package kernel

// Global descriptor table and task-state segment.
//
// The GDT holds 64-bit code and data descriptors for each of the four rings and the TSS. The
// ring-3 entries follow the order SYSRET expects (32-bit code, data, 64-bit code from
// STAR[63:48]). The TSS gives the interrupt stacks: every vector enters on an IST stack (the
// CPU does not switch stacks for traps taken at ring 0), NMI/#DF/#MC on a second one.

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

var gdt [gdtEntries]uint64

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

// The TSS: 104 bytes, as 26 32-bit words because its 64-bit fields are misaligned.
const (
	tssRSP0 = 1  // word index of RSP0 (low half)
	tssIST1 = 9  // IST1..IST7 follow, two words each
	tssIOMB = 25 // I/O map base in the upper 16 bits
	tssSize = 104
)

var tss [26]uint32

const istStackSize = 8 << 10

var istStacks [2][istStackSize]byte

// codeDescriptor returns a 64-bit code segment descriptor for ring dpl.
func codeDescriptor(dpl uint64) uint64 {
	return 0x00af_9a00_0000_ffff | dpl<<45
}

// dataDescriptor returns a writable data segment descriptor for ring dpl.
func dataDescriptor(dpl uint64) uint64 {
	return 0x00cf_9200_0000_ffff | dpl<<45
}

// user32CodeDescriptor is the 32-bit ring-3 code segment SYSRET's layout requires.
const user32CodeDescriptor = 0x00cf_fa00_0000_ffff

// tssDescriptor returns the two words of an available 64-bit TSS descriptor.
func tssDescriptor(base uint64, limit uint64) (lo, hi uint64) {
	lo = limit&0xffff | (base&0xff_ffff)<<16 | 0x89<<40 | (limit>>16&0xf)<<48 | (base>>24&0xff)<<56
	hi = base >> 32
	return
}

//go:nosplit
func tssSet64(word int, v uint64) {
	tss[word] = uint32(v)
	tss[word+1] = uint32(v >> 32)
}

// initGDT loads the final GDT and the TSS.
//
//go:nosplit
func initGDT() {
	gdt[0] = 0
	gdt[1] = codeDescriptor(0)
	gdt[2] = dataDescriptor(0)
	gdt[3] = codeDescriptor(1)
	gdt[4] = dataDescriptor(1)
	gdt[5] = codeDescriptor(2)
	gdt[6] = dataDescriptor(2)
	gdt[7] = user32CodeDescriptor
	gdt[8] = dataDescriptor(3)
	gdt[9] = codeDescriptor(3)
	gdt[10], gdt[11] = tssDescriptor(uint64(uintptr(unsafe.Pointer(&tss))), tssSize-1)

	for i := range istStacks {
		top := uint64(uintptr(unsafe.Pointer(&istStacks[i][istStackSize-16])))
		tssSet64(tssIST1+2*i, top)
	}
	tssSet64(tssRSP0, uint64(uintptr(unsafe.Pointer(&istStacks[0][istStackSize-16]))))
	tss[tssIOMB] = tssSize << 16 // no I/O bitmap: ports fault outside ring 0

	gdtr.set(uintptr(unsafe.Pointer(&gdt)), uint16(len(gdt)*8-1))
	x86.Lgdt(uintptr(unsafe.Pointer(&gdtr)))
	x86.ReloadSegments(SelKernelCode, SelKernelData)
	x86.Ltr(selTSS)
}
