// Deliberate faults for selftest=fault:ud|div0 (Go would check a division itself).

#include "textflag.h"

TEXT ·invalidOpcode(SB),NOSPLIT,$0-0
	BYTE	$0x0F; BYTE $0x0B	// UD2
	RET

TEXT ·divideByZero(SB),NOSPLIT,$0-16
	MOVQ	x+0(FP), CX
	MOVQ	$1, AX
	XORQ	DX, DX
	DIVQ	CX
	MOVQ	AX, ret+8(FP)
	RET
