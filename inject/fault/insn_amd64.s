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

// func idiv(a, b int64) int64: a/b with IDIV, so that a zero divisor raises #DE in the CPU
// (Go's own division checks the divisor in software and panics without a trap).
TEXT ·idiv(SB),NOSPLIT,$0-24
	MOVQ a+0(FP), AX
	MOVQ b+8(FP), CX
	CQO
	IDIVQ CX
	MOVQ AX, ret+16(FP)
	RET

// func recurseOn(top uintptr) uintptr: switch to the stack that ends at top and recurse on it
// with no stack checks at all, pushing 4 KiB frames, until the guard page below it faults.
// Never returns. (The recursive call is through a register: the linker's nosplit check would
// refuse a direct one as an endless cycle, which it is meant to be.)
TEXT ·recurseOn(SB),NOSPLIT,$0-16
	MOVQ top+0(FP), SP
	LEAQ ·deeper(SB), AX
	CALL AX
	MOVQ SP, ret+8(FP) // not reached
	RET

TEXT ·deeper(SB),NOSPLIT|NOFRAME,$0-0
	SUBQ $4096, SP
	MOVQ $0x5eb0, (SP) // touch the new frame: the guard page faults here
	CALL AX
	ADDQ $4096, SP
	RET
