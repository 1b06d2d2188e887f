// Trap and system-call entry and exit, and the kernel-stack switch between threads.
//
// Runs in trap context. Every vector and SYSCALL enters through the trampoline
// (trampoline_amd64.s) on the entry stack, already in the core's address space. trapEntry
// copies the hardware frame off it at once: to the top of the current thread's kernel stack
// when it interrupted a Go runtime — any task (its ring, in the saved CS, is not 0), or the
// core's own runtime (ring 0, a lower-half stack) — and just below the interrupted RSP when
// it interrupted kernel code (ring 0 on an upper-half stack). The stack pointer alone decides
// nothing: a task chooses its own. It then saves every register into a TrapFrame (see
// trapframe.go) and calls handleTrap. Everything leaves through trapReturn.

#include "textflag.h"
#include "go_asm.h"

// Save general registers below an already-built (vector, error, iret) frame and FXSAVE.
#define SAVE_REST \
	PUSHQ	CX; PUSHQ DX; PUSHQ SI; PUSHQ DI; PUSHQ BP; \
	PUSHQ	R8; PUSHQ R9; PUSHQ R10; PUSHQ R11; PUSHQ R12; PUSHQ R13; PUSHQ R14; PUSHQ R15; \
	SUBQ	$512, SP; \
	FXSAVE64 (SP)

// trapEntry is reached from the trampoline with the entry stack holding: 0 vector, 8 error
// code, 16 RIP, 24 CS, 32 RFLAGS, 40 RSP, 48 SS.
TEXT ·trapEntry(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	AX
	PUSHQ	BX
	TESTQ	$3, 40(SP)		// interrupted CPL: a task's trap is the task's, whatever its RSP
	JNE	toThread
	MOVQ	56(SP), AX		// ring 0: the core's runtime (lower half) or kernel code
	BTQ	$63, AX
	JCS	fromKernel
toThread:
	MOVQ	·kstackTop(SB), BX
	JMP	copyFrame
fromKernel:
	LEAQ	-128(AX), BX
	ANDQ	$~15, BX
copyFrame:
	MOVQ	64(SP), AX; MOVQ AX, -8(BX)	// ss
	MOVQ	56(SP), AX; MOVQ AX, -16(BX)	// rsp
	MOVQ	48(SP), AX; MOVQ AX, -24(BX)	// rflags
	MOVQ	40(SP), AX; MOVQ AX, -32(BX)	// cs
	MOVQ	32(SP), AX; MOVQ AX, -40(BX)	// rip
	MOVQ	24(SP), AX; MOVQ AX, -48(BX)	// error code
	MOVQ	16(SP), AX; MOVQ AX, -56(BX)	// vector
	MOVQ	8(SP), AX;  MOVQ AX, -64(BX)	// rax
	MOVQ	0(SP), AX;  MOVQ AX, -72(BX)	// rbx
	LEAQ	-72(BX), SP
	SAVE_REST
	CLD
	// A task's FS base means nothing here: Go's ABI wrappers read g from -8(FS), so point
	// FS at the kernel's block.
	TESTQ	$3, TrapFrame_CS(SP)
	JEQ	callGo
	LEAQ	·bootTLS+8(SB), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xc0000100, CX
	WRMSR
callGo:
	MOVQ	SP, AX
	PUSHQ	AX
	MOVQ	$·handleTrap(SB), AX	// indirect: the handler starts a fresh nosplit budget
	CALL	AX
	POPQ	AX
	JMP	·trapReturn(SB)

// trapReturn restores the TrapFrame at SP. To ring 0 (the core's runtime, or kernel code) it
// returns with IRETQ from here. To a task it sets the task's FS base, moves the registers and
// the IRETQ frame to the entry stack (the same pages in the task's map) and leaves through
// trampExit, which loads the task's CR3 (returnCR3, set by handleTrap) and returns.
TEXT ·trapReturn(SB),NOSPLIT|NOFRAME,$0
	TESTQ	$3, TrapFrame_CS(SP)
	JNE	toTask
	FXRSTOR64 (SP)
	ADDQ	$512, SP
	POPQ	R15; POPQ R14; POPQ R13; POPQ R12; POPQ R11; POPQ R10; POPQ R9; POPQ R8
	POPQ	BP; POPQ DI; POPQ SI; POPQ DX; POPQ CX; POPQ BX; POPQ AX
	ADDQ	$16, SP			// vector, error code
	IRETQ
toTask:
	MOVQ	·returnFS(SB), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xc0000100, CX
	WRMSR
	FXRSTOR64 (SP)
	LEAQ	512(SP), SI		// R15 .. SS: 22 words
	MOVQ	$(const_entryStackTop-22*8), DI
	MOVQ	$22, CX
	REP;	MOVSQ
	MOVQ	$(const_entryStackTop-23*8), SP
	MOVQ	·returnCR3(SB), AX
	MOVQ	AX, 0(SP)
	MOVQ	$const_entryExit, AX
	JMP	AX

// switchContext saves the kernel stack pointer of the running thread in *save and resumes the
// thread whose saved stack pointer is load. Go code treats every register but SP and BP as
// clobbered across a call, so SP, BP and the return address are the whole context.
TEXT ·switchContext(SB),NOSPLIT,$0-16
	MOVQ	save+0(FP), AX
	MOVQ	load+8(FP), BX
	PUSHQ	BP
	MOVQ	SP, (AX)
	MOVQ	BX, SP
	POPQ	BP
	RET

// threadStart is where a new thread's first switchContext returns: its kernel stack holds
// only its TrapFrame, which trapReturn loads.
TEXT ·threadStart(SB),NOSPLIT|NOFRAME,$0
	JMP	·trapReturn(SB)

// enterThread abandons the boot stack and starts the thread whose kernel stack pointer is sp.
TEXT ·enterThread(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ	sp+0(FP), AX
	MOVQ	0(AX), BP
	LEAQ	8(AX), SP
	RET

TEXT ·threadStartAddr(SB),NOSPLIT,$0-8
	LEAQ	·threadStart(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·idleLoopAddr(SB),NOSPLIT,$0-8
	LEAQ	·idleLoop(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·bootFSBase(SB),NOSPLIT,$0-8
	LEAQ	·bootTLS+8(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
