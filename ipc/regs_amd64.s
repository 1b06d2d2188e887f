// The register path's system call (ipc/regs.go): the message goes in the registers of
// abi.Message's fields and comes back in them (abi/syscall.go, SysIPCCallRegs).

#include "textflag.h"

// func syscallRegs(nr, handle uintptr, m *Msg, timeout uintptr) (errno uintptr)
//
// Msg: Label +0, Words +8..+32, Badge +40, GrantAddr +48, GrantPages +56.
TEXT ·syscallRegs(SB),NOSPLIT,$0-40
	MOVQ	m+16(FP), AX
	MOVQ	0(AX), SI
	MOVQ	8(AX), DX
	MOVQ	16(AX), R10
	MOVQ	24(AX), R8
	MOVQ	32(AX), R9
	MOVQ	48(AX), R12
	MOVQ	56(AX), R13
	MOVQ	handle+8(FP), DI
	MOVQ	timeout+24(FP), BX
	MOVQ	nr+0(FP), AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	AX, errno+32(FP)	// m is left as it was
	RET
ok:
	MOVQ	m+16(FP), AX
	MOVQ	SI, 0(AX)
	MOVQ	DX, 8(AX)
	MOVQ	R10, 16(AX)
	MOVQ	R8, 24(AX)
	MOVQ	R9, 32(AX)
	MOVQ	DI, 40(AX)
	MOVQ	R12, 48(AX)
	MOVQ	R13, 56(AX)
	MOVQ	$0, errno+32(FP)
	RET
