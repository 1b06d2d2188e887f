package arch

// The entry area: the part of the upper half that every address space maps at the same
// address (PML4 slot 511), holding what the CPU needs to enter the kernel from a task —
// and nothing else of the core. Like the trampoline page of xv6 or the entry area of Linux's
// page-table isolation:
//
//	+0x0000  trampoline stubs, one per IDT vector (shared, read-only, executable)
//	+0x1000  trampoline code: trampCommon, +0x400 trampSyscall, +0x800 trampExit, +0xc00 trampSysret
//	+0x2000  GDT (shared; writable only in the core's map)
//	+0x3000  IDT (shared, read-only)
//	+0x4000  read-only data: the core's CR3, the addresses of trapEntry and syscallEntry, and
//	         what a load of the core's CR3 adds (NoFlush once PCIDs are on: pcid.go) (shared)
//	+0x5000  TSS and I/O permission bitmap, 3 pages (per address space, read-only to tasks);
//	         +0x7800 holds the space's code and stack selectors for trampSyscall
//	+0x8000  entry stack, 2 pages (per address space): IST1 for every vector; its first
//	         word is trampSyscall's scratch (KERNEL_GS_BASE)
//	+0xa000  NMI / double-fault / machine-check stack, 1 page (per address space): IST2
//
// Rings 1 and 2 can read and write any page mapped in their address space, so the shared
// structures are mapped read-only there and the writable ones are per task: a task can only
// scribble on its own entry stack, which holds nothing but its own registers. The core maps
// the *running* task's entry stacks at the same addresses, so the stack stays valid while
// trampCommon switches CR3. Package mm maps the area into each address space; this file says
// where everything is and fills the pages it is given.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const (
	EntryBase       = 0xffff_ff80_0000_0000
	EntryStubs      = EntryBase + 0x0000
	EntryCode       = EntryBase + 0x1000
	entrySyscall    = EntryCode + 0x400
	entryExit       = EntryCode + 0x800
	entrySysret     = EntryCode + 0xc00
	EntryGDT        = EntryBase + 0x2000
	EntryIDT        = EntryBase + 0x3000
	EntryROData     = EntryBase + 0x4000
	EntryTSS        = EntryBase + 0x5000
	entryTaskInfo   = EntryBase + 0x7800
	EntryStack      = EntryBase + 0x8000
	entryStackTop   = EntryBase + 0xa000
	entryNMIStack   = EntryBase + 0xa000
	entryNMITop     = EntryBase + 0xb000
	EntryCodeSlot   = 0x400 // room for each trampoline routine (trampCommon, trampSyscall, trampExit, trampSysret in turn)
	TSSPages        = 3
	EntryStackPages = 3 // the entry stack (2 pages) and the NMI stack
	ioBitmapOffset  = 104
	ioBitmapSize    = 8192
	tssLimit        = ioBitmapOffset + ioBitmapSize // the byte after the bitmap (0xff) is included
)

// The asm names the few constants it uses in lower case (go_asm.h's const_ names).
const (
	entryROData = EntryROData
	userTop     = LowerHalfEnd
)

func trampAddrs() (stubs, common, syscall, exit, sysret uintptr)
func trapEntryAddr() uintptr
func syscallEntryAddr() uintptr
func syscallEntry()
func trampStubs()
func trampCommon()
func trampSyscall()
func trampExit()
func trampSysret()
func trapEntry()
func trapReturn()
func threadStart()

// The trap path's variables, read by the assembly.
var (
	kstackTop   uintptr // top of the running thread's kernel stack, where its TrapFrame is built
	trapHandler uintptr // the ABI0 entry of the kernel's func(*TrapFrame) (SetTrapHandler)
	// syscallHandler is the one a task's system call reaches from syscallEntry (SetSyscallHandler).
	syscallHandler uintptr
	// resumeHandler finishes the system call of a thread left by LeaveTo (SetResumeHandler).
	resumeHandler uintptr
	kernelFS      uint64 // the FS base kernel code runs with (a block whose -8 holds a stand-in g)
	// What trapReturn loads into FS on its way back to a task, the address of the CR3 word of
	// that task's address space (which it loads, then marks NoFlush: pcid.go), and the core's
	// alias of that space's entry stack (the address of its first byte), where it writes the
	// way back. returnCR3 is trapReturn's own: the word as it loads it.
	returnFS, returnCR3        uint64
	returnCR3Word, returnStack uintptr
)

// SetTrapHandler makes the ABI0 function at pc, of one argument (the *TrapFrame), the one every
// trap and system call reaches. Set once at boot, before interrupts are on.
//
//go:nosplit
func SetTrapHandler(pc uintptr) { trapHandler = pc }

// SetSyscallHandler makes the ABI0 function at pc, of one argument (the *TrapFrame), the one
// a task's system call reaches (syscallEntry): the trap handler's work for vector
// VectorSyscall, without looking at the vector. Set once at boot, before any task runs.
//
//go:nosplit
func SetSyscallHandler(pc uintptr) { syscallHandler = pc }

// SetResumeHandler makes the ABI0 function at pc, of one argument (the *TrapFrame), the one that
// finishes the system call of a thread left by LeaveTo when it runs again. Set once at boot.
//
//go:nosplit
func SetResumeHandler(pc uintptr) { resumeHandler = pc }

// SetKernelFS sets the FS base the kernel runs with after a trap from a task.
//
//go:nosplit
func SetKernelFS(fs uint64) { kernelFS = fs }

// SetKernelStack makes top the kernel stack the next trap from a Go runtime builds its frame
// under: the running thread's.
//
//go:nosplit
func SetKernelStack(top uintptr) { kstackTop = top }

// SetReturn sets the FS base trapReturn loads when it goes back to a task, the address of the
// CR3 word of the task's address space (mm's: its page table and PCID, and NoFlush when the
// TLB holds nothing stale of it), and the core's alias of that space's entry stack (see
// TSS.Init).
//
//go:nosplit
func SetReturn(fs uint64, cr3Word, stack uintptr) {
	returnFS, returnCR3Word, returnStack = fs, cr3Word, stack
}

// SetReturnFS changes the FS base trapReturn loads, the rest as SetReturn left it.
//
//go:nosplit
func SetReturnFS(fs uint64) { returnFS = fs }

// trampLength finds a trampoline routine's end marker ("TAMPREND").
//
//go:nosplit
func trampLength(start uintptr, max uintptr) uintptr {
	for off := uintptr(0); off+8 <= max; off++ {
		if Load32(start+off) == 0x504d4154 && Load32(start+off+4) == 0x444e4552 {
			return off
		}
	}
	Panic("trampoline routine too long or without end marker at", uint64(start))
	return 0
}

// InstallTrampoline copies the trampoline out of the core image into the shared entry-area
// pages stubs and code (kernel addresses), and fills the read-only data page roData: the
// core's page table, the addresses of trapEntry and syscallEntry, and 0 for what loads of the
// core's CR3 add (EnablePCID changes it).
//
//go:nosplit
func InstallTrampoline(stubs, code, roData uintptr, kernelCR3 uint64) {
	s, common, syscall, exit, sysret := trampAddrs()
	if n := trampLength(s, 4096+8); n != 256*16 {
		Panic("trampoline stubs are not 4096 bytes:", uint64(n))
	}
	Memmove(stubs, s, 256*16)
	Memmove(code, common, trampLength(common, EntryCodeSlot))
	Memmove(code+0x400, syscall, trampLength(syscall, EntryCodeSlot))
	Memmove(code+0x800, exit, trampLength(exit, EntryCodeSlot))
	Memmove(code+0xc00, sysret, trampLength(sysret, EntryCodeSlot))
	Store64(roData, kernelCR3)
	Store64(roData+8, uint64(trapEntryAddr()))
	Store64(roData+16, uint64(syscallEntryAddr()))
	Store64(roData+24, 0)
	roDataPage = roData
}

// TSS is an address space's task-state segment and I/O permission bitmap: the kernel
// addresses of its TSSPages pages.
type TSS [TSSPages]uintptr

// Init fills a fresh TSS: every stack pointer is an entry-area stack, no port is allowed,
// and the task-info words hold the space's code and stack selectors for trampSyscall and the
// offset from its entry stacks (EntryStack) to stackAlias, where the core's own map shows
// them (0 for the core's space, whose traps never switch CR3).
//
//go:nosplit
func (t *TSS) Init(codeSel, stackSel uint64, stackAlias uintptr) {
	tss := t[0]
	storeUnaligned64(tss+4, entryStackTop)  // RSP0
	storeUnaligned64(tss+36, entryStackTop) // IST1
	storeUnaligned64(tss+44, entryNMITop)   // IST2
	Store32(tss+100, ioBitmapOffset<<16)
	// Every port denied: the bitmap (and the byte after it) all ones, a page's part at a time
	// and eight bytes a store — a byte at a time this loop was two thirds of a restore.
	for off := uintptr(ioBitmapOffset); off <= tssLimit; {
		end := min((off/4096+1)*4096, tssLimit+1)
		a, n := t.byteAt(off), end-off
		for ; n > 0 && a%8 != 0; a, n = a+1, n-1 {
			Store8(a, 0xff)
		}
		for ; n >= 8; a, n = a+8, n-8 {
			Store64(a, ^uint64(0))
		}
		for ; n > 0; a, n = a+1, n-1 {
			Store8(a, 0xff)
		}
		off = end
	}
	info := t[2] + (entryTaskInfo - EntryTSS - 2*4096)
	Store64(info, codeSel)
	Store64(info+8, stackSel)
	var offset uint64
	if stackAlias != 0 {
		offset = uint64(stackAlias - EntryStack)
	}
	Store64(info+16, offset)
}

// AllowPort clears port's bit in the I/O permission bitmap.
//
//go:nosplit
func (t *TSS) AllowPort(port uint16) {
	b := t.byteAt(ioBitmapOffset + uintptr(port/8))
	Store8(b, Load8(b)&^(1<<(port%8)))
}

//go:nosplit
func (t *TSS) byteAt(off uintptr) uintptr { return t[(off/4096)%TSSPages] + off%4096 }

//go:nosplit
func storeUnaligned64(p uintptr, v uint64) {
	Store32(p, uint32(v))
	Store32(p+4, uint32(v>>32))
}

// SwitchContext saves the running thread's kernel stack pointer in *save and resumes the thread
// whose saved stack pointer is load (trap_amd64.s).
func SwitchContext(save *uintptr, load uintptr)

// LeaveTo gives the CPU to the thread whose saved kernel stack pointer is load, and leaves
// the running thread's kernel stack behind (trap_amd64.s): all that thread needs to run again
// is its TrapFrame at tf, where its next SwitchContext resumes it (trapResume, then the
// resume handler and trapReturn). *save gets the stack pointer that does so. It never returns.
func LeaveTo(save *uintptr, tf uintptr, load uintptr)

// LeaveToFrame is LeaveTo for a thread whose system call is already finished in its TrapFrame
// at to: the CPU goes straight back to its code through trapReturn.
func LeaveToFrame(save *uintptr, tf uintptr, to uintptr)

func trapResume()

// EnterThread abandons the boot stack and starts the thread whose kernel stack pointer is sp.
func EnterThread(sp uintptr)

// ThreadStartPC is the address a new thread's first SwitchContext returns to: it loads the
// thread's TrapFrame (trapReturn).
func ThreadStartPC() uintptr

// KernelFS is the FS base kernel code runs with.
//
//go:nosplit
func KernelFS() uint64 { return kernelFS }
