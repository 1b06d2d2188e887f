package kernel

// The task API for the core's supervisor (core/main.go, core/supervise.go): start a task,
// learn how tasks end, kill one, read its usage. Goroutine context, not trap context: it may
// allocate. It turns interrupts off around every change to kernel state, which the trap
// handlers share.

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/event"
	"github.com/simpleos/simpleos/core/kernel/files"
	"github.com/simpleos/simpleos/core/kernel/inject"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/mmio"
	"github.com/simpleos/simpleos/core/kernel/notify"
	"github.com/simpleos/simpleos/core/kernel/pcidev"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/snapshot"
	"github.com/simpleos/simpleos/core/kernel/task"
	"github.com/simpleos/simpleos/core/kernel/vfs"
	"github.com/simpleos/simpleos/core/multiboot"
)

// TaskSpec describes a task to start.
type TaskSpec struct {
	Name     string
	Ring     int      // 1, 2 or 3
	Image    []byte   // a static x86-64 ELF executable
	Args     []string // argv, argv[0] included
	Env      []string
	MemQuota uint64 // most bytes of memory it may hold (pages, page tables); 0 = DefaultMemQuota
	// MemReserve is the memory promised to it, which no other task can take: 0 = the smaller
	// of its quota and DefaultMemReserve. It is refused (ErrNoMemory) if the core cannot
	// promise that much.
	MemReserve uint64
	Ports      []uint16    // I/O ports the task may use
	Serves     []string    // endpoint names it may register
	Calls      []string    // endpoint names it may call
	IRQs       []int       // interrupt lines delivered to it as notification bits
	Memory     [][2]uint64 // device memory it may map: [lo, hi) physical ranges
	Events     []string    // events it may subscribe to
	Publish    []string    // events it may publish
	Content    []string    // content files it may read and write
	Filters    []EventFilter
	Device     *DeviceSpec // the PCI device it drives (ring 1), found at boot; nil: none
	// Files are the paths it may reach ("PATH" read-only, "PATH:rw"); Root is the directory
	// it sees as "/" and Cwd its working directory in that view ("": "/"). Package vfs.
	Files     []string
	Root, Cwd string
	// Snapshot asks the core to snapshot the task when it calls ready (package snapshot), so
	// that RestoreTask can restart it from there; SnapshotKey names what it is made of (its
	// binary, policy and content), and a snapshot of another key is never restored.
	Snapshot    bool
	SnapshotKey uint64
}

// DeviceSpec is a driver's PCI device as the core found it (package pcidev).
type DeviceSpec = pcidev.Spec

// EventFilter is a verified program for the event hook, for one event a module subscribes to.
type EventFilter = event.Filter

// Reason is why a task ended (task.Reason).
type Reason = task.Reason

// End reasons of a TaskEvent.
const (
	TaskExited   = task.Exited
	TaskFaulted  = task.Faulted
	TaskSignaled = task.Signaled
	TaskKilled   = task.Killed
)

// TaskEvent reports the end of a task.
type TaskEvent struct {
	PID        int
	Reason     Reason
	Code       int    // exit status, or signal number
	Vector     int    // exception vector for TaskFaulted, -1 otherwise
	Fault      string // exception name
	RIP, Addr  uint64
	Why        string        // what the kernel saw, beyond the reason
	Message    string        // the runtime's last words ("panic: ..."), if it printed them
	Function   string        // first user function of its goroutine trace, if it printed one
	At         time.Duration // since the kernel's clock calibration
	CPU        time.Duration
	Started    time.Duration
	Output     time.Duration // first output of this instance, 0 if none
	FramesFree uint64
}

// WhyMemoryQuota is TaskEvent.Why of a task that reached its memory quota.
const WhyMemoryQuota = "memory quota exceeded"

var causeText = [...]string{
	task.NoCause:        "",
	task.MemoryQuota:    WhyMemoryQuota,
	task.NoMemory:       "out of memory (beyond its reservation, nothing left it may take)",
	task.NoHandler:      "no handler for the fault",
	task.BySignal:       "killed by a signal",
	task.BadSignalFrame: "bad signal frame",
	task.BySupervisor:   "killed by the supervisor",
	task.BlockedDMA:     "its device's DMA was blocked by the IOMMU",
}

// Errors of StartTask when the kernel cannot take another task.
var (
	ErrNoSlot   = errors.New("kernel: every task slot is taken")
	ErrNoMemory = errors.New("kernel: not enough memory left to promise the task its reservation")
	ErrNoTables = errors.New("kernel: the thread, pipe, epoll or eventfd table cannot promise the task its minimum")
)

// Memory defaults for a task whose spec leaves them unset.
const (
	DefaultMemQuota   = 64 << 20
	DefaultMemReserve = 4 << 20 // promised to every task (its quota when smaller): a Go runtime runs in 2-3
)

// start lists what each service attaches to a task when it starts, in order (goroutine
// context, interrupts off); teardown (lifecycle.go) releases it.
var start = [...]struct {
	name string
	fn   func(t *task.Task, spec *TaskSpec) error
}{
	{"files", func(t *task.Task, _ *TaskSpec) error {
		if !files.Admit(t) {
			return ErrNoTables
		}
		return nil
	}},
	{"console", func(t *task.Task, _ *TaskSpec) error { console.AuditStart(t); return nil }},
	{"notify", func(t *task.Task, _ *TaskSpec) error { notify.Route(t); return nil }},
	{"event", func(t *task.Task, spec *TaskSpec) error { return event.Attach(t, spec.Filters) }},
	{"mmio", func(t *task.Task, _ *TaskSpec) error { mmio.Attach(t); return nil }},
	{"inject", func(t *task.Task, _ *TaskSpec) error { inject.Attach(t); return nil }},
	{"snapshot", func(t *task.Task, spec *TaskSpec) error {
		snapshot.Want(t, spec.Snapshot, spec.SnapshotKey)
		return nil
	}},
	{"device", func(t *task.Task, spec *TaskSpec) error {
		if spec.Device == nil {
			return nil
		}
		if ok, why := pcidev.Attach(t, spec.Device, notify.FreeMSILine()); !ok {
			return fmt.Errorf("device %s: %s", pcidev.SourceString(spec.Device.Source), why)
		}
		return nil
	}},
}

// StartTask loads spec.Image into a new address space and starts its first thread on
// spec.Ring. It returns the task's pid.
func StartTask(spec TaskSpec) (int, error) {
	if spec.Ring < 1 || spec.Ring > 3 {
		return 0, fmt.Errorf("task %s: ring %d: want 1, 2 or 3", spec.Name, spec.Ring)
	}
	img, err := parseImage(&spec)
	if err != nil {
		return 0, err
	}
	for _, r := range spec.Memory {
		if IsRAM(r[0], r[1]) {
			return 0, fmt.Errorf("task %s: memory %#x-%#x is RAM, not device memory", spec.Name, r[0], r[1]-1)
		}
	}
	stack, sp, random := initialStack(spec, img.file, img.phdr)
	interruptsOff()
	defer interruptsOn()
	t, err := admit(&spec)
	if err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint64(stack[random:], t.RNG.Word()) // AT_RANDOM: the task's own
	binary.LittleEndian.PutUint64(stack[random+8:], t.RNG.Word())
	if err := load(t, &spec, img, stack, sp); err != nil {
		discard(t)
		return 0, fmt.Errorf("task %s: %w", spec.Name, err)
	}
	return int(t.PID()), nil
}

// image is a checked ELF executable: its loadable segments and where its program headers are.
type image struct {
	file  *elf.File
	loads []*elf.Prog
	phdr  uint64
}

// parseImage checks that spec.Image is a static x86-64 executable whose segments lie in the
// task's half of memory and whose entry point is in an executable segment.
func parseImage(spec *TaskSpec) (image, error) {
	f, err := elf.NewFile(bytes.NewReader(spec.Image))
	if err != nil {
		return image{}, fmt.Errorf("task %s: not an ELF file: %v", spec.Name, err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		return image{}, fmt.Errorf("task %s: not a static x86-64 executable (%v %v %v)", spec.Name, f.Class, f.Machine, f.Type)
	}
	img := image{file: f}
	entryOK := false
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			return image{}, fmt.Errorf("task %s: dynamically linked; build it with CGO_ENABLED=0", spec.Name)
		case elf.PT_LOAD:
			if p.Vaddr < 0x10000 || p.Vaddr+p.Memsz > mm.MMapTop || p.Vaddr+p.Memsz < p.Vaddr || p.Filesz > p.Memsz ||
				p.Off+p.Filesz > uint64(len(spec.Image)) {
				return image{}, fmt.Errorf("task %s: segment at %#x+%#x is outside the task's half of memory or the file", spec.Name, p.Vaddr, p.Memsz)
			}
			if p.Off == 0 {
				img.phdr = p.Vaddr + binary.LittleEndian.Uint64(spec.Image[0x20:])
			}
			if p.Flags&elf.PF_X != 0 && f.Entry >= p.Vaddr && f.Entry < p.Vaddr+p.Memsz {
				entryOK = true
			}
			img.loads = append(img.loads, p)
		}
	}
	if len(img.loads) == 0 {
		return image{}, fmt.Errorf("task %s: no loadable segment", spec.Name)
	}
	if !entryOK {
		return image{}, fmt.Errorf("task %s: entry point %#x is not in an executable segment", spec.Name, f.Entry)
	}
	return img, nil
}

// admit makes the task of spec: a slot, its reservations and address space (task.New), its
// grants, and every service's per-task state (the start hooks). Interrupts are off.
func admit(spec *TaskSpec) (*task.Task, error) {
	quota, reserve := spec.MemQuota, spec.MemReserve
	if quota == 0 {
		quota = DefaultMemQuota
	}
	if reserve == 0 {
		reserve = min(quota, DefaultMemReserve)
	}
	if reserve > quota {
		return nil, fmt.Errorf("task %s: memory reservation %d above its quota %d", spec.Name, reserve, quota)
	}
	t, why := task.New(spec.Ring, spec.Name, (reserve+mm.PageSize-1)/mm.PageSize, (quota+mm.PageSize-1)/mm.PageSize)
	switch why {
	case task.NewNoSlot:
		return nil, ErrNoSlot
	case task.NewNoMemory:
		return nil, fmt.Errorf("task %s: %w (%d MiB; %d MiB can still be promised)", spec.Name, ErrNoMemory, reserve>>20, mm.FramePool.Headroom()*mm.PageSize>>20)
	case task.NewNoTables:
		return nil, fmt.Errorf("task %s: %w", spec.Name, ErrNoTables)
	}
	grant(t, spec)
	for _, s := range start {
		if err := s.fn(t, spec); err != nil {
			discard(t)
			return nil, fmt.Errorf("task %s: %w", spec.Name, err)
		}
	}
	return t, nil
}

// discard undoes a task StartTask could not finish making: the teardown hooks release what
// was attached, and no end is queued for the supervisor (the task never ran).
func discard(t *task.Task) {
	for i := range teardown {
		teardown[i].end(t)
	}
}

// load maps the image's segments and the initial stack into t's space, opens its ports and
// starts its first thread.
func load(t *task.Task, spec *TaskSpec, img image, stack []byte, sp uintptr) error {
	as := t.Space()
	for _, l := range img.loads {
		prot := uint32(0)
		if l.Flags&elf.PF_R != 0 {
			prot |= mm.ProtRead
		}
		if l.Flags&elf.PF_W != 0 {
			prot |= mm.ProtWrite | mm.ProtRead
		}
		if l.Flags&elf.PF_X != 0 {
			prot |= mm.ProtExec | mm.ProtRead
		}
		var data uintptr
		if l.Filesz > 0 {
			data = uintptr(unsafe.Pointer(&spec.Image[l.Off]))
		}
		if !as.LoadSegment(uintptr(l.Vaddr), uintptr(l.Memsz), prot, data, uintptr(l.Filesz)) {
			return errors.New("out of memory loading its segments")
		}
	}
	if !as.AddRegion(mm.UserStackTop-mm.UserStackSize, mm.UserStackTop, mm.ProtRead|mm.ProtWrite, mm.KindAnon) ||
		!as.CopyOut(sp, uintptr(unsafe.Pointer(&stack[0])), uintptr(len(stack))) {
		return errors.New("out of memory building its stack")
	}
	for _, port := range spec.Ports {
		as.TSS().AllowPort(port)
	}
	if t.StartThread(img.file.Entry, uint64(sp)) == 0 {
		return errors.New("no thread slot")
	}
	return nil
}

// grant gives t the grants of its spec (its policy module).
func grant(t *task.Task, spec *TaskSpec) {
	g := &t.Grants
	g.Serves.Set(spec.Serves)
	g.Calls.Set(spec.Calls)
	g.Listen.Set(spec.Events)
	g.Publish.Set(spec.Publish)
	g.Content.Set(spec.Content)
	if !vfs.Setup(t, spec.Root, spec.Cwd, spec.Files) {
		fmt.Printf("kernel: %s: its files grants, root or cwd are not usable paths: it reaches no files\n", spec.Name)
		vfs.Setup(t, "", "", nil)
	}
	for _, irq := range spec.IRQs {
		if irq >= 0 && irq < task.IOAPICLines {
			g.IRQs |= 1 << irq
		}
	}
	for _, r := range spec.Memory {
		if g.NMMIO < task.MaxMMIO && r[1] > r[0] {
			g.MMIO[g.NMMIO] = r
			g.NMMIO++
		}
	}
}

// initialStack lays out argc, argv, envp and the auxiliary vector as Linux does, for the top
// of the task's stack; it returns the bytes, the stack pointer they start at and the offset
// of the 16 AT_RANDOM bytes in them (filled in once the task has its generator).
func initialStack(spec TaskSpec, f *elf.File, phdr uint64) ([]byte, uintptr, int) {
	var strs bytes.Buffer
	var strOff []int
	for _, s := range append(append([]string{}, spec.Args...), spec.Env...) {
		strOff = append(strOff, strs.Len())
		strs.WriteString(s)
		strs.WriteByte(0)
	}
	random := strs.Len()
	strs.Write(make([]byte, 16))
	auxv := []uint64{
		6, mm.PageSize, // AT_PAGESZ
		17, 100, // AT_CLKTCK
		16, 0, // AT_HWCAP
		3, phdr, // AT_PHDR
		4, 56, // AT_PHENT
		5, uint64(len(f.Progs)), // AT_PHNUM
		9, f.Entry, // AT_ENTRY
		11, 0, 12, 0, 13, 0, 14, 0, // AT_UID, EUID, GID, EGID
		23, 0, // AT_SECURE
		25, 0, // AT_RANDOM (patched below)
		0, 0, // AT_NULL
	}
	words := 1 + len(spec.Args) + 1 + len(spec.Env) + 1 + len(auxv)
	strBytes := (strs.Len() + 15) &^ 15
	total := (words*8 + 15) &^ 15
	top := uintptr(mm.UserStackTop)
	sp := top - uintptr(strBytes) - uintptr(total)
	strBase := top - uintptr(strBytes)
	buf := make([]byte, int(top-sp))
	copy(buf[total:], strs.Bytes())
	w := 0
	put := func(v uint64) { binary.LittleEndian.PutUint64(buf[w:], v); w += 8 }
	put(uint64(len(spec.Args)))
	for i := range spec.Args {
		put(uint64(strBase) + uint64(strOff[i]))
	}
	put(0)
	for i := range spec.Env {
		put(uint64(strBase) + uint64(strOff[len(spec.Args)+i]))
	}
	put(0)
	auxv[len(auxv)-3] = uint64(strBase) + uint64(random)
	for _, v := range auxv {
		put(v)
	}
	return buf, sp, total + random
}

// WaitTaskEvent blocks until a task ends and returns what happened.
func WaitTaskEvent() TaskEvent {
	e, _ := WaitTaskEventUntil(0)
	return e
}

// WaitTaskEventUntil is WaitTaskEvent with a deadline on the kernel clock (0 = none): ok is
// false when it passes first. The kernel's timer wakes the caller on time — a goroutine's
// sleep would wait for the core's P, which this wait holds.
func WaitTaskEventUntil(deadline time.Duration) (TaskEvent, bool) {
	for {
		interruptsOff()
		if e, ok := task.NextEnd(); ok {
			interruptsOn()
			pokeReaper()
			return export(&e), true
		}
		interruptsOn()
		if deadline != 0 && time.Duration(arch.Nanotime()) >= deadline {
			return TaskEvent{}, false
		}
		waitEvent(abi.WaitTaskEnded, deadline)
	}
}

// waitEvent blocks the calling goroutine's thread in the kernel until an event of kind comes.
// It lets every runnable goroutine run first: the core runs on one P, and a goroutine blocked
// in a system call keeps it until the runtime's sysmon takes it back (1.5-3 ms on TCG) — the
// goroutines this one just woke (the injection runner told of an end) would wait that long.
func waitEvent(kind uintptr, deadline time.Duration) {
	runtime.Gosched()
	syscall.Syscall(abi.SysWaitEvent, kind, uintptr(deadline), 0)
}

// ExpectFileServer says the system runs a file-system server: while it restarts, file calls
// on paths fail with EIO, not ENOENT.
func ExpectFileServer() { vfs.ExpectServer() }

// reap asks the reaper to close the files ended tasks left open.
var reap = make(chan struct{}, 1)

func pokeReaper() {
	select {
	case reap <- struct{}{}:
	default:
	}
}

// StartReaper starts the goroutine that closes, at the file-system server, the files of tasks
// that ended with them open (vfs.Reap): a task's teardown cannot wait for the server, and the
// supervisor must not either (the server may be the task that hangs).
func StartReaper() {
	go func() {
		for range reap {
			for {
				r, _, _ := syscall.Syscall(abi.SysFilesReap, 0, 0, 0)
				if int64(r) <= 0 {
					break
				}
			}
		}
	}()
}

func export(e *task.End) TaskEvent {
	ev := TaskEvent{
		PID: int(e.PID), Reason: e.Reason, Code: int(e.Code), Vector: -1,
		RIP: e.RIP, Addr: e.Addr, Message: string(e.Msg[:e.MsgLen]), Function: string(e.Fn[:e.FnLen]),
		At: time.Duration(e.TimeNs), CPU: time.Duration(e.CPUNs), Started: time.Duration(e.StartNs),
		FramesFree: e.FramesFree,
	}
	if e.OutputNs != 0 {
		ev.Output = time.Duration(e.OutputNs)
	}
	if int(e.Cause) < len(causeText) {
		ev.Why = causeText[e.Cause]
	}
	if e.Vector != task.NoVector {
		ev.Vector = int(e.Vector)
		ev.Fault = arch.ExceptionName(e.Vector)
	}
	return ev
}

// KillTask ends task pid (the watchdog's and the operator's way out).
func KillTask(pid int) bool {
	interruptsOff()
	defer interruptsOn()
	i := task.ByPID(pid)
	if i < 0 {
		return false
	}
	task.Get(i).MarkEnding(task.Killed, task.BySupervisor, 0, task.NoVector, 0, 0)
	finishEnded()
	return true
}

// TaskUsage is what the watchdog reads about a running task.
type TaskUsage struct {
	CPU           time.Duration
	Spin          time.Duration // CPU its threads ran without a system call (SampleSpin)
	LastHeartbeat time.Duration // 0 if it never sent one
	Resident      uint64        // bytes of user pages
	Charged       uint64        // bytes charged to its quota: user pages, page tables, entry area
	Threads       int
	Started       time.Duration // when this instance started, on the kernel clock
	Inherited     time.Duration // a restored instance's age at its snapshot (0: a cold start)
}

// Usage returns task pid's usage; ok=false if it is not running.
func Usage(pid int) (TaskUsage, bool) {
	interruptsOff()
	defer interruptsOn()
	i := task.ByPID(pid)
	if i < 0 {
		return TaskUsage{}, false
	}
	t := task.Get(i)
	return TaskUsage{
		CPU:           time.Duration(t.CPU()),
		Spin:          time.Duration(t.SpinNs),
		LastHeartbeat: time.Duration(t.LastBeat),
		Resident:      t.Space().Resident() * mm.PageSize,
		Charged:       uint64(t.Space().Mem().Held()) * mm.PageSize,
		Threads:       sched.LiveOf(int32(i)),
		Started:       time.Duration(t.StartNs),
		Inherited:     time.Duration(t.InheritedNs),
	}, true
}

// Module is a Multiboot module: a program or file passed at boot.
type Module struct {
	Cmdline string
	Data    []byte // the module's memory, read-only by convention
}

// Modules returns the Multiboot modules, module 0 (the core's own ELF) included.
func Modules() []Module {
	info, ok := multiboot.Load(bootMagic, uintptr(bootInfoPhys), mm.DirectMapBase)
	if !ok {
		return nil
	}
	var mods []Module
	for i := 0; i < info.ModuleCount(); i++ {
		start, end, cmd, ok := info.Module(i)
		if !ok {
			continue
		}
		mods = append(mods, Module{
			Cmdline: string([]byte(cmd)),
			Data:    unsafe.Slice((*byte)(unsafe.Pointer(mm.DirectMap(uint64(start)))), end-start),
		})
	}
	return mods
}

// IsRAM reports whether the physical range [lo, hi) overlaps memory the firmware reports as
// RAM: such a range is never device memory, and granting it to a driver would hand it the
// kernel's and other tasks' frames.
func IsRAM(lo, hi uint64) bool {
	info, ok := multiboot.Load(bootMagic, uintptr(bootInfoPhys), mm.DirectMapBase)
	if !ok {
		return true // no memory map: trust nothing
	}
	for i := 0; i < info.MemoryMapCount(); i++ {
		base, length, typ, ok := info.MemoryRegion(i)
		if ok && typ == 1 && lo < base+length && base < hi {
			return true
		}
	}
	return false
}
