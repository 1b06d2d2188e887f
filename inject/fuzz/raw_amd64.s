#include "textflag.h"

// func rawClone(flags, stack, ptid, ctid, tls uintptr, job *rawJob) int64
//
// clone(2) of a thread that runs no Go code: the child makes the system calls of job (each
// {nr, a0..a5}, ended by nr = -1) and exits. It never touches its stack, so the only memory it
// needs is job. Returns the child's tid, or -errno.
TEXT ·rawClone(SB),NOSPLIT,$0-56
	MOVQ	flags+0(FP), DI
	MOVQ	stack+8(FP), SI
	MOVQ	ptid+16(FP), DX
	MOVQ	ctid+24(FP), R10
	MOVQ	tls+32(FP), R8
	MOVQ	job+40(FP), R12
	MOVQ	$56, AX // SYS_clone
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	MOVQ	AX, ret+48(FP)
	RET
child:
	MOVQ	0(R12), AX
	CMPQ	AX, $-1
	JEQ	done
	MOVQ	8(R12), DI
	MOVQ	16(R12), SI
	MOVQ	24(R12), DX
	MOVQ	32(R12), R10
	MOVQ	40(R12), R8
	MOVQ	48(R12), R9
	SYSCALL
	ADDQ	$56, R12
	JMP	child
done:
	MOVQ	$60, AX // SYS_exit: this thread only
	XORQ	DI, DI
	SYSCALL
	JMP	done
