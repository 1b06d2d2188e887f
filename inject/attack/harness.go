package attack

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// Implemented in harness_amd64.s.
func run(code uintptr)
func handlerAddr() uintptr
func restorerAddr() uintptr

// The state of the snippet being run and of its trap (harness_amd64.s reads and writes them).
var (
	armed            uint64
	savedSP, savedBP uintptr
	goHandler        uintptr
	trapSig          uint64
	trapCode         int64
	trapAddr         uint64
	trapRegs         [23]uint64
)

// Context registers, in the order of the kernel's signal context (glibc's REG_*).
const (
	RegR8 = iota
	RegR9
	RegR10
	RegR11
	RegR12
	RegR13
	RegR14
	RegR15
	RegRDI
	RegRSI
	RegRBP
	RegRBX
	RegRDX
	RegRAX
	RegRCX
	RegRSP
	RegRIP
	RegEFL
	RegCSGSFS
	RegERR
	RegTRAPNO
	RegOLDMASK
	RegCR2
)

// Signals the harness catches: every synchronous fault.
var caught = []syscall.Signal{syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGILL, syscall.SIGFPE, syscall.SIGTRAP}

// Trap is how a snippet ended.
type Trap struct {
	Signal  int        // the signal the kernel delivered
	Code    int        // its si_code
	Addr    uint64     // si_addr
	Regs    [23]uint64 // the context at the trap (Reg* indices)
	Offset  int        // RIP - the snippet's start (-1 when RIP is outside it)
	Ended   bool       // the snippet ran to its closing UD2
	Elapsed int64      // ns, by CLOCK_MONOTONIC around the run
}

// Trapno is the exception vector the kernel reported.
func (t Trap) Trapno() uint64 { return t.Regs[RegTRAPNO] }

func (t Trap) String() string {
	if t.Ended {
		return "ran to its end"
	}
	return fmt.Sprintf("%v (code %d, vector %d, error %#x) at +%d addr=%#x", syscall.Signal(t.Signal), t.Code, t.Trapno(), t.Regs[RegERR], t.Offset, t.Addr)
}

var (
	mu       sync.Mutex
	code     []byte // the executable page snippets are written to
	installd bool
)

const codeSize = 64 << 10

// kernel's struct sigaction on x86-64.
type sigaction struct {
	handler, flags, restorer, mask uint64
}

const (
	saSigInfo  = 0x4
	saOnStack  = 0x08000000
	saRestorer = 0x04000000
	saNoDefer  = 0x40000000
)

// install takes over the synchronous signals (keeping the Go runtime's handler for faults
// outside a snippet) and maps the snippet page.
func install() error {
	if installd {
		return nil
	}
	p, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, codeSize, syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC,
		syscall.MAP_PRIVATE|syscall.MAP_ANON, ^uintptr(0), 0)
	if e != 0 {
		return fmt.Errorf("attack: mmap of the snippet page: %v", e)
	}
	code = unsafe.Slice((*byte)(unsafe.Pointer(p)), codeSize)
	for _, sig := range caught {
		act := sigaction{handler: uint64(handlerAddr()), flags: saSigInfo | saOnStack | saRestorer | saNoDefer,
			restorer: uint64(restorerAddr()), mask: ^uint64(0) &^ (1<<(syscall.SIGSEGV-1) | 1<<(syscall.SIGBUS-1) | 1<<(syscall.SIGILL-1) | 1<<(syscall.SIGFPE-1) | 1<<(syscall.SIGTRAP-1))}
		var old sigaction
		if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 {
			return fmt.Errorf("attack: rt_sigaction(%v): %v", sig, e)
		}
		if goHandler == 0 {
			goHandler = uintptr(old.handler)
		}
	}
	if goHandler == 0 {
		return errors.New("attack: the Go runtime has no handler for SIGSEGV")
	}
	installd = true
	return nil
}

// Run executes snippet s (machine code that ends in UD2, see Snippet) and returns how it
// ended. Asynchronous signals are blocked meanwhile, so nothing but the snippet's own traps
// reach the thread while its registers are hostile.
func Run(s []byte) (Trap, error) {
	mu.Lock()
	defer mu.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := install(); err != nil {
		return Trap{}, err
	}
	if len(s) > len(code) {
		return Trap{}, fmt.Errorf("attack: snippet of %d bytes", len(s))
	}
	copy(code, s)
	block := ^uint64(0) &^ (1<<(syscall.SIGSEGV-1) | 1<<(syscall.SIGBUS-1) | 1<<(syscall.SIGILL-1) | 1<<(syscall.SIGFPE-1) | 1<<(syscall.SIGTRAP-1))
	var old uint64
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 0 /* SIG_BLOCK */, uintptr(unsafe.Pointer(&block)), uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 {
		return Trap{}, fmt.Errorf("attack: rt_sigprocmask: %v", e)
	}
	start := monotonic()
	run(uintptr(unsafe.Pointer(&code[0])))
	elapsed := monotonic() - start
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
	t := Trap{Signal: int(trapSig), Code: int(trapCode), Addr: trapAddr, Regs: trapRegs, Offset: -1, Elapsed: elapsed}
	base := uint64(uintptr(unsafe.Pointer(&code[0])))
	if rip := t.Regs[RegRIP]; rip >= base && rip < base+uint64(len(s)) {
		t.Offset = int(rip - base)
	}
	t.Ended = t.Signal == int(syscall.SIGILL) && t.Offset == len(s)-2 && s[len(s)-2] == 0x0f && s[len(s)-1] == 0x0b
	return t, nil
}

func monotonic() int64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func cs() uint64

// Ring returns the privilege level the calling task runs at.
func Ring() int { return int(cs() & 3) }
