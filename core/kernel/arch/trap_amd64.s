// Trap and system-call entry and exit, and the kernel-stack switch between threads.
//
// Runs in trap context. Every vector and SYSCALL enters through the trampoline
// (trampoline_amd64.s) on the entry stack, already in the core's address space. trapEntry
// copies the hardware frame off it at once: to the top of the current thread's kernel stack
// when it interrupted a Go runtime — any task (its ring, in the saved CS, is not 0), or the
// core's own runtime (ring 0, a lower-half stack) — and just below the interrupted RSP when
// it interrupted kernel code (ring 0 on an upper-half stack). The stack pointer alone decides
// nothing: a task chooses its own. It then saves every register into a TrapFrame (see
// trapframe.go; the offsets below come from it through go_asm.h) and calls the kernel's trap
// handler. Everything leaves through trapReturn.

#include "textflag.h"
#include "go_asm.h"

// trapEntry finds the entry frame at 16(SP), once it has pushed AX and BX, and builds the
// TrapFrame below the top of the stack in BX.

// Save general registers below an already-built (vector, error, iret) frame and FXSAVE.
#define SAVE_REST \
	PUSHQ	CX; PUSHQ DX; PUSHQ SI; PUSHQ DI; PUSHQ BP; \
	PUSHQ	R8; PUSHQ R9; PUSHQ R10; PUSHQ R11; PUSHQ R12; PUSHQ R13; PUSHQ R14; PUSHQ R15; \
	SUBQ	$512, SP; \
	FXSAVE64 (SP)

TEXT ·trapEntry(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	AX
	PUSHQ	BX
	TESTQ	$3, (16+entryFrame_CS)(SP)		// interrupted CPL: a task's trap is the task's, whatever its RSP
	JNE	toThread
	MOVQ	(16+entryFrame_RSP)(SP), AX		// ring 0: the core's runtime (lower half) or kernel code
	BTQ	$63, AX
	JCS	fromKernel
toThread:
	MOVQ	·kstackTop(SB), BX
	JMP	copyFrame
fromKernel:
	LEAQ	-128(AX), BX
	ANDQ	$~15, BX
copyFrame:
	MOVQ	(16+entryFrame_SS)(SP), AX;		MOVQ AX, (TrapFrame_SS-TrapFrame__size)(BX)
	MOVQ	(16+entryFrame_RSP)(SP), AX;		MOVQ AX, (TrapFrame_RSP-TrapFrame__size)(BX)
	MOVQ	(16+entryFrame_RFLAGS)(SP), AX;	MOVQ AX, (TrapFrame_RFLAGS-TrapFrame__size)(BX)
	MOVQ	(16+entryFrame_CS)(SP), AX;		MOVQ AX, (TrapFrame_CS-TrapFrame__size)(BX)
	MOVQ	(16+entryFrame_RIP)(SP), AX;		MOVQ AX, (TrapFrame_RIP-TrapFrame__size)(BX)
	MOVQ	(16+entryFrame_ErrorCode)(SP), AX;	MOVQ AX, (TrapFrame_ErrorCode-TrapFrame__size)(BX)
	MOVQ	(16+entryFrame_Vector)(SP), AX;	MOVQ AX, (TrapFrame_Vector-TrapFrame__size)(BX)
	MOVQ	8(SP), AX;		MOVQ AX, (TrapFrame_RAX-TrapFrame__size)(BX)
	MOVQ	0(SP), AX;		MOVQ AX, (TrapFrame_RBX-TrapFrame__size)(BX)
	LEAQ	(TrapFrame_RBX-TrapFrame__size)(BX), SP
	SAVE_REST
	CLD
	// A task's FS base means nothing here: Go's ABI wrappers read g from -8(FS), so point
	// FS at the kernel's block.
	TESTQ	$3, TrapFrame_CS(SP)
	JEQ	callGo
	MOVQ	·kernelFS(SB), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xc0000100, CX
	WRMSR
callGo:
	MOVQ	SP, AX
	PUSHQ	AX
	MOVQ	·trapHandler(SB), AX	// the kernel's (SetTrapHandler): an ABI0 function of one argument
	CALL	AX
	POPQ	AX
	JMP	·trapReturn(SB)

// syscallEntry is where a task's SYSCALL goes from trampSyscall, SP at the entry frame it
// built (through the core's alias of the entry stack), whose vector and error code it leaves
// unwritten: the TrapFrame is built on the thread's kernel stack at once, the frame's words
// pushed from the entry stack — no copy through trapEntry. The frame's RCX and R11 are
// whatever they are (the SYSCALL ABI clobbers both; the dispatcher's finish sets them).
TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ	SP, R11
	MOVQ	·kstackTop(SB), SP
	PUSHQ	entryFrame_SS(R11)
	PUSHQ	entryFrame_RSP(R11)
	PUSHQ	entryFrame_RFLAGS(R11)
	PUSHQ	entryFrame_CS(R11)
	PUSHQ	entryFrame_RIP(R11)
	PUSHQ	$0			// error code
	PUSHQ	$const_VectorSyscall
	PUSHQ	AX
	PUSHQ	BX
	SAVE_REST
	CLD
	MOVQ	·kernelFS(SB), AX	// see trapEntry
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xc0000100, CX
	WRMSR
	MOVQ	SP, AX
	PUSHQ	AX
	MOVQ	·syscallHandler(SB), AX	// the kernel's (SetSyscallHandler)
	CALL	AX
	POPQ	AX
	JMP	·trapReturn(SB)

TEXT ·syscallEntryAddr(SB),NOSPLIT,$0-8
	LEAQ	·syscallEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// trapReturn restores the TrapFrame at SP. To ring 0 (the core's runtime, or kernel code) it
// returns with IRETQ from here. To a task it sets the task's FS base, moves the registers and
// the IRETQ frame to the task's entry stack through the core's alias of it (returnStack), and
// leaves through trampExit with the task's CR3 word (at returnCR3Word; both from SetReturn)
// in AX and SP at the task's own address of those words. The word is NoFlush from then on
// (pcid.go): until mm says the space changed, its next load keeps its PCID's TLB entries.
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
	MOVQ	·returnCR3Word(SB), BX
	MOVQ	0(BX), AX
	MOVQ	AX, ·returnCR3(SB)	// what trampExit or trampSysret loads
	ORQ	·cr3NoFlush(SB), AX
	MOVQ	AX, 0(BX)
	MOVQ	·returnFS(SB), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xc0000100, CX
	WRMSR
	FXRSTOR64 (SP)
	// A ring-3 task's system call whose RCX and R11 hold its RIP and RFLAGS — what SYSRET
	// loads — returns by SYSRETQ (trampSysret), with nothing to copy but RIP, RFLAGS and RSP,
	// if its RIP is in the lower half: SYSRET to a non-canonical RIP faults in ring 0.
	CMPQ	TrapFrame_CS(SP), $const_SelUserCode
	JNE	iret
	CMPQ	TrapFrame_Vector(SP), $const_VectorSyscall
	JNE	iret
	MOVQ	TrapFrame_RIP(SP), CX
	CMPQ	CX, TrapFrame_RCX(SP)
	JNE	iret
	MOVQ	TrapFrame_RFLAGS(SP), R11
	CMPQ	R11, TrapFrame_R11(SP)
	JNE	iret
	MOVQ	$const_userTop, AX
	CMPQ	CX, AX
	JAE	iret
	MOVQ	·returnStack(SB), DI
	MOVQ	CX, (const_entryStackTop-const_EntryStack-24)(DI)
	MOVQ	R11, (const_entryStackTop-const_EntryStack-16)(DI)
	MOVQ	TrapFrame_RSP(SP), AX
	MOVQ	AX, (const_entryStackTop-const_EntryStack-8)(DI)
	ADDQ	$512, SP
	POPQ	R15; POPQ R14; POPQ R13; POPQ R12; POPQ R11; POPQ R10; POPQ R9; POPQ R8
	POPQ	BP; POPQ DI; POPQ SI; POPQ DX; POPQ CX; POPQ BX; POPQ AX
	MOVQ	·returnCR3(SB), CX
	MOVQ	$const_entrySysret, R11
	JMP	R11
iret:
	LEAQ	512(SP), SI		// R15 .. SS
	MOVQ	·returnStack(SB), DI
	ADDQ	$(const_entryStackTop-const_EntryStack-const_trapRegsWords*8), DI
	MOVQ	$const_trapRegsWords, CX
	REP;	MOVSQ
	MOVQ	$(const_entryStackTop-const_trapRegsWords*8), SP	// unused until trampExit loads CR3
	MOVQ	·returnCR3(SB), AX
	MOVQ	$const_entryExit, CX
	JMP	CX

// SwitchContext saves the kernel stack pointer of the running thread in *save and resumes the
// thread whose saved stack pointer is load. Go code treats every register but SP and BP as
// clobbered across a call, so SP, BP and the return address are the whole context.
TEXT ·SwitchContext(SB),NOSPLIT,$0-16
	MOVQ	save+0(FP), AX
	MOVQ	load+8(FP), BX
	PUSHQ	BP
	MOVQ	SP, (AX)
	MOVQ	BX, SP
	POPQ	BP
	RET

// LeaveTo gives the CPU to the thread whose saved kernel stack pointer is load, leaving the
// running thread's stack behind: that thread's state is all in its TrapFrame at tf, and its
// next SwitchContext enters trapResume with SP at tf (*save says so). The two words this
// writes below tf are in frames of the running call, which never returns.
// LEAVE_BEHIND makes *save (AX) the stack pointer at which SwitchContext resumes a thread
// whose only state is its TrapFrame at CX: BP 0, then trapResume's address, just below it.
#define LEAVE_BEHIND \
	LEAQ	·trapResume(SB), DX; \
	MOVQ	DX, -8(CX); \
	MOVQ	$0, -16(CX); \
	LEAQ	-16(CX), CX; \
	MOVQ	CX, (AX)

TEXT ·LeaveTo(SB),NOSPLIT|NOFRAME,$0-24
	MOVQ	save+0(FP), AX
	MOVQ	tf+8(FP), CX
	MOVQ	load+16(FP), BX
	LEAVE_BEHIND
	MOVQ	0(BX), BP		// as SwitchContext resumes it
	LEAQ	8(BX), SP
	RET

// LeaveToFrame is LeaveTo for a thread switched to whose call is finished in its TrapFrame at
// to: it returns to that thread's code through trapReturn.
TEXT ·LeaveToFrame(SB),NOSPLIT|NOFRAME,$0-24
	MOVQ	save+0(FP), AX
	MOVQ	tf+8(FP), CX
	MOVQ	to+16(FP), BX
	LEAVE_BEHIND
	MOVQ	BX, SP
	JMP	·trapReturn(SB)

// trapResume is where a thread left by LeaveTo runs again, SP at its TrapFrame: the kernel's
// resume handler (SetResumeHandler) finishes its system call, and trapReturn goes back.
TEXT ·trapResume(SB),NOSPLIT|NOFRAME,$0
	MOVQ	SP, AX
	PUSHQ	AX
	MOVQ	·resumeHandler(SB), AX
	CALL	AX
	POPQ	AX
	JMP	·trapReturn(SB)

// threadStart is where a new thread's first SwitchContext returns: its kernel stack holds
// only its TrapFrame, which trapReturn loads.
TEXT ·threadStart(SB),NOSPLIT|NOFRAME,$0
	JMP	·trapReturn(SB)

// EnterThread abandons the boot stack and starts the thread whose kernel stack pointer is sp.
TEXT ·EnterThread(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ	sp+0(FP), AX
	MOVQ	0(AX), BP
	LEAQ	8(AX), SP
	RET

// ThreadStartPC is the address a new thread's first SwitchContext returns to.
TEXT ·ThreadStartPC(SB),NOSPLIT,$0-8
	LEAQ	·threadStart(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·trapEntryAddr(SB),NOSPLIT,$0-8
	LEAQ	·trapEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
