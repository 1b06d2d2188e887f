// The trampoline: the only kernel code mapped in a task's address space. It is copied at boot
// into the entry area (entry.go), which sits at the same virtual address in every address
// space, so it must be position-independent: only relative jumps between its own
// instructions and absolute constants — no references to symbols of the core image.
//
// An interrupt or exception arrives on the entry stack (IST1) of the current address space;
// trampCommon switches to the core's page table when it came from a task and jumps to
// trapEntry in the core image. SYSCALL arrives at trampSyscall, which finds the entry stack
// without touching the task's stack. trampExit is the last step back to a task: it loads the
// task's page table and returns with IRETQ; trampSysret is the same for a ring-3 task's
// system call, with SYSRETQ. The core maps every task's entry stacks once, at
// an address of their own (the alias: mm's EntryAliasBase), so a switch between tasks
// rewrites no page table: with the CR3 switch the trampoline moves SP by the space's alias
// offset (a task-info word), to the same bytes seen through the core's map, and trapReturn
// writes the way back through the alias before trampExit loads the task's CR3.
//
// Runs in trap context. Each routine ends with an 8-byte marker ("TAMPREND") by which the copy
// finds its length.

#include "textflag.h"
#include "go_asm.h"

// The read-only data page (entryROData): [0] the core's CR3, [8] trapEntry's address, [16]
// syscallEntry's (a task's system call, whose frame it builds on the kernel stack at once),
// [24] what a load of the core's CR3 adds (NoFlush once PCIDs are on: pcid.go). The
// task-info words (entryTaskInfo): [0] the address space's code selector, [8] its stack
// selector, [16] the alias offset of its entry stacks in the core's map.
#define ENTRY_END_MARKER  LONG $0x504d4154; LONG $0x444e4552

// Stack on entry: vector, error code, RIP, CS, RFLAGS, RSP, SS. Whatever was interrupted, the
// core's page table is loaded unless it already is: the interrupted ring does not say which
// table is live (an NMI or a fault can arrive in this very code, at ring 0 on a task's table).
TEXT ·trampCommon(SB),NOSPLIT|NOFRAME,$0
	BYTE	$0x50			// PUSHQ AX (its slot becomes the RET's target below)
	PUSHQ	BX
	MOVQ	$const_entryROData, BX
	MOVQ	CR3, AX
	CMPQ	AX, 0(BX)
	JEQ	jump
	MOVQ	$const_entryTaskInfo, AX
	ADDQ	16(AX), SP		// the same stack through the core's alias: nothing uses it until CR3 is loaded
	MOVQ	0(BX), AX
	ORQ	24(BX), AX
	MOVQ	AX, CR3
jump:
	MOVQ	8(BX), AX		// trapEntry in the core image
	POPQ	BX
	XCHGQ	AX, 0(SP)
	RET				// to trapEntry, with AX restored
	ENTRY_END_MARKER

// SYSCALL: RCX = return RIP, R11 = RFLAGS, IF cleared by FMASK, RSP = the caller's stack,
// which the kernel does not touch. KERNEL_GS_BASE points at a scratch word at the bottom of
// the entry stack (in the caller's own address space).
TEXT ·trampSyscall(SB),NOSPLIT|NOFRAME,$0
	BYTE	$0x0f; BYTE $0x01; BYTE $0xf8			// SWAPGS
	BYTE	$0x65; BYTE $0x48; BYTE $0x89; BYTE $0x24; BYTE $0x25; LONG $0	// MOVQ SP, GS:0
	MOVQ	$const_entryStackTop, SP
	SUBQ	$entryFrame__size, SP
	MOVQ	CX, entryFrame_RIP(SP)
	MOVQ	R11, entryFrame_RFLAGS(SP)
	BYTE	$0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x0c; BYTE $0x25; LONG $0	// MOVQ GS:0, CX
	BYTE	$0x0f; BYTE $0x01; BYTE $0xf8			// SWAPGS
	MOVQ	CX, entryFrame_RSP(SP)
	MOVQ	$const_entryTaskInfo, CX	// the caller's selectors: SYSCALL does not record its ring
	MOVQ	0(CX), R11
	MOVQ	R11, entryFrame_CS(SP)
	MOVQ	8(CX), R11
	MOVQ	R11, entryFrame_SS(SP)
	// RCX and R11 are the caller's to lose (the SYSCALL ABI clobbers them).
	MOVQ	$const_entryROData, R11
	MOVQ	CR3, CX
	CMPQ	CX, 0(R11)
	JEQ	same
	MOVQ	$const_entryTaskInfo, CX
	ADDQ	16(CX), SP		// the core's alias of this stack (see trampCommon)
	MOVQ	0(R11), CX
	ORQ	24(R11), CX
	MOVQ	CX, CR3
	MOVQ	16(R11), CX
	JMP	CX			// syscallEntry: a task's system call
same:
	MOVQ	$0, entryFrame_ErrorCode(SP)	// the core's own runtime: the frame an interrupt's would be
	MOVQ	$const_VectorSyscall, entryFrame_Vector(SP)
	MOVQ	8(R11), CX
	JMP	CX			// trapEntry
	ENTRY_END_MARKER

// trampExit: AX holds the task's CR3 and SP its entry stack (its own address, valid once that
// CR3 is loaded), with its registers R15..RAX, vector, error code and the IRETQ frame.
TEXT ·trampExit(SB),NOSPLIT|NOFRAME,$0
	MOVQ	AX, CR3
	POPQ	R15; POPQ R14; POPQ R13; POPQ R12; POPQ R11; POPQ R10; POPQ R9; POPQ R8
	POPQ	BP; POPQ DI; POPQ SI; POPQ DX; POPQ CX; POPQ BX; POPQ AX
	ADDQ	$16, SP
	IRETQ
	ENTRY_END_MARKER

// trampSysret: the fast way back from a ring-3 task's system call (trapReturn chose it). CX
// holds the task's CR3, every register but RCX, R11 and RSP is the task's, and the top three
// words of its entry stack are its RIP, RFLAGS and RSP: SYSRET loads RIP from RCX and RFLAGS
// from R11, and the ring-3 selectors from STAR.
TEXT ·trampSysret(SB),NOSPLIT|NOFRAME,$0
	MOVQ	CX, CR3
	MOVQ	$(const_entryStackTop-24), R11
	MOVQ	0(R11), CX
	MOVQ	16(R11), SP
	MOVQ	8(R11), R11
	BYTE	$0x48; BYTE $0x0f; BYTE $0x07	// SYSRETQ
	ENTRY_END_MARKER

// Addresses of the trampoline routines in the core image, for copying.
TEXT ·trampAddrs(SB),NOSPLIT,$0-40
	LEAQ	·trampStubs(SB), AX
	MOVQ	AX, stubs+0(FP)
	LEAQ	·trampCommon(SB), AX
	MOVQ	AX, common+8(FP)
	LEAQ	·trampSyscall(SB), AX
	MOVQ	AX, syscall+16(FP)
	LEAQ	·trampExit(SB), AX
	MOVQ	AX, exit+24(FP)
	LEAQ	·trampSysret(SB), AX
	MOVQ	AX, sysret+32(FP)
	RET
