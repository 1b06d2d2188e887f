// Nanotime in assembly: the clock is read on every IPC handoff (CPU time, deadlines), and
// a Go body would call x86.Rdtsc through its ABI0 entry and back (about 9 more
// instructions a read). clock.go says what it computes.
//
// Runs in trap context.

#include "textflag.h"

// func Nanotime() int64: ((TSC - tscBoot) * nsPerTSC32) >> 32, from the 128-bit product.
TEXT ·Nanotime(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	SUBQ	·tscBoot(SB), AX
	MULQ	·nsPerTSC32(SB)
	SHRQ	$32, AX
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET
