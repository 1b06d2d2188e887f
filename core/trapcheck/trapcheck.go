// Package trapcheck checks the rules of trap context on the built core: every function the
// kernel can run from a trap, an interrupt or a system call must be nosplit (no call to
// runtime.morestack: the stack it runs on is not the goroutine's), must not allocate
// (runtime.mallocgc and the helpers that call it), must not write heap pointers (no call to a
// write barrier) and must not reach a Go panic (runtime.panicBounds and friends: a bounds
// check that fails there has no goroutine to unwind).
//
// The check reads the core's ELF: it disassembles every function reachable from the trap
// entry points (handleTrap, the system-call handlers of the kernel's tables, boot and the
// idle loop) through direct calls and tail calls, and resolves the system-call tables'
// indirect calls from the tables' own contents in the binary. Any other indirect call in
// that code is a finding too, except the call of a registered interrupt handler, which
// kernel.RegisterHandler checks when it is registered.
package trapcheck

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"github.com/simpleos/simpleos/core/kernel/sys"
)

const (
	kernelPkg = "github.com/simpleos/simpleos/core/kernel."
	schedPkg  = "github.com/simpleos/simpleos/core/kernel/sched."
	sysPkg    = "github.com/simpleos/simpleos/core/kernel/sys."
)

// Config says where trap and boot context start and how the dispatchers dispatch.
type Config struct {
	Roots, BootRoots []string
	Tables           []Table
	Dispatchers      map[string]string // "tables": its indirect calls go through Tables; "handlers": to registered handlers
	HostOnly         []string          // functions that run only in a host test binary: not followed
}

// Core is the configuration of the SimpleOS core.
var Core = Config{Roots: Roots, BootRoots: BootRoots, Tables: Tables, Dispatchers: Dispatchers, HostOnly: HostOnly}

// Roots are the functions trap context starts in.
var Roots = []string{
	kernelPkg + "handleTrap",    // every trap and interrupt, and the core's own system calls (trap_amd64.s calls it indirectly)
	kernelPkg + "handleSyscall", // a task's system call (syscallEntry calls it indirectly)
	kernelPkg + "resumeTrap",    // a thread the IPC fastpath left waiting, running again (trapResume)
	schedPkg + "idleLoop",       // thread 0
}

// BootRoots are the functions boot context starts in: before the Go runtime exists, on the
// static boot stack, with a stand-in g whose stack guard is zero. A stack check there always
// passes, so a function may have one (the tamago drivers the boot uses do); it still must not
// allocate, write heap pointers or panic.
var BootRoots = []string{kernelPkg + "bootMain"}

// Table is a dispatch table in the binary: an array of Stride-byte entries with a func value
// at FnOffset in each (nil entries are skipped).
type Table struct {
	Symbol           string
	Stride, FnOffset uint64
}

// Tables are the kernel's dispatch tables, read from the binary to resolve the dispatchers'
// indirect calls: the system-call table (sys.Entry: {name string; handler; support; note})
// and the teardown hooks ({name string; fn}).
var Tables = []Table{
	{Symbol: sysPkg + "Table", Stride: sys.EntrySize, FnOffset: sys.HandlerOffset},
	{Symbol: kernelPkg + "teardown", Stride: 24, FnOffset: 16},
}

// Dispatchers are the functions whose indirect calls go through Tables (resolved), or to a
// registered interrupt handler (checked at registration).
var Dispatchers = map[string]string{
	sysPkg + "Dispatch":       "tables",
	sysPkg + "next":           "tables",
	sysPkg + "afterWait":      "tables",
	kernelPkg + "finishEnded": "tables",
	kernelPkg + "handleTrap":  "handlers",
}

// HostOnly are the functions the kernel calls only when it runs in a host's test binary
// (behind its packages' hosted flags, never set on the machine): there a thread switch is a
// goroutine handing over to another, and a halt is a Go panic.
var HostOnly = []string{
	schedPkg + "hostSwitch",
	"github.com/simpleos/simpleos/core/kernel/arch.hostHalt",
}

// forbidden names what a trap-context function must never call, by prefix.
var forbidden = []struct{ prefix, why string }{
	{"runtime.panic", "can panic (a failed check with no goroutine to unwind)"},
	{"runtime.goPanic", "can panic"},
	{"runtime.gopanic", "panics"},
	{"runtime.mallocgc", "allocates"},
	{"runtime.newobject", "allocates"},
	{"runtime.makeslice", "allocates"},
	{"runtime.growslice", "allocates"},
	{"runtime.convT", "allocates"},
	{"runtime.concatstring", "allocates"},
	{"runtime.gcWriteBarrier", "writes a heap pointer (a write barrier)"},
	{"runtime.wbBufFlush", "writes a heap pointer (a write barrier)"},
	{"runtime.typedmemmove", "copies heap pointers (a write barrier)"},
	{"runtime.deferproc", "defers"},
	{"runtime.throw", "throws (a fatal error of the Go runtime)"},
}

// Finding is one violation: Func calls Callee, reached from a root along Path.
type Finding struct {
	Func, Callee, Why string
	Path              []string // root first, Func last
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s (reached %s)", short(f.Func), f.Why, strings.Join(shortAll(f.Path), " -> "))
}

func short(s string) string { return strings.TrimPrefix(s, "github.com/simpleos/simpleos/") }

func shortAll(p []string) []string {
	out := make([]string, len(p))
	for i, s := range p {
		out[i] = short(s)
	}
	return out
}

// binary is the parts of the ELF the check reads.
type binaryFile struct {
	dispatchers map[string]string
	hostOnly    map[string]bool
	f           *elf.File
	funcs       []elf.Symbol // sorted by address
	byNm        map[string]elf.Symbol
	text        *elf.Section
	tdata       []byte
}

func open(path string) (*binaryFile, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b := &binaryFile{f: f, byNm: map[string]elf.Symbol{}}
	for _, s := range syms {
		b.byNm[s.Name] = s
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Size > 0 {
			b.funcs = append(b.funcs, s)
		}
	}
	sort.Slice(b.funcs, func(i, j int) bool { return b.funcs[i].Value < b.funcs[j].Value })
	if b.text = f.Section(".text"); b.text == nil {
		return nil, errors.New(path + ": no .text")
	}
	if b.tdata, err = b.text.Data(); err != nil {
		return nil, err
	}
	return b, nil
}

// funcAt returns the function containing pc.
func (b *binaryFile) funcAt(pc uint64) (elf.Symbol, bool) {
	i := sort.Search(len(b.funcs), func(i int) bool { return b.funcs[i].Value > pc }) - 1
	if i < 0 || pc >= b.funcs[i].Value+b.funcs[i].Size {
		return elf.Symbol{}, false
	}
	return b.funcs[i], true
}

// read returns n bytes at virtual address va of any allocated section.
func (b *binaryFile) read(va, n uint64) ([]byte, error) {
	for _, s := range b.f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && va >= s.Addr && va+n <= s.Addr+s.Size && s.Type != elf.SHT_NOBITS {
			d, err := s.Data()
			if err != nil {
				return nil, err
			}
			return d[va-s.Addr : va-s.Addr+n], nil
		}
	}
	return nil, fmt.Errorf("no section holds %#x", va)
}

// edges is what one function's code does: the functions it calls or jumps to, and whether it
// makes indirect calls.
type edges struct {
	callees  []uint64
	indirect int
}

func (b *binaryFile) scan(fn elf.Symbol) (edges, error) {
	var e edges
	off := fn.Value - b.text.Addr
	code := b.tdata[off : off+fn.Size]
	for pc := 0; pc < len(code); {
		in, err := x86asm.Decode(code[pc:], 64)
		if err != nil || in.Len == 0 {
			pc++ // padding (INT3) or data: step over it
			continue
		}
		next := fn.Value + uint64(pc) + uint64(in.Len)
		switch in.Op {
		case x86asm.CALL, x86asm.JMP:
			switch a := in.Args[0].(type) {
			case x86asm.Rel:
				target := uint64(int64(next) + int64(a))
				if in.Op == x86asm.JMP && target >= fn.Value && target < fn.Value+fn.Size {
					break // a jump inside the function
				}
				e.callees = append(e.callees, target)
			case x86asm.Reg, x86asm.Mem:
				if in.Op == x86asm.CALL {
					e.indirect++
				}
				// An indirect JMP is a switch's jump table, inside the function.
			}
		}
		pc += in.Len
	}
	return e, nil
}

// tableTargets reads the handler functions of a dispatch table.
func (b *binaryFile) tableTargets(t Table) ([]uint64, error) {
	name, entry := t.Symbol, t.Stride
	s, ok := b.byNm[name]
	if !ok {
		return nil, fmt.Errorf("no symbol %s", name)
	}
	if entry == 0 || t.FnOffset+8 > entry || s.Size%entry != 0 {
		return nil, fmt.Errorf("%s: %d bytes are not a table of %d-byte entries with a func at %d", name, s.Size, entry, t.FnOffset)
	}
	data, err := b.read(s.Value, s.Size)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for off := uint64(0); off+entry <= uint64(len(data)); off += entry {
		fv := binary.LittleEndian.Uint64(data[off+t.FnOffset:])
		if fv == 0 {
			continue
		}
		pc, err := b.read(fv, 8) // a func value points at a funcval whose first word is the code
		if err != nil {
			return nil, fmt.Errorf("%s: entry %d: %w", name, off/entry, err)
		}
		out = append(out, binary.LittleEndian.Uint64(pc))
	}
	return out, nil
}

// Check checks the ELF at path with configuration c and returns every finding.
func Check(path string, c Config) ([]Finding, error) {
	b, err := open(path)
	if err != nil {
		return nil, err
	}
	defer b.f.Close()
	b.dispatchers = c.Dispatchers
	b.hostOnly = map[string]bool{}
	for _, f := range c.HostOnly {
		if _, ok := b.byNm[f]; !ok {
			return nil, fmt.Errorf("%s: no function %s (a host-only function renamed?)", path, f)
		}
		b.hostOnly[f] = true
	}
	var tables []uint64
	for _, t := range c.Tables {
		ts, err := b.tableTargets(t)
		if err != nil {
			return nil, err
		}
		tables = append(tables, ts...)
	}
	trap, err := b.walk(path, c.Roots, tables, true)
	if err != nil {
		return nil, err
	}
	boot, err := b.walk(path, c.BootRoots, tables, false)
	if err != nil {
		return nil, err
	}
	findings := append(trap, boot...)
	sort.Slice(findings, func(i, j int) bool {
		if findings[i].Func != findings[j].Func {
			return findings[i].Func < findings[j].Func
		}
		return findings[i].Callee < findings[j].Callee
	})
	return dedup(findings), nil
}

// walk checks everything reachable from roots; strict (trap context) also forbids functions
// that can grow their stack.
func (b *binaryFile) walk(path string, roots []string, tables []uint64, strict bool) ([]Finding, error) {
	parent := map[string]string{}
	var queue []elf.Symbol
	for _, r := range roots {
		s, ok := b.byNm[r]
		if !ok {
			return nil, fmt.Errorf("%s: no function %s", path, r)
		}
		parent[s.Name] = ""
		queue = append(queue, s)
	}
	pathTo := func(name string) []string {
		var p []string
		for n := name; n != ""; n = parent[n] {
			p = append([]string{n}, p...)
		}
		return p
	}
	var findings []Finding
	seen := map[string]bool{}
	for len(queue) > 0 {
		fn := queue[0]
		queue = queue[1:]
		if seen[fn.Name] {
			continue
		}
		seen[fn.Name] = true
		if b.hostOnly[fn.Name] {
			continue
		}
		e, err := b.scan(fn)
		if err != nil {
			return nil, err
		}
		if strict && b.splittable(e) {
			// A function with a stack-growth prologue is itself the finding; what it calls
			// is beyond trap context already.
			findings = append(findings, Finding{fn.Name, "runtime.morestack", "is not nosplit: it can grow its stack, and trap context runs on a fixed one", pathTo(fn.Name)})
			continue
		}
		callees := e.callees
		switch b.dispatchers[fn.Name] {
		case "tables":
			callees = append(callees, tables...)
		case "handlers":
		default:
			if e.indirect > 0 {
				findings = append(findings, Finding{fn.Name, "", "makes an indirect call the check cannot follow", pathTo(fn.Name)})
			}
		}
		for _, pc := range callees {
			callee, ok := b.funcAt(pc)
			if !ok {
				continue // into assembly without a symbol size (the trampoline's data): not Go
			}
			if strings.HasPrefix(callee.Name, "runtime.morestack") {
				continue // boot context: a stack check that always passes
			}
			if why := forbiddenWhy(callee.Name); why != "" {
				findings = append(findings, Finding{fn.Name, callee.Name, "calls " + callee.Name + ", which " + why, pathTo(fn.Name)})
				continue
			}
			if _, ok := parent[callee.Name]; !ok {
				parent[callee.Name] = fn.Name
			}
			queue = append(queue, callee)
		}
	}
	return findings, nil
}

// splittable reports whether code calls runtime.morestack: a function without the nosplit
// mark, which checks and may grow its stack on entry.
func (b *binaryFile) splittable(e edges) bool {
	for _, pc := range e.callees {
		if f, ok := b.funcAt(pc); ok && strings.HasPrefix(f.Name, "runtime.morestack") {
			return true
		}
	}
	return false
}

func forbiddenWhy(name string) string {
	for _, f := range forbidden {
		if strings.HasPrefix(name, f.prefix) {
			return f.why
		}
	}
	return ""
}

func dedup(fs []Finding) []Finding {
	var out []Finding
	for i, f := range fs {
		if i > 0 && f.Func == fs[i-1].Func && f.Callee == fs[i-1].Callee {
			continue
		}
		out = append(out, f)
	}
	return out
}
