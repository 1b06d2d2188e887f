package kernel

import "unsafe"

// TrapFrame is the saved state of an interrupted context, built on the kernel stack by
// trapEntry and syscallEntry (trap_amd64.s) and restored by trapReturn. The layout is fixed
// by the assembly: FXSAVE area first (16-byte aligned), then the registers in pop order.
type TrapFrame struct {
	FX                                   [512]byte
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RBP, RDI, RSI, RDX, RCX, RBX, RAX    uint64
	Vector, ErrorCode                    uint64
	RIP, CS, RFLAGS, RSP, SS             uint64
}

const trapFrameSize = 688

// vectorSyscall marks a frame built by syscallEntry.
const vectorSyscall = 0x100

var _ [trapFrameSize - unsafe.Sizeof(TrapFrame{})]byte
var _ [unsafe.Sizeof(TrapFrame{}) - trapFrameSize]byte

// fromKernel reports whether the frame interrupted kernel code — ring 0 on an upper-half
// stack — rather than a Go runtime. The saved CS decides first: a task (ring 1 to 3) chooses
// its own stack pointer, so its traps are never the kernel's.
//
//go:nosplit
func (tf *TrapFrame) fromKernel() bool { return tf.CS&3 == 0 && isKernelAddr(uintptr(tf.RSP)) }

// fromTask reports whether the frame interrupted a task (ring 1 to 3).
//
//go:nosplit
func (tf *TrapFrame) fromTask() bool { return tf.CS&3 != 0 }

// initFX gives a fresh frame the x87/SSE reset state: FCW 0x37f, MXCSR 0x1f80.
//
//go:nosplit
func (tf *TrapFrame) initFX() {
	tf.FX = [512]byte{}
	tf.FX[0] = 0x7f
	tf.FX[1] = 0x03
	*(*uint32)(unsafe.Pointer(&tf.FX[24])) = 0x1f80
	*(*uint32)(unsafe.Pointer(&tf.FX[28])) = 0xffbf
}
