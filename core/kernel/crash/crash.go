// Package crash is the core's crash reports. When the core cannot go on — an exception in
// kernel code, a fault its Go runtime does not handle, an unrecovered Go panic in the core —
// it prints a report whose first line starts with "CORE CRASH:", naming the exception (or
// panic) and the Go function, then the error code, CR2, every register, the thread and a
// stack trace symbolized from the core's own ELF symbols, and stops the machine with status
// 100. Stop is how the machine stops otherwise: the buffered console output first. On a
// machine with a display the report also goes on the crash screen, white on blue (arch's
// CrashScreen, put up as the report begins), which stays up a moment before the machine
// stops or resets.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.
package crash

import (
	"github.com/simpleos/simpleos/core/elfsym"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
	"github.com/simpleos/simpleos/core/x86"
)

// The core's own symbols (its ELF, Multiboot module 0), for the reports.
var (
	syms   elfsym.Table
	symsOK bool
)

// SetSymbols gives the reports the core's symbol table (at boot).
//
//go:nosplit
func SetSymbols(t elfsym.Table, ok bool) { syms, symsOK = t, ok }

// lastFault is the most recent synchronous fault of the core's runtime, kept for the report
// that follows if the runtime dies of it.
var lastFault struct {
	valid bool
	addr  uint64
	frame arch.TrapFrame
}

// RecordFault records a synchronous fault the kernel delivers to a Go runtime: in its task's
// crash watch, and, for the core's own, with its whole frame for the report that follows if
// the runtime dies of it.
//
//go:nosplit
func RecordFault(t *task.Task, tf *arch.TrapFrame, addr uint64) {
	t.Crash.Fault(tf.Vector, tf.RIP, addr)
	if !t.IsCore() {
		return
	}
	lastFault.valid = true
	lastFault.addr = addr
	arch.Memmove(lastFault.frame.FXAddr(), tf.FXAddr(), arch.TrapFrameSize)
}

// CoreExit stops the machine when the core's runtime exits. A non-zero exit right after a
// panic is a crash.
//
//go:nosplit
func CoreExit(status int) {
	w := &task.Get(task.Core).Crash
	msg, fn := w.LastWords()
	if status != 0 && len(msg) > 0 {
		what := "Go panic"
		tf := sched.Frame(sched.Current())
		fromFault := lastFault.valid && w.ReportedSignal()
		if fromFault {
			what = arch.ExceptionName(lastFault.frame.Vector)
			tf = &lastFault.frame
		}
		arch.CrashScreen()
		arch.Puts("CORE CRASH: ")
		arch.Puts(what)
		arch.Puts(" in ")
		if fromFault {
			putSymbol(tf.RIP)
		} else if len(fn) > 0 {
			putBytesSlice(fn)
		} else {
			arch.Puts("?")
		}
		arch.Puts(": ")
		putBytesSlice(msg)
		arch.Putc('\n')
		reportBody(tf, lastFault.addr)
		Stop(arch.StatusCrash)
	}
	Stop(status)
}

// CoreSignal reports the core's runtime ending by a signal it cannot survive (a fault with no
// handler, a bad signal frame): a crash.
//
//go:nosplit
func CoreSignal(tf *arch.TrapFrame, sig int, why string) {
	f := &sched.Cur().Sig.Fault
	arch.CrashScreen()
	arch.Puts("CORE CRASH: ")
	if f.Sig != 0 {
		arch.Puts(arch.ExceptionName(f.Trapno))
	} else {
		arch.Puts("signal ")
		arch.PutDec(uint64(sig))
	}
	arch.Puts(" in ")
	putSymbol(tf.RIP)
	arch.Puts(": ")
	arch.Puts(why)
	arch.Putc('\n')
	reportBody(tf, f.Addr)
	Stop(arch.StatusCrash)
}

// Frame reports a fatal trap in kernel code.
//
//go:nosplit
func Frame(what string, tf *arch.TrapFrame) {
	cr2 := x86.CR2()
	arch.CrashScreen()
	arch.Puts("CORE CRASH: ")
	arch.Puts(what)
	arch.Puts(" in ")
	putSymbol(tf.RIP)
	if tf.FromKernel() {
		arch.Puts(" (kernel)")
	}
	arch.Putc('\n')
	reportBody(tf, cr2)
	Stop(arch.StatusCrash)
}

//go:nosplit
func putBytesSlice(b []byte) {
	for _, c := range b {
		arch.Putc(c)
	}
}

// putSymbol prints pc as function+offset when the core's symbols are available.
//
//go:nosplit
func putSymbol(pc uint64) {
	if symsOK {
		if name, off, ok := syms.Lookup(uintptr(pc)); ok {
			arch.Puts(name)
			arch.Puts("+")
			arch.PutHex(uint64(off))
			return
		}
	}
	arch.PutHex(pc)
}

//go:nosplit
func putReg(name string, v uint64) {
	arch.Puts(name)
	arch.Puts("=")
	arch.PutHex16(v)
	arch.Puts(" ")
}

//go:nosplit
func reportBody(tf *arch.TrapFrame, cr2 uint64) {
	reportFault(tf, cr2)
	reportRegs(tf)
	reportThread()
	reportStack(tf)
	arch.Puts("CORE CRASH END\n")
}

//go:nosplit
func reportFault(tf *arch.TrapFrame, cr2 uint64) {
	arch.Puts("  vector ")
	arch.PutDec(tf.Vector)
	arch.Puts("  error code ")
	arch.PutHex(tf.ErrorCode)
	if tf.Vector == arch.ExcPageFault {
		arch.Puts(" (")
		if tf.ErrorCode&1 != 0 {
			arch.Puts("protection")
		} else {
			arch.Puts("not-present")
		}
		if tf.ErrorCode&2 != 0 {
			arch.Puts(", write")
		} else {
			arch.Puts(", read")
		}
		if tf.ErrorCode&16 != 0 {
			arch.Puts(", instruction fetch")
		}
		arch.Puts(")")
	}
	arch.Puts("  cr2 ")
	arch.PutHex(cr2)
	arch.Putc('\n')
}

// reportRegs prints the registers three to a line: 68 columns, so that the report fits the
// 80-column crash screen as it fits the serial console.
//
//go:nosplit
func reportRegs(tf *arch.TrapFrame) {
	arch.Puts("  ")
	putReg("rip", tf.RIP)
	putReg("rsp", tf.RSP)
	putReg("rflags", tf.RFLAGS)
	arch.Puts("\n  ")
	putReg("rax", tf.RAX)
	putReg("rbx", tf.RBX)
	putReg("rcx", tf.RCX)
	arch.Puts("\n  ")
	putReg("rdx", tf.RDX)
	putReg("rsi", tf.RSI)
	putReg("rdi", tf.RDI)
	arch.Puts("\n  ")
	putReg("rbp", tf.RBP)
	putReg("r8 ", tf.R8)
	putReg("r9 ", tf.R9)
	arch.Puts("\n  ")
	putReg("r10", tf.R10)
	putReg("r11", tf.R11)
	putReg("r12", tf.R12)
	arch.Puts("\n  ")
	putReg("r13", tf.R13)
	putReg("r14", tf.R14)
	putReg("r15", tf.R15)
	arch.Puts("\n  ")
	putReg("cs", tf.CS)
	putReg("ss", tf.SS)
	arch.Putc('\n')
}

//go:nosplit
func reportThread() {
	arch.Puts("  thread tid ")
	arch.PutDec(uint64(sched.Cur().TID()))
	arch.Puts(" (slot ")
	arch.PutDec(uint64(sched.Current()))
	arch.Puts("), ")
	arch.PutDec(uint64(sched.Count()))
	arch.Puts(" threads, uptime ")
	arch.PutDec(uint64(arch.Nanotime() / 1e6))
	arch.Puts(" ms, frames in use ")
	arch.PutDec(mm.Frames().Total - mm.Frames().Free)
	arch.Putc('\n')
}

//go:nosplit
func reportStack(tf *arch.TrapFrame) {
	arch.Puts("  stack trace:\n    ")
	putSymbol(tf.RIP)
	arch.Putc('\n')
	fp := uintptr(tf.RBP)
	for i := 0; i < 32 && fp != 0; i++ {
		ret, ok1 := readStackWord(fp + 8)
		next, ok2 := readStackWord(fp)
		if !ok1 || !ok2 || ret == 0 {
			break
		}
		arch.Puts("    ")
		putSymbol(ret)
		arch.Putc('\n')
		if uintptr(next) <= fp {
			break
		}
		fp = uintptr(next)
	}
}

// readStackWord reads a word of a stack being unwound without risking a nested fault.
//
//go:nosplit
func readStackWord(va uintptr) (uint64, bool) {
	if va&7 != 0 {
		return 0, false
	}
	if mm.IsKernelAddr(va) {
		if va < uintptr(mm.KernelStackBase) || mm.KernelPML4.Lookup(va)&mm.PTEPresent == 0 {
			return 0, false
		}
		return arch.Load64(va), true
	}
	e := sched.Cur().Space().Root().Lookup(mm.PageDown(va))
	if e&mm.PTEPresent == 0 || va >= mm.UserTop {
		return 0, false
	}
	return arch.Load64(mm.DirectMap(e&mm.PTEAddrMask) + va&(mm.PageSize-1)), true
}

// Stop stops the machine with status (QEMU's isa-debug-exit device makes it its exit code),
// after the output still in the console buffer.
//
//go:nosplit
func Stop(status int) {
	x86.Cli()
	console.Flush()
	arch.Halt(status)
}
