#include "textflag.h"

// Each function executes one instruction a task may not: an invalid opcode, a privileged
// instruction or port I/O. The instructions are BYTE sequences so the encoding is visible.

// func ud2()
TEXT ·ud2(SB),NOSPLIT,$0-0
	BYTE $0x0F; BYTE $0x0B // UD2
	RET

// func hlt()
TEXT ·hlt(SB),NOSPLIT,$0-0
	PUSHFQ
	POPQ  AX
	TESTQ $0x200, AX // IF
	JEQ   off
	BYTE  $0xF4 // HLT
off:
	RET

// func cli()
TEXT ·cli(SB),NOSPLIT,$0-0
	PUSHFQ
	BYTE $0xFA // CLI
	POPFQ
	RET

// func inb(port uint16) uint8
TEXT ·inb(SB),NOSPLIT,$0-9
	MOVW port+0(FP), DX
	XORL AX, AX
	BYTE $0xEC // IN AL, DX
	MOVB AL, ret+8(FP)
	RET

// func outb(port uint16, v uint8)
TEXT ·outb(SB),NOSPLIT,$0-3
	MOVW port+0(FP), DX
	MOVB v+2(FP), AL
	BYTE $0xEE // OUT DX, AL
	RET
