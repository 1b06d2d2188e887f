// The attack harness: run a generated code snippet with hostile register state and catch the
// trap that ends it. Each snippet loads its own registers (RSP last) and ends with UD2, so it
// always comes back through the signal handler below, which records the context the kernel
// delivered and resumes at recoverPoint on the stack run was called with.
//
// One snippet runs at a time (the Go side holds a mutex), on a thread with asynchronous
// signals blocked: the state is in globals.

#include "textflag.h"

// run(code uintptr): enter the snippet at code. Returns through recoverPoint.
TEXT ·run(SB),NOSPLIT,$0-8
	MOVQ	code+0(FP), AX
	MOVQ	SP, ·savedSP(SB)
	MOVQ	BP, ·savedBP(SB)
	MOVQ	$1, ·armed(SB)
	JMP	AX

// recoverPoint: where the handler sends the interrupted snippet: back to run's caller.
TEXT ·recoverPoint(SB),NOSPLIT|NOFRAME,$0
	MOVQ	·savedSP(SB), SP
	MOVQ	·savedBP(SB), BP
	RET

// handler is the SA_SIGINFO handler for the synchronous signals: DI = signal, SI = siginfo,
// DX = ucontext (mcontext's 23 registers at offset 40, in glibc's REG_* order). While a
// snippet is armed it records the trap and redirects the context to recoverPoint; otherwise it
// hands the signal to the Go runtime's own handler.
TEXT ·handler(SB),NOSPLIT|NOFRAME,$0
	MOVQ	·armed(SB), AX
	TESTQ	AX, AX
	JEQ	chain
	MOVQ	$0, ·armed(SB)
	MOVQ	DI, ·trapSig(SB)
	MOVLQSX	8(SI), AX		// si_code
	MOVQ	AX, ·trapCode(SB)
	MOVQ	16(SI), AX		// si_addr
	MOVQ	AX, ·trapAddr(SB)
	LEAQ	40(DX), SI		// gregs
	LEAQ	·trapRegs(SB), DI
	MOVQ	$23, CX
copy:
	MOVQ	(SI), AX
	MOVQ	AX, (DI)
	ADDQ	$8, SI
	ADDQ	$8, DI
	DECQ	CX
	JNE	copy
	LEAQ	·recoverPoint(SB), AX
	MOVQ	AX, 40+16*8(DX)		// REG_RIP
	MOVQ	·savedSP(SB), AX
	MOVQ	AX, 40+15*8(DX)		// REG_RSP
	MOVQ	·savedBP(SB), AX
	MOVQ	AX, 40+10*8(DX)		// REG_RBP
	MOVQ	$0x202, 40+17*8(DX)	// REG_EFL: IF, nothing the snippet set (TF, AC, DF, NT)
	RET				// to the restorer: rt_sigreturn
chain:
	MOVQ	·goHandler(SB), AX
	JMP	AX

// restorer is the sa_restorer: the handler returns here, on the signal frame.
TEXT ·restorer(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$15, AX			// rt_sigreturn
	SYSCALL
	UNDEF

TEXT ·handlerAddr(SB),NOSPLIT,$0-8
	LEAQ	·handler(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·restorerAddr(SB),NOSPLIT,$0-8
	LEAQ	·restorer(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// cs() returns the code segment selector the task runs with (its ring in the low bits).
TEXT ·cs(SB),NOSPLIT,$0-8
	XORQ	AX, AX
	MOVW	CS, AX
	MOVQ	AX, ret+0(FP)
	RET
