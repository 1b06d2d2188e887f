package fault

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/inject/fuzz"
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

// Known reports whether class is one of Classes, DriverClasses or FSClasses.
func Known(class string) bool {
	for _, c := range classes {
		if c == class {
			return true
		}
	}
	return IsDriver(class) || IsFS(class)
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
	Handled  Outcome = abi.InjectHandled // the fault ran and the task is still alive and well
	Breach   Outcome = abi.InjectBreach  // something that had to be stopped was not
	External Outcome = 3                 // the class is done from outside (the core); nothing ran here
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
		sinkInt = int(idiv(1, int64(zero))) // #DE from the CPU: Go's own division never traps
		return Breach, nil                  // not reached
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
		return stackOverflow(), nil
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
		if fuzz.OnSimpleOS() {
			return stormOnSimpleOS(seed, stormCalls), nil
		}
		syscallStorm(seed, stormCalls)
		return Handled, nil
	case Panic:
		panic("fault injected")
	case BitflipCode, BitflipData, Kill:
		return External, nil
	}
	if IsDriver(class) {
		return 0, fmt.Errorf("fault: %s is a driver class: the driver commits it in its request path", class)
	}
	if IsFS(class) {
		return 0, fmt.Errorf("fault: %s is a file-system class: the file-system server commits it in its request path", class)
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

// stackOverflow recurses past the end of a stack into its guard page, as a thread of a C
// program does: a 256 KiB stack with an inaccessible page below it, used with no stack checks
// (Go's own goroutine stacks grow, or stop at the runtime's limit, and never reach a guard).
// The fault is the kernel's to deliver, on a stack that cannot take a signal frame.
func stackOverflow() Outcome {
	const size = 256 << 10
	base, _, errno := syscall.RawSyscall6(syscall.SYS_MMAP, 0, size+pageSize, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON, ^uintptr(0), 0)
	if errno != 0 {
		return Handled // no memory for the stack: nothing to overflow
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_MPROTECT, base, pageSize, syscall.PROT_NONE); errno != 0 {
		return Handled
	}
	sinkU64 = uint64(recurseOn(base + pageSize + size))
	return Breach // not reached: the guard page faulted
}

const pageSize = 4096

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
