package arch

// The trap frame.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import "unsafe"

// TrapFrame is the saved state of an interrupted context, built on the kernel stack by
// trapEntry (trap_amd64.s) and restored by trapReturn. The layout is fixed by the assembly,
// which takes its offsets from this type (go_asm.h): FXSAVE area first (16-byte aligned),
// then the registers in pop order, then the hardware's frame.
type TrapFrame struct {
	FX                                   [512]byte
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RBP, RDI, RSI, RDX, RCX, RBX, RAX    uint64
	Vector, ErrorCode                    uint64
	RIP, CS, RFLAGS, RSP, SS             uint64
}

// entryFrame is what trapEntry finds on the entry stack: the vector and error code the
// trampoline stubs push (trampSyscall builds the same), then the CPU's interrupt frame. The
// assembly takes its offsets from this type.
type entryFrame struct {
	Vector, ErrorCode        uint64
	RIP, CS, RFLAGS, RSP, SS uint64
}

// TrapFrameSize is the size of a TrapFrame: the top of every kernel stack holds one.
const TrapFrameSize = unsafe.Sizeof(TrapFrame{})

// trapRegsWords counts the words trapReturn copies to the entry stack for a task: the
// general registers and the hardware frame.
const trapRegsWords = (TrapFrameSize - 512) / 8

// VectorSyscall marks a frame built by trampSyscall.
const VectorSyscall = 0x100

// LowerHalfEnd is where the canonical lower half of the address space ends: the tasks' (mm's
// UserTop).
const LowerHalfEnd = 0x8000_0000_0000

// UpperHalf is where the canonical upper half of the address space starts: the kernel's.
const UpperHalf = 0xffff_8000_0000_0000

// FromKernel reports whether the frame interrupted kernel code — ring 0 on an upper-half
// stack — rather than a Go runtime. The saved CS decides first: a task (ring 1 to 3) chooses
// its own stack pointer, so its traps are never the kernel's.
//
//go:nosplit
func (tf *TrapFrame) FromKernel() bool { return tf.CS&3 == 0 && tf.RSP >= UpperHalf }

// FromTask reports whether the frame interrupted a task (ring 1 to 3).
//
//go:nosplit
func (tf *TrapFrame) FromTask() bool { return tf.CS&3 != 0 }

// Arg returns system-call argument i (0-5: RDI, RSI, RDX, R10, R8, R9).
//
//go:nosplit
func (tf *TrapFrame) Arg(i int) uint64 {
	switch i {
	case 0:
		return tf.RDI
	case 1:
		return tf.RSI
	case 2:
		return tf.RDX
	case 3:
		return tf.R10
	case 4:
		return tf.R8
	}
	return tf.R9
}

// InitFX gives a fresh frame the x87/SSE reset state: FCW 0x37f, MXCSR 0x1f80.
//
//go:nosplit
func (tf *TrapFrame) InitFX() {
	tf.FX = [512]byte{}
	tf.FX[0] = 0x7f
	tf.FX[1] = 0x03
	*(*uint32)(unsafe.Pointer(&tf.FX[24])) = 0x1f80
	*(*uint32)(unsafe.Pointer(&tf.FX[28])) = 0xffbf
}

// FXAddr is the kernel address of the frame's FXSAVE area.
//
//go:nosplit
func (tf *TrapFrame) FXAddr() uintptr { return uintptr(unsafe.Pointer(&tf.FX[0])) }

// Canonical reports whether va is a canonical x86-64 address (bits 63-47 all equal).
//
//go:nosplit
func Canonical(va uint64) bool { return va < LowerHalfEnd || va >= UpperHalf }
