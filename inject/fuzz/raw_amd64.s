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

// func rawSyscallRegs(nr, a0, a1, a2, a3, a4, a5, rbx, r12, r13 uintptr) (r, errno uintptr)
//
// A system call of the IPC register path: the six argument registers, then RBX, R12 and R13
// (abi.SysIPCCallRegs). What the call returns in registers is the fuzzer's to lose.
TEXT ·rawSyscallRegs(SB),NOSPLIT,$0-96
	MOVQ	a0+8(FP), DI
	MOVQ	a1+16(FP), SI
	MOVQ	a2+24(FP), DX
	MOVQ	a3+32(FP), R10
	MOVQ	a4+40(FP), R8
	MOVQ	a5+48(FP), R9
	MOVQ	rbx+56(FP), BX
	MOVQ	r12+64(FP), R12
	MOVQ	r13+72(FP), R13
	MOVQ	nr+0(FP), AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, r+80(FP)
	NEGQ	AX
	MOVQ	AX, errno+88(FP)
	RET
ok:
	MOVQ	AX, r+80(FP)
	MOVQ	$0, errno+88(FP)
	RET
