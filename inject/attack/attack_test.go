package attack

import (
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The harness itself, on the host's Linux: every snippet comes back, with the signal Linux
// delivers for it, and the task goes on.

func TestSnippetRunsToItsEnd(t *testing.T) {
	tr, err := Run(Snippet(Regs{}, insnNOP...))
	require.NoError(t, err)
	assert.True(t, tr.Ended, tr.String())
	assert.Equal(t, int(syscall.SIGILL), tr.Signal)
}

func TestTrapsComeBackWithTheirSignal(t *testing.T) {
	for _, c := range []struct {
		name string
		code []byte
		sig  syscall.Signal
		vec  uint64
		at   int // offset of the trap's RIP in the attack: a fault's own instruction, past a trap
	}{
		{"ud2", insnUD2, syscall.SIGILL, vecUD, 0},
		{"hlt", insnHLT, syscall.SIGSEGV, vecGP, 0},
		{"load0", insnLoad0, syscall.SIGSEGV, vecPF, 0},
		{"div0", insnDivZero, syscall.SIGFPE, vecDE, 2},
		{"int3", insnINT3, syscall.SIGTRAP, vecBP, 1},
	} {
		tr, err := Run(Snippet(Regs{}, c.code...))
		require.NoError(t, err)
		assert.False(t, tr.Ended, c.name)
		assert.Equal(t, int(c.sig), tr.Signal, c.name)
		assert.Equal(t, c.vec, tr.Trapno(), c.name)
		assert.Equal(t, Start(Regs{})+c.at, tr.Offset, c.name)
	}
}

func TestHostileStackComesBack(t *testing.T) {
	r := Regs{}.With(RSP, 0xffff_8000_0040_0000).With(RBP, 1)
	tr, err := Run(Snippet(r, insnUD2...))
	require.NoError(t, err)
	assert.Equal(t, int(syscall.SIGILL), tr.Signal)
	assert.Equal(t, uint64(0xffff_8000_0040_0000), tr.Regs[RegRSP], "the context shows the stack pointer the snippet had")
	runtime.GC() // the goroutine's own stack is intact
}

func TestSyscallPreservesRegistersOnLinux(t *testing.T) {
	a := syscallPreserves("getpid", Regs{}, syscall.SYS_GETPID)
	tr, err := Run(a.Code)
	require.NoError(t, err)
	v, why := a.Judge(tr)
	assert.Equal(t, Passed, v, why)
	assert.Equal(t, uint64(syscall.Getpid()), tr.Regs[RegRAX])
}

func TestTrapFlagSingleSteps(t *testing.T) {
	a := flagAttacks()[0]
	tr, err := Run(a.Code)
	require.NoError(t, err)
	v, why := a.Judge(tr)
	assert.Equal(t, Passed, v, why)
}

func TestJudge(t *testing.T) {
	a := Attack{Want: MustTrap, Signal: syscall.SIGSEGV, Vector: vecGP}
	v, _ := a.Judge(Trap{Ended: true})
	assert.Equal(t, Breach, v)
	var regs [23]uint64
	regs[RegTRAPNO] = vecPF
	v, _ = a.Judge(Trap{Signal: int(syscall.SIGSEGV), Regs: regs})
	assert.Equal(t, Mismatch, v)
	regs[RegTRAPNO] = vecGP
	v, _ = a.Judge(Trap{Signal: int(syscall.SIGSEGV), Regs: regs})
	assert.Equal(t, Passed, v)
}
