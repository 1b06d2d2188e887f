package kernel

// Boot: multibootEntry (entry_amd64.s) switches to long mode and calls bootMain on a static
// stack. bootMain builds the frame allocator from the Multiboot memory map, the core's page
// tables (the core image identity-mapped with its ELF permissions, the direct map in the upper
// half), the GDT/TSS and IDT, the SYSCALL MSRs and the interrupt controllers; it calibrates
// the clocks, finds the VGA text display if the machine has one (the console is mirrored on
// it: arch's screen.go; vga=off leaves it alone), creates the core process with a Linux-style initial stack (argv from the kernel
// command line, auxv) and enters the Go runtime's own entry point, _rt0_amd64_linux, as
// thread 1.
//
// Runs before the Go runtime exists: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/elfsym"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/crash"
	"github.com/simpleos/simpleos/core/kernel/ipc"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/rng"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/sys"
	"github.com/simpleos/simpleos/core/kernel/task"
	"github.com/simpleos/simpleos/core/multiboot"
	"github.com/simpleos/simpleos/core/x86"
	"github.com/simpleos/simpleos/core/x86/vga"
)

const bootStackSize = 64 << 10

var (
	bootStack    [bootStackSize]byte
	bootMagic    uint32
	bootInfoPhys uint32
	mxcsrDefault uint32      = 0x1f80
	bootG        [64]uintptr // stand-in g for Go's ABI wrappers before the runtime runs
	bootTLS      [2]uintptr  // bootTLS[0] = &bootG; FS base = &bootTLS[1]
)

var (
	kernelSyms   elfsym.Table
	kernelSymsOK bool
	bootReadyNs  int64 // monotonic time when the runtime was entered
	bootRegions  [192]multiboot.Range
	exclusions   [160]multiboot.Range
	bootArgv     [32]uint64 // initial-stack addresses of argv and envp strings
	bootEnvp     [32]uint64
)

func multibootEntry()
func multibootEntryAddr() uintptr
func runtimeEntry() uintptr
func bootFSBase() uint64
func handleTrapAddr() uintptr
func handleSyscallAddr() uintptr
func resumeTrapAddr() uintptr

//go:nosplit
func bootMain() {
	arch.MarkEntry()
	arch.Puts("\nSimpleOS core: 64-bit entry\n")
	if sys.Table[abi.SysWrite].Handler == nil {
		arch.Panic("system-call table is not static data", 0)
	}
	info, ok := multiboot.Load(bootMagic, uintptr(bootInfoPhys), mm.DirectMapBase)
	if !ok {
		arch.Panic("not started by a Multiboot loader: magic", uint64(bootMagic))
	}
	imgStart, imgEnd := mm.ImageExtent()
	n := collectExclusions(info, imgStart, imgEnd)
	k := uint(info.UsableRanges(exclusions[:min(uint(n), uint(len(exclusions)))], bootRegions[:]))
	mm.InitFrames(bootRegions[:min(k, uint(len(bootRegions)))])
	if mm.Frames().Free < 1024 {
		arch.Panic("too little memory: free frames", mm.Frames().Free)
	}
	mm.BuildKernelSpace()
	mm.InitEntryShared()
	mm.InitCoreEntryArea()
	x86.SetCR3(uint64(mm.KernelPML4))
	gdt, idt := mm.DescriptorPages()
	arch.InitGDT(gdt)
	arch.InitIDT(idt)
	arch.InitSyscallMSRs()
	arch.SetTrapHandler(handleTrapAddr())
	arch.SetSyscallHandler(handleSyscallAddr())
	arch.SetResumeHandler(resumeTrapAddr())
	arch.SetKernelFS(bootFSBase())
	arch.InitAPIC()
	arch.Calibrate()
	rng.Init()
	if info.ModuleCount() > 0 {
		if start, end, _, ok := info.Module(0); ok && end > start {
			kernelSyms, kernelSymsOK = elfsym.Open(mm.DirectMap(uint64(start)), end-start)
			crash.SetSymbols(kernelSyms, kernelSymsOK)
		}
	}
	cmdline := info.CommandLine()
	if v, _ := multiboot.Arg(cmdline, "trace"); v == "syscalls" {
		sys.SetTrace(true)
	}
	if v, _ := multiboot.Arg(cmdline, "ipcfast"); v == "off" {
		ipc.SetFastPath(false)
	}
	pcids := "off (the CPU has none)"
	if v, _ := multiboot.Arg(cmdline, "pcid"); v == "off" {
		pcids = "off (pcid=off)"
	} else if arch.CPUHasPCID() {
		arch.EnablePCID() // on the core's table (PCID 0), before any task's space is built
		mm.UsePCIDs()
		pcids = "on"
	}
	if v, ok := multiboot.Arg(cmdline, "timeslice"); ok {
		if ms := parseUint(v); ms > 0 && ms <= 1000 {
			sched.SetTimeSlice(int32(ms))
		}
	}
	if v, _ := multiboot.Arg(cmdline, "vga"); v != "off" {
		arch.InitScreen(mm.DirectMap(vga.TextPhys))
	}
	if v, _ := multiboot.Arg(cmdline, "crashdump"); v == "short" {
		console.SetShortDumps(true)
	}
	if v, ok := multiboot.Arg(cmdline, "crashscreen"); ok {
		arch.SetCrashScreenHold(int64(min(parseUint(v), 60_000)) * 1_000_000)
	}
	if !sched.InitIdle() {
		arch.Panic("cannot create the idle thread", 0)
	}
	t := setupCoreProcess(cmdline)
	arch.Puts("SimpleOS core: ")
	arch.PutDec(mm.Frames().Total * mm.PageSize >> 20)
	arch.Puts(" MiB usable, ")
	arch.PutDec(mm.Frames().Total - mm.Frames().Free)
	arch.Puts(" frames in use, TSC ")
	arch.PutDec(arch.TSCHz() / 1_000_000)
	arch.Puts(" MHz, tick 1 ms, time slice ")
	arch.PutDec(uint64(sched.Counters().TimeSlice))
	arch.Puts(" ms, symbols ")
	if kernelSymsOK {
		arch.PutDec(uint64(kernelSyms.Count()))
	} else {
		arch.Puts("none")
	}
	arch.Puts(", PCIDs ")
	arch.Puts(pcids)
	arch.Putc('\n')
	if arch.ScreenOn() {
		arch.Puts("SimpleOS core: the console is mirrored on the VGA text display\n")
	}
	arch.StartTimer(arch.TimerTicksPerTick())
	bootReadyNs = arch.SinceEntry()
	sched.Run(t)
}

//go:nosplit
func addExclusion(n int, start, end uint64) int {
	if uint(n) < uint(len(exclusions)) && end > start {
		exclusions[n] = multiboot.Range{Start: start &^ (mm.PageSize - 1), End: (end + mm.PageSize - 1) &^ (mm.PageSize - 1)}
		n++
	}
	return n
}

// collectExclusions lists what the frame allocator must not hand out: the first MiB, the
// core image, the Multiboot structures, the command line and every module.
//
//go:nosplit
func collectExclusions(info multiboot.Info, imgStart, imgEnd uintptr) int {
	n := addExclusion(0, 0, 1<<20)
	n = addExclusion(n, uint64(imgStart), uint64(imgEnd))
	n = addExclusion(n, uint64(bootInfoPhys), uint64(bootInfoPhys)+128)
	cmd := info.CommandLine()
	if len(cmd) > 0 {
		p := uint64(arch.StringAddr(cmd) - mm.DirectMapBase)
		n = addExclusion(n, p, p+uint64(len(cmd))+1)
	}
	if info.Flags()&(1<<3) != 0 {
		mods := uint64(arch.Load32(mm.DirectMap(uint64(bootInfoPhys)) + 24))
		n = addExclusion(n, mods, mods+uint64(info.ModuleCount())*16)
	}
	for i := 0; i < info.ModuleCount(); i++ {
		start, end, str, ok := info.Module(i)
		if !ok {
			continue
		}
		n = addExclusion(n, uint64(start), uint64(end))
		if len(str) > 0 {
			p := uint64(arch.StringAddr(str) - mm.DirectMapBase)
			n = addExclusion(n, p, p+uint64(len(str))+1)
		}
	}
	return n
}

// Auxiliary-vector keys.
const (
	atNull   = 0
	atPagesz = 6
	atHwcap  = 16
	atClktck = 17
	atRandom = 25
)

// setupCoreProcess creates task 0 (pid 1), the core's own Go runtime, and its first thread,
// which starts in the Go runtime's entry point with argv = the words of the kernel command line and environment =
// its words that look like NAME=value with an upper-case name.
//
//go:nosplit
func setupCoreProcess(cmdline string) int {
	core := task.InitCore()
	t, ok := sched.New(task.Core, mm.CoreSpace, 0, nil)
	if !ok {
		arch.Panic("cannot create the core's first thread", 0)
	}
	as := mm.Space(0)
	as.AddRegion(mm.UserStackTop-mm.UserStackSize, mm.UserStackTop, mm.ProtRead|mm.ProtWrite, mm.KindAnon)
	// The first stack page and the random words are had here, not in buildInitialStack: the
	// paths through the page allocator and the generator then run under this frame only,
	// which keeps the boot's nosplit chain within the linker's limit in a build with coverage
	// counters too.
	top := uintptr(mm.UserStackTop)
	page, ok := as.UserPage(top-mm.PageSize, true)
	if !ok {
		arch.Panic("cannot map the first stack page", uint64(top))
	}
	random := [2]uint64{core.RNG.Word(), core.RNG.Word()} // AT_RANDOM's bytes
	sp := buildInitialStack(page, cmdline, random)
	tf := sched.Frame(t)
	tf.RIP = uint64(runtimeEntry())
	tf.RSP = uint64(sp)
	tf.RFLAGS = x86.FlagIF | 2
	tf.CS = arch.SelKernelCode
	tf.SS = arch.SelKernelData
	sched.T(t).FSBase = bootFSBase()
	return t
}

//go:nosplit
func isEnvWord(w string) bool {
	if len(w) < 2 || w[0] < 'A' || w[0] > 'Z' {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] == '=' {
			return true
		}
	}
	return false
}

// buildInitialStack writes argc, argv, envp and auxv for the Go runtime into the top page of
// the main thread's stack and returns the initial stack pointer.
//
//go:nosplit
func buildInitialStack(page uintptr, cmdline string, randomWords [2]uint64) uintptr {
	const top = uintptr(mm.UserStackTop)
	// k(va) is the kernel address of va in the top stack page.
	base := page - (top - mm.PageSize)
	if len(cmdline) > 2048 {
		cmdline = cmdline[:2048]
	}
	argc, envc := 0, 0
	sp := top
	for i := 0; i < len(cmdline); {
		for i >= 0 && i < len(cmdline) && cmdline[i] == ' ' {
			i++
		}
		j := i
		for j >= 0 && j < len(cmdline) && cmdline[j] != ' ' {
			j++
		}
		if i >= 0 && j > i && j <= len(cmdline) && argc < len(bootArgv) && envc < len(bootEnvp) {
			w := cmdline[i:j]
			sp -= uintptr(len(w)) + 1
			arch.Memmove(base+sp, arch.StringAddr(w), uintptr(len(w)))
			arch.Store8(base+sp+uintptr(len(w)), 0)
			if isEnvWord(w) && argc > 0 {
				bootEnvp[envc&31] = uint64(sp)
				envc++
			} else {
				bootArgv[argc&31] = uint64(sp)
				argc++
			}
		}
		i = j
	}
	if argc == 0 {
		sp -= 9
		arch.Memmove(base+sp, arch.StringAddr("simpleos\x00"), 9)
		bootArgv[0] = uint64(sp)
		argc = 1
	}
	sp -= 16
	random := sp
	arch.Store64(base+random, randomWords[0])
	arch.Store64(base+random+8, randomWords[1])
	sp &^= 15
	words := 1 + argc + 1 + envc + 1 + 2*5
	if words%2 == 1 {
		sp -= 8
	}
	sp -= uintptr(words) * 8
	w := base + sp
	w = putWord(w, uint64(argc))
	for i := 0; i < argc; i++ {
		w = putWord(w, bootArgv[i&31])
	}
	w = putWord(w, 0)
	for i := 0; i < envc; i++ {
		w = putWord(w, bootEnvp[i&31])
	}
	w = putWord(w, 0)
	w = putWord(w, atPagesz)
	w = putWord(w, mm.PageSize)
	w = putWord(w, atClktck)
	w = putWord(w, 100)
	w = putWord(w, atHwcap)
	w = putWord(w, 0)
	w = putWord(w, atRandom)
	w = putWord(w, uint64(random))
	w = putWord(w, atNull)
	putWord(w, 0)
	return sp
}

//go:nosplit
func putWord(k uintptr, v uint64) uintptr {
	arch.Store64(k, v)
	return k + 8
}

//go:nosplit
func parseUint(s string) uint64 {
	var v uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		v = v*10 + uint64(s[i]-'0')
	}
	return v
}

// BootInfo describes how the machine came up.
type BootInfo struct {
	RuntimeEntryNs int64   // ns after the kernel's first 64-bit instruction when the Go runtime was entered
	EntryTSC       uint64  // TSC at the first 64-bit instruction
	Entry          uintptr // the Multiboot entry point
}

// Boot returns how the machine came up. (It also keeps the entry point linked: the image
// builder looks it up by name, and nothing else in Go refers to it.)
func Boot() BootInfo {
	return BootInfo{RuntimeEntryNs: bootReadyNs, EntryTSC: arch.EntryTSC(), Entry: multibootEntryAddr()}
}
