#include "textflag.h"

// func rawThread(stack uintptr) int64
// clone(CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM) a thread outside the Go runtime that
// sleeps forever on stack; returns the child's tid or -errno.
TEXT ·rawThread(SB),NOSPLIT,$0-16
	MOVQ	$0x50f00, DI
	MOVQ	stack+0(FP), SI
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	MOVQ	$56, AX
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	MOVQ	AX, ret+8(FP)
	RET
child:
	LEAQ	·hour(SB), DI
sleep:
	XORQ	SI, SI
	MOVQ	$35, AX			// nanosleep
	SYSCALL
	JMP	sleep
