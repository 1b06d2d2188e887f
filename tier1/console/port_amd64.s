// Port I/O from ring 1: allowed for the ports in the task's I/O permission bitmap.

#include "textflag.h"

TEXT ·inb(SB),NOSPLIT,$0-9
	MOVW	port+0(FP), DX
	BYTE	$0xEC			// IN AL, DX
	MOVB	AL, ret+8(FP)
	RET

TEXT ·outb(SB),NOSPLIT,$0-3
	MOVW	port+0(FP), DX
	MOVB	v+2(FP), AL
	BYTE	$0xEE			// OUT DX, AL
	RET
