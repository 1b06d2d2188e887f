// The idle thread's entry.

#include "textflag.h"

TEXT ·idleLoopAddr(SB),NOSPLIT,$0-8
	LEAQ	·idleLoop(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
