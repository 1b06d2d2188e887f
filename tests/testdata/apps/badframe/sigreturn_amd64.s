#include "textflag.h"

// func sigreturn(uc uintptr): rt_sigreturn with RSP pointing at a forged ucontext.
TEXT ·sigreturn(SB),NOSPLIT,$0-8
	MOVQ	uc+0(FP), SP
	MOVQ	$15, AX		// SYS_rt_sigreturn
	SYSCALL
	RET
