// Privileged instruction wrappers. All NOSPLIT leaves, callable from trap context.

#include "textflag.h"

TEXT ·Inb(SB),NOSPLIT,$0-9
	MOVW	port+0(FP), DX
	BYTE	$0xEC			// IN AL, DX
	MOVB	AL, ret+8(FP)
	RET

TEXT ·Outb(SB),NOSPLIT,$0-3
	MOVW	port+0(FP), DX
	MOVB	v+2(FP), AL
	BYTE	$0xEE			// OUT DX, AL
	RET

TEXT ·Inw(SB),NOSPLIT,$0-10
	MOVW	port+0(FP), DX
	BYTE	$0x66; BYTE $0xED	// IN AX, DX
	MOVW	AX, ret+8(FP)
	RET

TEXT ·Outw(SB),NOSPLIT,$0-4
	MOVW	port+0(FP), DX
	MOVW	v+2(FP), AX
	BYTE	$0x66; BYTE $0xEF	// OUT DX, AX
	RET

TEXT ·Inl(SB),NOSPLIT,$0-12
	MOVW	port+0(FP), DX
	BYTE	$0xED			// IN EAX, DX
	MOVL	AX, ret+8(FP)
	RET

TEXT ·Outl(SB),NOSPLIT,$0-8
	MOVW	port+0(FP), DX
	MOVL	v+4(FP), AX
	BYTE	$0xEF			// OUT DX, EAX
	RET

TEXT ·ReadMSR(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+8(FP)
	RET

TEXT ·WriteMSR(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	MOVQ	v+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	RET

TEXT ·CR0(SB),NOSPLIT,$0-8
	MOVQ	CR0, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·CR2(SB),NOSPLIT,$0-8
	MOVQ	CR2, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·CR3(SB),NOSPLIT,$0-8
	MOVQ	CR3, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·CR4(SB),NOSPLIT,$0-8
	MOVQ	CR4, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·SetCR0(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR0
	RET

TEXT ·SetCR3(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR3
	RET

TEXT ·SetCR4(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR4
	RET

TEXT ·Invlpg(SB),NOSPLIT,$0-8
	MOVQ	va+0(FP), AX
	INVLPG	(AX)
	RET

TEXT ·Lgdt(SB),NOSPLIT,$0-8
	MOVQ	p+0(FP), AX
	LGDT	(AX)
	RET

TEXT ·Lidt(SB),NOSPLIT,$0-8
	MOVQ	p+0(FP), AX
	LIDT	(AX)
	RET

TEXT ·Ltr(SB),NOSPLIT,$0-2
	MOVW	sel+0(FP), AX
	BYTE	$0x0F; BYTE $0x00; BYTE $0xD8	// LTR AX
	RET

// ReloadSegments: far-return into the new code selector, then load the data selectors.
TEXT ·ReloadSegments(SB),NOSPLIT,$0-4
	MOVWQZX	code+0(FP), AX
	MOVWQZX	data+2(FP), BX
	LEAQ	reloaded<>(SB), CX
	BYTE	$0x50			// PUSH RAX (selector)
	BYTE	$0x51			// PUSH RCX (target)
	BYTE	$0x48; BYTE $0xCB	// RETFQ
	RET

TEXT reloaded<>(SB),NOSPLIT|NOFRAME,$0
	MOVW	BX, AX
	BYTE	$0x8E; BYTE $0xD8	// MOV DS, AX
	BYTE	$0x8E; BYTE $0xC0	// MOV ES, AX
	BYTE	$0x8E; BYTE $0xD0	// MOV SS, AX
	RET

TEXT ·Cpuid(SB),NOSPLIT,$0-24
	MOVL	leaf+0(FP), AX
	MOVL	sub+4(FP), CX
	CPUID
	MOVL	AX, a+8(FP)
	MOVL	BX, b+12(FP)
	MOVL	CX, c+16(FP)
	MOVL	DX, d+20(FP)
	RET

TEXT ·Rdtsc(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·Hlt(SB),NOSPLIT,$0-0
	HLT
	RET

TEXT ·EnableAndHalt(SB),NOSPLIT,$0-0
	STI
	HLT
	RET

TEXT ·Cli(SB),NOSPLIT,$0-0
	CLI
	RET

TEXT ·Sti(SB),NOSPLIT,$0-0
	STI
	RET

TEXT ·Flags(SB),NOSPLIT,$0-8
	PUSHFQ
	POPQ	AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·Pause(SB),NOSPLIT,$0-0
	PAUSE
	RET

// func RdRand() (v uint64, ok bool)
TEXT ·RdRand(SB),NOSPLIT,$0-9
	BYTE	$0x48; BYTE $0x0f; BYTE $0xc7; BYTE $0xf0	// RDRAND RAX
	SETCS	ok+8(FP)
	MOVQ	AX, v+0(FP)
	RET

// func RdSeed() (v uint64, ok bool)
TEXT ·RdSeed(SB),NOSPLIT,$0-9
	BYTE	$0x48; BYTE $0x0f; BYTE $0xc7; BYTE $0xf8	// RDSEED RAX
	SETCS	ok+8(FP)
	MOVQ	AX, v+0(FP)
	RET
