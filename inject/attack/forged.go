package attack

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/simpleos/simpleos/abi"
)

// Attacks on the system-call entry with state a task forges: SYSCALL with every register
// random, and rt_sigreturn with a signal frame it wrote itself, asking for a kernel code
// segment, IOPL 3, virtual-8086 mode, nested tasks, a reserved MXCSR bit. The kernel must take
// what a task may have from such a frame and nothing else.

// randomSyscalls: n system calls, each with all sixteen registers (RSP and RBP too) and RFLAGS
// random, the number one the core serves or anything at all. Left out: the calls that end the
// task or replace its context (exit, exit_group, rt_sigreturn), start threads (clone), or
// wait for a time taken from a register (notify_wait, event_recv, inject_wait — a random
// timeout past 2^62 is none): a correct kernel obeys those and the harness would not come
// back. (inject_wait was missing from the list: its turn came only when the IPC register
// calls joined abi.Calls and moved every later pick.)
func randomSyscalls(n int, seed uint64) []Attack {
	var nrs []uint64
	for _, c := range abi.Calls {
		switch c.Name {
		case "exit", "exit_group", "rt_sigreturn", "clone", "notify_wait", "event_recv", "inject_wait":
			continue
		}
		nrs = append(nrs, uint64(c.Nr))
	}
	x := seed | 1
	next := func() uint64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return x
	}
	var as []Attack
	for i := 0; i < n; i++ {
		var r Regs
		for reg := 0; reg < 16; reg++ {
			r = r.With(reg, next())
		}
		nr := next()
		if i%4 != 3 {
			nr = nrs[nr%uint64(len(nrs))]
		}
		r = r.With(RAX, nr).WithFlags(0x202 | next()&(FlagAC|FlagDF|FlagNT|IOPL3|0xcd5))
		as = append(as, Attack{Name: fmt.Sprintf("syscall %#x with random registers #%d", nr, i), Code: Snippet(r, insnSyscall...), Want: Either, Inspect: saneContext})
	}
	return as
}

// saneContext: whatever happened, the task is back in its own ring with interrupts on and
// no I/O privilege or virtual-8086 mode. (NT it may set itself with POPFQ; only an IRET in the
// kernel with NT set would be harmful, and the kernel clears NT on entry.)
func saneContext(t Trap) error {
	cs := t.Regs[RegCSGSFS] & 0xffff
	fl := t.Regs[RegEFL]
	switch {
	case int(cs&3) != Ring():
		return fmt.Errorf("the task came back with CS %#x (ring %d, it runs in ring %d)", cs, cs&3, Ring())
	case fl&IOPL3 != 0:
		return fmt.Errorf("the task came back with IOPL %d (RFLAGS %#x)", fl>>12&3, fl)
	case fl&FlagIF == 0:
		return fmt.Errorf("the task came back with interrupts off (RFLAGS %#x)", fl)
	case fl&(1<<17) != 0:
		return fmt.Errorf("the task came back in virtual-8086 mode (RFLAGS %#x)", fl)
	}
	return nil
}

// The ucontext rt_sigreturn reads at RSP (Linux's layout, core/kernel/signal.go).
const (
	ucMcontext = 40
	ucSigmask  = 296
	ucSize     = 304
	mcR12      = 4
	mcRSP      = 15
	mcRIP      = 16
	mcEFL      = 17
	mcCSGSFS   = 18
	mcFPSTATE  = 23
)

const forgedMarker = 0x5afe_f0e9_ed00_0012

// forgedSigreturns: rt_sigreturn with frames the task wrote on its own stack, each resuming
// at a UD2 of the snippet's own, which brings the context back to the harness: the kernel
// must resume there, with the forged R12, in the task's ring, with what RFLAGS a task may have.
func forgedSigreturns() []Attack {
	frames := []struct {
		name   string
		flags  uint64
		csgsfs uint64
		mxcsr  bool // an FXSAVE area with every MXCSR bit set, reserved ones too
	}{
		{"kernel cs and ss, every rflags bit", ^uint64(0), 0x08 | 0x10<<48, false},
		{"ring-1 cs, iopl 3, vm, nt, rf, ac", IOPL3 | 1<<17 | FlagNT | 1<<16 | FlagAC | 0x202, 0x1b | 0x23<<48, false},
		{"interrupts off, tf", FlagTF &^ FlagIF, 0x2b | 0x33<<48, false},
		{"reserved mxcsr bits", 0x202, 0x33, true},
	}
	var as []Attack
	for _, f := range frames {
		code, resume := forgedFrame(f.flags, f.csgsfs, f.mxcsr)
		start := Start(Regs{})
		as = append(as, Attack{Name: "rt_sigreturn, forged frame: " + f.name, Code: Snippet(Regs{}, code...), Want: Either,
			Inspect: func(t Trap) error {
				if t.Offset != start+resume {
					return fmt.Errorf("the task went on at +%d, not where its frame said (+%d): %s", t.Offset, start+resume, t)
				}
				if t.Regs[RegR12] != forgedMarker {
					return fmt.Errorf("R12 came back %#x, the frame said %#x", t.Regs[RegR12], uint64(forgedMarker))
				}
				return saneContext(t)
			}})
	}
	return as
}

// forgedFrame returns code that writes a ucontext below RSP (zeroed, so the signal mask it
// restores blocks nothing and there is no FPU state unless mxcsr), calls rt_sigreturn on it,
// and the offset of the UD2 the frame resumes at.
func forgedFrame(flags, csgsfs uint64, mxcsr bool) ([]byte, int) {
	const room = 2048
	b := []byte{0x48, 0x81, 0xec}                 // SUB RSP, room
	b = binary.LittleEndian.AppendUint32(b, room) //
	b = append(b, 0x48, 0x8d, 0x3c, 0x24)         // LEA RDI, [RSP]
	b = append(b, 0xb9)                           // MOV ECX, (ucSize+512+16)/8
	b = binary.LittleEndian.AppendUint32(b, (ucSize+512+16)/8)
	b = append(b, 0x31, 0xc0, 0xfc, 0xf3, 0x48, 0xab) // XOR EAX, EAX; CLD; REP STOSQ
	store := func(off int) {                          // MOV [RSP+off], RAX
		b = append(b, 0x48, 0x89, 0x84, 0x24)
		b = binary.LittleEndian.AppendUint32(b, uint32(off))
	}
	leaRIP := len(b) // LEA RAX, [RIP+disp]: patched below with the resume point
	b = append(b, 0x48, 0x8d, 0x05, 0, 0, 0, 0)
	store(ucMcontext + mcRIP*8)
	b = append(b, 0x48, 0x8d, 0x84, 0x24) // LEA RAX, [RSP+room]: the stack as it was
	b = binary.LittleEndian.AppendUint32(b, room)
	store(ucMcontext + mcRSP*8)
	b = movImm(b, RAX, flags)
	store(ucMcontext + mcEFL*8)
	b = movImm(b, RAX, csgsfs)
	store(ucMcontext + mcCSGSFS*8)
	b = movImm(b, RAX, forgedMarker)
	store(ucMcontext + mcR12*8)
	if mxcsr {
		b = append(b, 0x48, 0x8d, 0x84, 0x24) // LEA RAX, [RSP+ucSize+15]
		b = binary.LittleEndian.AppendUint32(b, ucSize+15)
		b = append(b, 0x48, 0x83, 0xe0, 0xf0)                   // AND RAX, -16: FXRSTOR wants 16-byte alignment
		b = append(b, 0xc7, 0x40, 0x18, 0xff, 0xff, 0xff, 0xff) // MOV DWORD [RAX+24], ~0: MXCSR
		store(ucMcontext + mcFPSTATE*8)
	}
	b = append(b, movEAX(syscall.SYS_RT_SIGRETURN)...)
	b = append(b, insnSyscall...)
	b = append(b, insnUD2...) // reached only if rt_sigreturn returned like a call
	resume := len(b)
	b = append(b, insnUD2...)
	binary.LittleEndian.PutUint32(b[leaRIP+3:], uint32(resume-(leaRIP+7)))
	return b, resume
}
