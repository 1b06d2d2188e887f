#include "textflag.h"

// Each function executes exactly one privileged or I/O instruction. They are
// encoded as BYTE sequences so the exact instruction is visible here and does
// not depend on which mnemonics the Go assembler knows.

// func hlt()
TEXT ·hlt(SB),NOSPLIT,$0-0
	BYTE $0xF4 // HLT
	RET

// func cli()
TEXT ·cli(SB),NOSPLIT,$0-0
	BYTE $0xFA // CLI
	RET

// func sti()
TEXT ·sti(SB),NOSPLIT,$0-0
	BYTE $0xFB // STI
	RET

// func wrmsr()
TEXT ·wrmsr(SB),NOSPLIT,$0-0
	MOVL $0xC0000100, CX // IA32_FS_BASE
	XORL AX, AX
	XORL DX, DX
	BYTE $0x0F; BYTE $0x30 // WRMSR
	RET

// func rdmsr() uint64
TEXT ·rdmsr(SB),NOSPLIT,$0-8
	MOVL $0xC0000100, CX // IA32_FS_BASE
	BYTE $0x0F; BYTE $0x32 // RDMSR
	SHLQ $32, DX
	ORQ  DX, AX
	MOVQ AX, ret+0(FP)
	RET

// func movcr3()
TEXT ·movcr3(SB),NOSPLIT,$0-0
	MOVQ $0x1000, AX
	BYTE $0x0F; BYTE $0x22; BYTE $0xD8 // MOV CR3, RAX
	RET

// func movcr0read() uint64
TEXT ·movcr0read(SB),NOSPLIT,$0-8
	XORL AX, AX
	BYTE $0x0F; BYTE $0x20; BYTE $0xC0 // MOV RAX, CR0
	MOVQ AX, ret+0(FP)
	RET

// func lgdt(desc *[10]byte)
TEXT ·lgdt(SB),NOSPLIT,$0-8
	MOVQ desc+0(FP), AX
	BYTE $0x0F; BYTE $0x01; BYTE $0x10 // LGDT [RAX]
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
