package boot

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/shlex"

	"github.com/simpleos/simpleos/core/appspec"
)

// DefaultAppRing is the privilege ring of an app without "ring=N".
const DefaultAppRing = 3

// MaxApps is how many apps one boot can carry: the core reads at most 64 Multiboot modules and
// module 0 is the kernel's own ELF.
const MaxApps = 63

// The user part of the address space: the kernel owns everything below AppMinAddr and from
// AppMaxAddr up, so an app's PT_LOAD segments must lie in [AppMinAddr, AppMaxAddr).
const (
	AppMinAddr = 0x10000
	AppMaxAddr = 0x7f0000000000
)

// AppSpec is one program to run as a task (one `simpleos run --app` value).
type AppSpec struct {
	Ring int      // 1, 2 or 3
	Path string   // host path of the static ELF
	Name string   // task name: base name of Path, made unique by NameApps (e.g. hello, hello-2)
	Args []string // argv[1:]
}

// ParseAppSpec parses one --app value: "[ring=N] PATH [ARGS...]", split into words as a POSIX
// shell would (quotes, backslashes; a word starting with '#' begins a comment). N is 1, 2 or 3
// (default 3). The Name is left empty: NameApps assigns it.
func ParseAppSpec(s string) (AppSpec, error) {
	bad := func(format string, args ...any) (AppSpec, error) {
		return AppSpec{}, fmt.Errorf("--app %q: %s", s, fmt.Sprintf(format, args...))
	}
	if !utf8.ValidString(s) {
		return bad("not valid UTF-8")
	}
	words, err := shlex.Split(s)
	if err != nil {
		return bad("%v", err)
	}
	a := AppSpec{Ring: DefaultAppRing}
	if len(words) > 0 {
		if v, ok := strings.CutPrefix(words[0], "ring="); ok {
			switch v {
			case "1", "2", "3":
				a.Ring, _ = strconv.Atoi(v)
			default:
				return bad("ring must be 1, 2 or 3, got %q", words[0])
			}
			words = words[1:]
		}
	}
	if len(words) == 0 {
		return bad("no program path (want \"[ring=1|2|3] PATH [ARGS...]\")")
	}
	if err := checkAppPath(words[0]); err != nil {
		return bad("%v", err)
	}
	a.Path = words[0]
	for _, arg := range words[1:] {
		if strings.IndexByte(arg, 0) >= 0 {
			return bad("argument %q contains a NUL byte", arg)
		}
	}
	if len(words) > 1 {
		a.Args = words[1:]
	}
	return a, nil
}

// checkAppPath rejects paths QEMU cannot pass as a module.
func checkAppPath(path string) error {
	switch {
	case path == "":
		return errors.New("empty program path")
	case strings.IndexByte(path, 0) >= 0:
		return fmt.Errorf("program path %q contains a NUL byte", path)
	case strings.Contains(path, " "):
		return fmt.Errorf("program path %q contains a space: QEMU cannot pass it as a module; use a path without spaces (e.g. a relative one or a symlink)", path)
	}
	return nil
}

// CheckAppBinary verifies that path is a static x86-64 ELF executable the core can load:
// ELF64 little-endian, EM_X86_64, ET_EXEC, no PT_INTERP, at least one PT_LOAD, every PT_LOAD
// inside [AppMinAddr, AppMaxAddr) and backed by the file, and the entry point in an executable
// PT_LOAD. Errors name the file and the problem.
func CheckAppBinary(path string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("app %s: %s", path, fmt.Sprintf(format, args...))
	}
	if err := checkAppPath(path); err != nil {
		return bad("%v", err)
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return bad("no such file")
	case err != nil:
		return bad("%v", unwrapPath(err))
	case st.IsDir():
		return bad("is a directory, not an ELF executable")
	case !st.Mode().IsRegular():
		return bad("not a regular file")
	}
	if ok, err := hasELFMagic(path); err != nil {
		return bad("%v", unwrapPath(err))
	} else if !ok {
		return bad("not an ELF executable (no ELF magic number; is it a script or a text file?)")
	}
	f, err := elf.Open(path)
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.As(err, &pe):
			return bad("%v", pe.Err)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return bad("not an ELF executable (file too short)")
		}
		return bad("not an ELF executable (%v)", err)
	}
	defer f.Close()

	switch {
	case f.Class != elf.ELFCLASS64:
		return bad("%v: want a 64-bit (ELFCLASS64) x86-64 executable (GOARCH=amd64)", f.Class)
	case f.Data != elf.ELFDATA2LSB:
		return bad("%v: want little-endian", f.Data)
	case f.Machine != elf.EM_X86_64:
		return bad("built for %v: want EM_X86_64 (GOARCH=amd64)", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp := "an interpreter"
			if b, err := readInterp(p); err == nil && b != "" {
				interp = b
			}
			return bad("dynamically linked (needs %s); SimpleOS runs only static executables: build it with CGO_ENABLED=0", interp)
		}
	}
	if f.Type != elf.ET_EXEC {
		if f.Type == elf.ET_DYN {
			return bad("position-independent (ET_DYN): link it at a fixed address (ET_EXEC; e.g. go build without -buildmode=pie, or gcc -static -no-pie)")
		}
		return bad("%v: want an executable (ET_EXEC)", f.Type)
	}
	loads, entryOK := 0, false
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		loads++
		end := p.Vaddr + p.Memsz
		switch {
		case p.Vaddr < AppMinAddr:
			return bad("PT_LOAD segment at %#x is below %#x (the kernel owns low memory)", p.Vaddr, AppMinAddr)
		case end < p.Vaddr || end > AppMaxAddr:
			return bad("PT_LOAD segment [%#x, %#x) reaches %#x or above (the kernel owns that range)", p.Vaddr, end, uint64(AppMaxAddr))
		case p.Filesz > p.Memsz:
			return bad("PT_LOAD segment at %#x has a file size (%#x) larger than its memory size (%#x)", p.Vaddr, p.Filesz, p.Memsz)
		case p.Off+p.Filesz < p.Off || p.Off+p.Filesz > uint64(st.Size()):
			return bad("PT_LOAD segment at %#x extends past the end of the file (truncated?)", p.Vaddr)
		}
		if p.Flags&elf.PF_X != 0 && f.Entry >= p.Vaddr && f.Entry < end {
			entryOK = true
		}
	}
	switch {
	case loads == 0:
		return bad("no PT_LOAD segment: nothing to load")
	case !entryOK:
		return bad("entry point %#x is not in an executable PT_LOAD segment", f.Entry)
	}
	return nil
}

// hasELFMagic reports whether the file starts with "\x7fELF".
func hasELFMagic(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return false, nil
		}
		return false, err
	}
	return string(magic[:]) == elf.ELFMAG, nil
}

// readInterp returns the PT_INTERP path, for the error message.
func readInterp(p *elf.Prog) (string, error) {
	if p.Filesz > 4096 {
		return "", errors.New("interpreter path too long")
	}
	b := make([]byte, p.Filesz)
	if _, err := p.ReadAt(b, 0); err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\x00"), nil
}

// unwrapPath drops the *fs.PathError wrapper, whose path the caller already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// NameApps assigns each spec a unique task name: the base name of its Path with characters
// outside [A-Za-z0-9._-] replaced by '_', at most 32 bytes. The first program with a given base
// name keeps it; later ones get -2, -3, ... (shortening the base so the name stays within 32
// bytes), skipping any name another program already has.
func NameApps(specs []AppSpec) {
	bases := make([]string, len(specs))
	used := make(map[string]bool, len(specs))
	for i := range specs {
		bases[i] = baseName(specs[i].Path)
	}
	// First pass: the first holder of each base name keeps it.
	first := make([]bool, len(specs))
	for i, b := range bases {
		if !used[b] {
			used[b] = true
			first[i] = true
		}
	}
	for i := range specs {
		if first[i] {
			specs[i].Name = bases[i]
			continue
		}
		for k := 2; ; k++ {
			suffix := "-" + strconv.Itoa(k)
			base := bases[i]
			if len(base)+len(suffix) > appspec.MaxNameLen {
				base = base[:appspec.MaxNameLen-len(suffix)]
			}
			if name := base + suffix; !used[name] {
				used[name] = true
				specs[i].Name = name
				break
			}
		}
	}
}

// baseName is the sanitised base name of path ("app" when there is none).
func baseName(path string) string {
	b := filepath.Base(path)
	if b == "." || b == ".." || b == string(filepath.Separator) {
		return "app"
	}
	name := []byte(b)
	for i, c := range name {
		if !appspec.NameByte(c) {
			name[i] = '_'
		}
	}
	if len(name) > appspec.MaxNameLen {
		name = name[:appspec.MaxNameLen]
	}
	return string(name)
}

// Module returns the Multiboot module string for the app, to be passed in Options.Modules:
// "PATH simpleos-app ring=N name=NAME -- ARG0 ARG1 ..." (see package core/appspec, which parses
// it in the core). Name must be set (NameApps).
func (a AppSpec) Module() string {
	return appspec.Format(a.Path, appspec.Spec{Ring: a.Ring, Name: a.Name, Args: a.Args})
}

// ParseAppModule is the inverse of Module: it returns ok=false for modules that are not apps
// (such as the kernel's ELF) and for malformed ones.
func ParseAppModule(module string) (AppSpec, bool) {
	s, ok := appspec.Parse(module)
	if !ok {
		return AppSpec{}, false
	}
	path, _, _ := strings.Cut(strings.TrimLeft(module, " "), " ")
	return AppSpec{Ring: s.Ring, Path: path, Name: s.Name, Args: s.Args}, true
}

// AppModules checks the apps (already parsed and named) as a set and returns their module
// strings: at most MaxApps, valid names, and each string short enough for the core to read
// whole.
func AppModules(specs []AppSpec) ([]string, error) {
	if len(specs) > MaxApps {
		return nil, fmt.Errorf("%d apps: the core takes at most %d", len(specs), MaxApps)
	}
	mods := make([]string, len(specs))
	for i, a := range specs {
		if !appspec.ValidName(a.Name) {
			return nil, fmt.Errorf("app %s: invalid task name %q", a.Path, a.Name)
		}
		if a.Ring < 1 || a.Ring > 3 {
			return nil, fmt.Errorf("app %s: ring must be 1, 2 or 3, got %d", a.Path, a.Ring)
		}
		m := a.Module()
		if len(m) > appspec.MaxLen {
			return nil, fmt.Errorf("app %s: command line too long (%d bytes encoded, limit %d)", a.Path, len(m), appspec.MaxLen)
		}
		mods[i] = m
	}
	return mods, nil
}
