#include "textflag.h"

// func div(a, b uint64) uint64
TEXT ·div(SB),NOSPLIT,$0-24
	MOVQ a+0(FP), AX
	MOVQ b+8(FP), CX
	XORL DX, DX
	DIVQ CX // DIV RCX: #DE when RCX == 0
	MOVQ AX, ret+16(FP)
	RET
