// Boot entry: QEMU's Multiboot loader jumps to multibootEntry in 32-bit protected mode with
// paging off, EAX = Multiboot magic and EBX = physical address of the Multiboot information.
//
// The 32-bit part is assembled by Go's amd64 assembler, so it uses only encodings that mean the
// same in both modes: no REX prefixes, no RIP-relative or absolute symbol addresses. It builds
// temporary page tables at fixed low physical addresses (identity map of the first 4 GiB plus the
// same map in the upper half at directMapBase), enables long mode and far-returns into
// longModeStart, whose address it computes from its own EIP (call/pop).

#include "textflag.h"

#define BOOT_PML4 0x10000
#define BOOT_PDPT 0x11000
#define BOOT_PD   0x12000	// four page directories, 0x12000-0x15fff
#define BOOT_GDT  0x16000

TEXT ·multibootEntry(SB),NOSPLIT|NOFRAME,$0
	CLI
	MOVL	$0x18000, SP		// Multiboot leaves ESP undefined: a scratch stack below 0x18000
	MOVL	AX, SI			// Multiboot magic
	MOVL	BX, BP			// Multiboot information (physical)

	// Zero the boot page tables and GDT.
	MOVL	$BOOT_PML4, DI
	MOVL	$(0x7000/4), CX
	XORL	AX, AX
	CLD
	REP;	STOSL

	// PML4[0] and PML4[256] -> PDPT
	MOVL	$BOOT_PML4, DI
	MOVL	$(BOOT_PDPT+3), AX
	MOVL	AX, 0(DI)
	MOVL	AX, 2048(DI)

	// PDPT[0..3] -> PD0..PD3
	MOVL	$BOOT_PDPT, DI
	MOVL	$(BOOT_PD+3), AX
	MOVL	AX, 0(DI)
	ADDL	$0x1000, AX
	MOVL	AX, 8(DI)
	ADDL	$0x1000, AX
	MOVL	AX, 16(DI)
	ADDL	$0x1000, AX
	MOVL	AX, 24(DI)

	// 2048 2-MiB pages: present, writable, PS.
	MOVL	$BOOT_PD, DI
	MOVL	$0x83, AX
	MOVL	$2048, CX
pdloop:
	MOVL	AX, 0(DI)
	ADDL	$0x200000, AX
	ADDL	$8, DI
	DECL	CX
	JNE	pdloop

	// Temporary GDT: null, 64-bit ring-0 code, data; pseudo-descriptor at +0x100.
	MOVL	$BOOT_GDT, DI
	MOVL	$0x0000FFFF, 8(DI)
	MOVL	$0x00AF9A00, 12(DI)
	MOVL	$0x0000FFFF, 16(DI)
	MOVL	$0x00CF9200, 20(DI)
	MOVL	$0x60000017, 0x100(DI)	// limit 23, base bytes 0-1 (0x6000 | ...)
	MOVL	$0x00000001, 0x104(DI)	// base bytes 2-3: base = 0x16000
	LGDT	0x100(DI)

	// CR4.PAE, CR3, EFER.{SCE,LME,NXE}, CR0.{PG,WP,PE}
	BYTE	$0x0F; BYTE $0x20; BYTE $0xE0	// MOV EAX, CR4
	ORL	$0x20, AX
	BYTE	$0x0F; BYTE $0x22; BYTE $0xE0	// MOV CR4, EAX
	MOVL	$BOOT_PML4, AX
	BYTE	$0x0F; BYTE $0x22; BYTE $0xD8	// MOV CR3, EAX
	MOVL	$0xC0000080, CX
	RDMSR
	ORL	$0x901, AX
	WRMSR
	BYTE	$0x0F; BYTE $0x20; BYTE $0xC0	// MOV EAX, CR0
	ORL	$0x80010001, AX
	BYTE	$0x0F; BYTE $0x22; BYTE $0xC0	// MOV CR0, EAX

	// Far return to longModeStart in the 64-bit code segment (selector 8).
	BYTE	$0xE8; LONG $0		// CALL next instruction
	BYTE	$0x58			// POP EAX: EAX = address of this byte
	BYTE	$0x83; BYTE $0xC0; BYTE $8	// ADD EAX, 8 (1+3+2+1+1 bytes up to longModeStart)
	BYTE	$0x6A; BYTE $0x08	// PUSH 8
	BYTE	$0x50			// PUSH EAX
	BYTE	$0xCB			// RETF
longModeStart:
	// 64-bit mode from here on.
	MOVL	$0x10, AX
	BYTE	$0x8E; BYTE $0xD8	// MOV DS, AX
	BYTE	$0x8E; BYTE $0xC0	// MOV ES, AX
	BYTE	$0x8E; BYTE $0xD0	// MOV SS, AX
	LEAQ	·bootStack+65536(SB), SP	// bootStackSize
	MOVL	SI, ·bootMagic(SB)
	MOVL	BP, ·bootInfoPhys(SB)

	// SSE on: CR0.EM=0, CR0.MP=1; CR4.OSFXSR|OSXMMEXCPT. x87 and MXCSR to their reset values.
	MOVQ	CR0, AX
	ANDQ	$~4, AX
	ORQ	$2, AX
	MOVQ	AX, CR0
	MOVQ	CR4, AX
	ORQ	$0x600, AX
	MOVQ	AX, CR4
	BYTE	$0xDB; BYTE $0xE3	// FNINIT
	LDMXCSR	·mxcsrDefault(SB)

	// Go's ABI wrappers load g from -8(FS): point FS at a block whose g is a zeroed stand-in.
	LEAQ	·bootG(SB), AX
	MOVQ	AX, ·bootTLS(SB)
	LEAQ	·bootTLS+8(SB), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xC0000100, CX
	WRMSR

	XORQ	BP, BP
	CALL	·bootMain(SB)		// does not return
halt:
	CLI
	HLT
	JMP	halt

// rt0 is the Go runtime's own Linux entry point; thread 0 starts there.
TEXT ·runtimeEntry(SB),NOSPLIT,$0-8
	LEAQ	_rt0_amd64_linux(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·multibootEntryAddr(SB),NOSPLIT,$0-8
	LEAQ	·multibootEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// bootFSBase is the FS base the kernel runs with: bootTLS[1], whose -8 holds &bootG.
TEXT ·bootFSBase(SB),NOSPLIT,$0-8
	LEAQ	·bootTLS+8(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// handleTrapAddr is the ABI0 entry of handleTrap, which arch's trapEntry calls.
TEXT ·handleTrapAddr(SB),NOSPLIT,$0-8
	LEAQ	·handleTrap(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// handleSyscallAddr is the ABI0 entry of handleSyscall, which arch's syscallEntry calls.
TEXT ·handleSyscallAddr(SB),NOSPLIT,$0-8
	LEAQ	·handleSyscall(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// resumeTrapAddr is the ABI0 entry of resumeTrap, which arch's trapResume calls.
TEXT ·resumeTrapAddr(SB),NOSPLIT,$0-8
	LEAQ	·resumeTrap(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
