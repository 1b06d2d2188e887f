package fault

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"github.com/simpleos/simpleos/tier2/sensor/content"
)

// Fault classes, in the order Classes returns them.
const (
	NullDeref          = "null-deref"
	NullDerefRecovered = "null-deref-recovered"
	OOBRead            = "oob-read"
	WildWriteCore      = "wild-write-core"
	WildWriteTask      = "wild-write-task"
	DivZero            = "div-zero"
	InvalidOpcode      = "invalid-opcode"
	Privileged         = "privileged"
	PortIO             = "port-io"
	StackOverflow      = "stack-overflow"
	EndlessLoop        = "endless-loop"
	MemExhaust         = "mem-exhaust"
	ThreadBomb         = "thread-bomb"
	BadIPC             = "bad-ipc"
	SyscallStorm       = "syscall-storm"
	Panic              = "panic"
	BitflipCode        = "bitflip-code" // external: done by the core
	BitflipData        = "bitflip-data" // external: done by the core
	Kill               = "kill"         // external: done by the core
)

var classes = [...]string{
	NullDeref, NullDerefRecovered, OOBRead, WildWriteCore, WildWriteTask, DivZero,
	InvalidOpcode, Privileged, PortIO, StackOverflow, EndlessLoop, MemExhaust, ThreadBomb,
	BadIPC, SyscallStorm, Panic, BitflipCode, BitflipData, Kill,
}

// Classes returns every class, in order.
func Classes() []string { return append([]string(nil), classes[:]...) }

// Known reports whether class is one of Classes.
func Known(class string) bool {
	for _, c := range classes {
		if c == class {
			return true
		}
	}
	return false
}

// IsExternal reports whether class is executed by the core rather than in the task.
func IsExternal(class string) bool {
	return class == BitflipCode || class == BitflipData || class == Kill
}

// Targets are the addresses the core hands the module for the wild-write classes; 0 selects
// the built-in default.
type Targets struct{ CoreAddr, TaskAddr uintptr }

const (
	defaultCoreAddr = 0x200000              // the core image's link address
	defaultTaskAddr = 0xffff_8000_0010_0000 // the core's direct map
)

// Outcome is what an injected fault did, as far as the task can tell.
type Outcome int

const (
	Handled  Outcome = 1 // the fault ran and the task is still alive and well
	Breach   Outcome = 2 // something that had to be stopped was not
	External Outcome = 3 // the class is done from outside (the core); nothing ran here
)

func (o Outcome) String() string {
	switch o {
	case Handled:
		return "handled"
	case Breach:
		return "breach"
	case External:
		return "external"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Package-level variables the compiler cannot see through: the faults are real.
var (
	nilWord     *uint64
	zero        int
	wildPattern = uint64(0x5eb0_0b5e_dead_beef)
	spinState   atomic.Uint64         // endless-loop's xorshift state
	hoard       [][]byte              // mem-exhaust keeps every block
	never       = make(chan struct{}) // thread-bomb blocks on it; never closed
	sinkU64     uint64
	sinkInt     int
	sinkU8      uint8
)

// stackLimit is the stack limit stack-overflow recurses into.
const stackLimit = 16 << 20

// Inject executes class now, in the calling goroutine. Classes that kill the task never
// return. It returns Handled, Breach or External; an unknown class returns an error.
func Inject(class string, t Targets, seed uint64) (Outcome, error) {
	switch class {
	case NullDeref:
		sinkU64 = *nilWord
		return Breach, nil // page 0 is mapped: the read did not fault
	case NullDerefRecovered:
		return nullDerefRecovered(), nil
	case OOBRead:
		oobRead()
		return Handled, nil
	case WildWriteCore:
		return wildWrite(orDefault(t.CoreAddr, defaultCoreAddr)), nil
	case WildWriteTask:
		return wildWrite(orDefault(t.TaskAddr, defaultTaskAddr)), nil
	case DivZero:
		sinkInt = 1 / zero
		return Breach, nil // not reached: Go checks the divisor
	case InvalidOpcode:
		ud2()
		return Breach, nil
	case Privileged:
		hlt()
		cli()
		return Breach, nil
	case PortIO:
		sinkU8 = inb(0x60)
		outb(0x80, sinkU8)
		return Breach, nil
	case StackOverflow:
		if old := debug.SetMaxStack(stackLimit); old < stackLimit {
			debug.SetMaxStack(old)
		}
		sinkU64 = recurse(0)
		return Breach, nil // not reached
	case EndlessLoop:
		endlessLoop() // never returns
	case MemExhaust:
		memExhaust() // never returns
	case ThreadBomb:
		threadBomb() // never returns
	case BadIPC:
		badIPC(seed)
		return Handled, nil
	case SyscallStorm:
		syscallStorm(seed, stormCalls)
		return Handled, nil
	case Panic:
		panic("fault injected")
	case BitflipCode, BitflipData, Kill:
		return External, nil
	}
	return 0, fmt.Errorf("fault: unknown class %q", class)
}

func orDefault(a, def uintptr) uintptr {
	if a == 0 {
		return def
	}
	return a
}

func nullDerefRecovered() (o Outcome) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			o = Handled
		}
	}()
	sinkU64 = *nilWord
	return Breach
}

// oobRead is the Channel File 291 fault: the bad update's instance 7 reads the 21st of 20
// values and dereferences content.StaleAddr.
func oobRead() {
	_, bad := content.Fixtures()
	for _, v := range content.DemoEvents() {
		bad.MatchNative(&content.NewInput(v).Values)
	}
}

// wildWrite stores the pattern at addr; if that does not fault, the write went through.
func wildWrite(addr uintptr) Outcome {
	p := (*uint64)(unsafe.Add(nil, addr))
	*p = wildPattern
	sinkU64 = *p
	return Breach
}

//go:noinline
func recurse(depth uint64) uint64 {
	var frame [256]byte
	frame[depth%uint64(len(frame))] = byte(depth)
	r := recurse(depth + 1) // not a tail call: the result is used below
	return r + uint64(frame[(depth*7)%uint64(len(frame))])
}

// endlessLoop runs xorshift forever, with no calls. The state is stored atomically (an
// intrinsic, not a call) so the compiler keeps the work in the loop.
func endlessLoop() {
	x := uint64(0x9e37_79b9_7f4a_7c15)
	for {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		spinState.Store(x)
	}
}

func memExhaust() {
	for {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		hoard = append(hoard, b)
	}
}

// threadBomb pins one more OS thread with every goroutine: each locks its thread and blocks.
func threadBomb() {
	ready := make(chan struct{})
	for {
		go func() {
			runtime.LockOSThread()
			ready <- struct{}{}
			<-never
		}()
		<-ready
	}
}
