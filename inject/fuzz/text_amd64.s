#include "textflag.h"

// func textAddr() uintptr: an address in the fuzzer's own code.
TEXT ·textAddr(SB),NOSPLIT,$0-8
	LEAQ	·textAddr(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
