package boot

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/core/appspec"
)

func TestParseAppSpecGood(t *testing.T) {
	for _, c := range []struct {
		in   string
		want AppSpec
	}{
		{"build/apps/hello", AppSpec{Ring: 3, Path: "build/apps/hello"}},
		{"  build/apps/hello  ", AppSpec{Ring: 3, Path: "build/apps/hello"}},
		{"ring=1 hello", AppSpec{Ring: 1, Path: "hello"}},
		{"ring=2 build/apps/hello a b", AppSpec{Ring: 2, Path: "build/apps/hello", Args: []string{"a", "b"}}},
		{"ring=3 hello x", AppSpec{Ring: 3, Path: "hello", Args: []string{"x"}}},
		{`hello "two words" 'single $quoted' plain`, AppSpec{Ring: 3, Path: "hello", Args: []string{"two words", "single $quoted", "plain"}}},
		{`hello escaped\ space a\\b \"q\"`, AppSpec{Ring: 3, Path: "hello", Args: []string{"escaped space", `a\b`, `"q"`}}},
		{`hello "" ''`, AppSpec{Ring: 3, Path: "hello", Args: []string{"", ""}}},
		{"hello a,b 100% héllo", AppSpec{Ring: 3, Path: "hello", Args: []string{"a,b", "100%", "héllo"}}},
		{"hello ring=1", AppSpec{Ring: 3, Path: "hello", Args: []string{"ring=1"}}}, // only the first word
		{"hello\targ\nnext", AppSpec{Ring: 3, Path: "hello", Args: []string{"arg", "next"}}},
		{"hello a # comment", AppSpec{Ring: 3, Path: "hello", Args: []string{"a"}}},
	} {
		got, err := ParseAppSpec(c.in)
		if assert.NoError(t, err, "%q", c.in) {
			assert.Equal(t, c.want, got, "%q", c.in)
		}
	}
}

func TestParseAppSpecBad(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "no program path"},
		{"   ", "no program path"},
		{"ring=2", "no program path"},
		{"ring=", `ring must be 1, 2 or 3, got "ring="`},
		{"ring= hello", `ring must be 1, 2 or 3, got "ring="`},
		{"ring=0 hello", `got "ring=0"`},
		{"ring=4 hello", `got "ring=4"`},
		{"ring=x hello", `got "ring=x"`},
		{"ring=03 hello", `got "ring=03"`},
		{"ring=+3 hello", `got "ring=+3"`},
		{`hello "unbalanced`, "closing quote"},
		{`hello 'unbalanced`, "closing quote"},
		{`hello trailing\`, "escape"},
		{`"my apps/hello" a`, "contains a space"},
		{`my\ apps/hello`, "contains a space"},
		{`"" a`, "empty program path"},
		{"hello \xff", "UTF-8"},
	} {
		_, err := ParseAppSpec(c.in)
		if assert.Error(t, err, "%q", c.in) {
			assert.Contains(t, err.Error(), c.want, "%q", c.in)
			assert.Contains(t, err.Error(), "--app", "%q", c.in)
		}
	}
}

func TestAppModuleFormat(t *testing.T) {
	a := AppSpec{Ring: 2, Path: "build/apps/hello", Name: "hello", Args: []string{"a b", "c,d", "50%", "", "é", "\t"}}
	assert.Equal(t, "build/apps/hello simpleos-app ring=2 name=hello -- hello a%20b c%2Cd 50%25 % %C3%A9 %09", a.Module())
	assert.Equal(t, "hello simpleos-app ring=3 name=hello -- hello", AppSpec{Ring: 3, Path: "hello", Name: "hello"}.Module())
}

func TestAppModuleRoundTrip(t *testing.T) {
	for _, a := range []AppSpec{
		{Ring: 3, Path: "build/apps/hello", Name: "hello"},
		{Ring: 1, Path: "/abs/path/spin", Name: "spin-2", Args: []string{"x"}},
		{Ring: 2, Path: "p,with,commas", Name: "p_with_commas", Args: []string{
			"with space", "comma,separated", ",", "100%", "%", "%%", "%41", "", "", "unicode: héllo 世界 🙂",
			"tab\tnew\nline\r\x00nul\x7fdel", "--", "name=x", "ring=1", "simpleos-app", `quote"s'`, "\xff\xfe",
		}},
		{Ring: 3, Path: "a", Name: "A.b_c-d.012345678901234567890123", Args: []string{""}},
	} {
		m := a.Module()
		for _, b := range []byte(m[len(a.Path):]) {
			assert.False(t, b == ',' || b < ' ' || b >= 0x7f, "%q has a raw %q", m, b)
		}
		got, ok := ParseAppModule(m)
		if assert.True(t, ok, "%q", m) {
			assert.Equal(t, a, got, "%q", m)
		}
		s, ok := appspec.Parse(m)
		require.True(t, ok, "%q", m)
		assert.Equal(t, appspec.Spec{Ring: a.Ring, Name: a.Name, Args: a.Args}, s)
		assert.Equal(t, append([]string{a.Name}, a.Args...), s.Argv())
		assert.Equal(t, m, appspec.Format(a.Path, s), "canonical")
	}
}

func TestParseAppModuleRejects(t *testing.T) {
	for _, m := range []string{
		"",
		"build/simpleos.elf", // the kernel's own ELF
		"build/simpleos.elf symbols",
		"x simpleos-app",
		"x simpleos-app ring=3 name=x --",            // no ARG0
		"x simpleos-app ring=3 name=x -- y",          // ARG0 is not the name
		"x simpleos-app ring=4 name=x -- x",          // bad ring
		"x simpleos-app ring=0 name=x -- x",          // bad ring
		"x simpleos-app ring= name=x -- x",           // bad ring
		"x simpleos-app name=x ring=3 -- x",          // wrong order
		"x simpleos-app ring=3 name= -- ",            // empty name
		"x simpleos-app ring=3 name=a/b -- a/b",      // bad name
		"x simpleos-app ring=3 name=x x",             // no --
		"x simpleos-app ring=3 name=x -- x %",        // fine: an empty argument (control case below)
		"x simpleos-app ring=3 name=x -- x %4",       // short escape
		"x simpleos-app ring=3 name=x -- x %G0",      // not hex
		"x simpleos-app ring=3 name=x -- x a%",       // dangling %
		"x simpleos-app ring=3 name=x -- x a,b",      // raw comma
		"x simpleos-app ring=3 name=x -- x a\tb",     // raw control byte
		"x simpleos-app ring=3 name=x -- x \xc3\xa9", // raw non-ASCII
		"x other-marker ring=3 name=x -- x",          // not ours
		"x simpleos-app ring=3 name=" + strings.Repeat("n", 33) + " -- " + strings.Repeat("n", 33),
		"x simpleos-app ring=3 name=x -- x " + strings.Repeat("a", appspec.MaxLen), // too long for the core
	} {
		_, ok := appspec.Parse(m)
		if m == "x simpleos-app ring=3 name=x -- x %" {
			assert.True(t, ok, "%q", m)
			continue
		}
		assert.False(t, ok, "%q", m)
		_, ok = ParseAppModule(m)
		assert.False(t, ok, "%q", m)
	}
	// Tolerated: extra spaces and lower-case hex.
	s, ok := appspec.Parse("x  simpleos-app ring=1  name=x -- x %c3%a9 ")
	require.True(t, ok)
	assert.Equal(t, appspec.Spec{Ring: 1, Name: "x", Args: []string{"é"}}, s)
}

func TestNameApps(t *testing.T) {
	long := strings.Repeat("L", 40)
	specs := []AppSpec{
		{Path: "build/apps/hello"},
		{Path: "other/hello"},
		{Path: "hello"},
		{Path: "hello-2"}, // keeps its own name; the duplicates above skip it
		{Path: "dir/we ird$name!.elf"},
		{Path: "/x/" + long},
		{Path: "/y/" + long},
		{Path: "héllo"},
		{Path: "/"},
		{Path: "spin", Name: "ignored"},
	}
	NameApps(specs)
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
		assert.True(t, appspec.ValidName(s.Name), "%q", s.Name)
	}
	assert.Equal(t, []string{
		"hello", "hello-3", "hello-4", "hello-2", "we_ird_name_.elf",
		strings.Repeat("L", 32), strings.Repeat("L", 30) + "-2",
		"h__llo", "app", "spin",
	}, names)

	NameApps(nil) // no panic
}

func TestAppModules(t *testing.T) {
	specs := []AppSpec{{Ring: 3, Path: "a", Name: "a"}, {Ring: 1, Path: "b", Name: "b", Args: []string{"x y"}}}
	mods, err := AppModules(specs)
	require.NoError(t, err)
	assert.Equal(t, []string{"a simpleos-app ring=3 name=a -- a", "b simpleos-app ring=1 name=b -- b x%20y"}, mods)

	_, err = AppModules([]AppSpec{{Ring: 3, Path: "a", Args: []string{strings.Repeat(" ", 2000)}, Name: "a"}})
	assert.ErrorContains(t, err, "too long")
	_, err = AppModules([]AppSpec{{Ring: 3, Path: "a"}})
	assert.ErrorContains(t, err, "invalid task name")
	_, err = AppModules([]AppSpec{{Ring: 0, Path: "a", Name: "a"}})
	assert.ErrorContains(t, err, "ring")
	_, err = AppModules(make([]AppSpec, MaxApps+1))
	assert.ErrorContains(t, err, "at most 63")
}

// buildGo builds a one-file Go program in a temporary directory with extra environment.
func buildGo(t *testing.T, src string, env ...string) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"go.mod": "module prog\n\ngo 1.26\n", "main.go": src})
	out := filepath.Join(dir, "prog")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-buildvcs=false"), env...)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", msg)
	return out
}

func TestCheckAppBinaryStaticGo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	bin := buildGo(t, "package main\n\nimport \"os\"\n\nfunc main() { os.Exit(len(os.Args)) }\n", "CGO_ENABLED=0")
	assert.NoError(t, CheckAppBinary(bin))
}

func TestCheckAppBinaryDynamic(t *testing.T) {
	var bin string
	if _, err := exec.LookPath("gcc"); err == nil && !testing.Short() {
		bin = buildGo(t, "package main\n\nimport \"os/user\"\n\nfunc main() { user.Current() }\n", "CGO_ENABLED=1")
	} else {
		bin = "/bin/ls"
		if f, err := elf.Open(bin); err != nil || !hasInterp(f) {
			t.Skip("no gcc and no dynamic /bin/ls")
		}
	}
	err := CheckAppBinary(bin)
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), bin)
		assert.Contains(t, err.Error(), "dynamically linked")
		assert.Contains(t, err.Error(), "CGO_ENABLED=0")
	}
}

func hasInterp(f *elf.File) bool {
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

func TestCheckAppBinaryRejectsFiles(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte("just text, long enough to not be a short read of a header\n"), 0o644))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o755))
	spaced := filepath.Join(dir, "with space")
	require.NoError(t, os.WriteFile(spaced, minimalELF(elfOpts{}), 0o755))
	missing := filepath.Join(dir, "missing")
	short := filepath.Join(dir, "short")
	require.NoError(t, os.WriteFile(short, []byte("\x7fELF\x02\x01"), 0o755))

	for _, c := range []struct{ path, want string }{
		{text, "not an ELF executable"},
		{empty, "not an ELF executable"},
		{short, "file too short"},
		{missing, "no such file"},
		{dir, "is a directory"},
		{spaced, "contains a space"},
	} {
		err := CheckAppBinary(c.path)
		if assert.Error(t, err, c.path) {
			assert.Contains(t, err.Error(), c.path)
			assert.Contains(t, err.Error(), c.want)
		}
	}
}

func TestCheckAppBinaryELFShapes(t *testing.T) {
	dir := t.TempDir()
	load := func(vaddr, memsz uint64) elfProg {
		return elfProg{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_X, vaddr: vaddr, filesz: 0x10, memsz: memsz}
	}
	for _, c := range []struct {
		name string
		o    elfOpts
		want string // "" = accepted
	}{
		{"minimal", elfOpts{}, ""},
		{"lowest", elfOpts{entry: 0x10000, progs: []elfProg{load(0x10000, 0x1000)}}, ""},
		{"highest", elfOpts{entry: 0x10000, progs: []elfProg{load(0x10000, 0x1000), {typ: elf.PT_LOAD, flags: elf.PF_R, vaddr: AppMaxAddr - 0x1000, memsz: 0x1000}}}, ""},
		{"32-bit", elfOpts{class32: true}, "ELFCLASS32"},
		{"arm64", elfOpts{machine: elf.EM_AARCH64}, "EM_AARCH64"},
		{"relocatable", elfOpts{typ: elf.ET_REL}, "ET_REL"},
		{"pie", elfOpts{typ: elf.ET_DYN}, "position-independent"},
		{"interp", elfOpts{progs: []elfProg{{typ: elf.PT_INTERP}, load(0x400000, 0x1000)}}, "CGO_ENABLED=0"},
		{"no load", elfOpts{progs: []elfProg{{typ: elf.PT_NOTE}}}, "no PT_LOAD"},
		{"low", elfOpts{entry: 0x8000, progs: []elfProg{load(0x8000, 0x1000)}}, "below 0x10000"},
		{"zero", elfOpts{entry: 0x400000, progs: []elfProg{load(0, 0x10), load(0x400000, 0x1000)}}, "below 0x10000"},
		{"high", elfOpts{entry: AppMaxAddr, progs: []elfProg{load(AppMaxAddr, 0x1000)}}, "0x7f0000000000"},
		{"straddles top", elfOpts{entry: AppMaxAddr - 0x10, progs: []elfProg{load(AppMaxAddr-0x1000, 0x2000)}}, "0x7f0000000000"},
		{"wraps", elfOpts{entry: 0x400000, progs: []elfProg{load(0x400000, ^uint64(0))}}, "0x7f0000000000"},
		{"kernel half", elfOpts{entry: 0xffffffff80000000, progs: []elfProg{load(0xffffffff80000000, 0x1000)}}, "0x7f0000000000"},
		{"filesz > memsz", elfOpts{progs: []elfProg{{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_X, vaddr: 0x400000, filesz: 0x20, memsz: 0x10}}}, "larger than its memory size"},
		{"truncated", elfOpts{progs: []elfProg{{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_X, vaddr: 0x400000, filesz: 0x100000, memsz: 0x100000}}}, "past the end of the file"},
		{"entry outside", elfOpts{entry: 0x500000}, "entry point 0x500000"},
		{"entry not executable", elfOpts{progs: []elfProg{{typ: elf.PT_LOAD, flags: elf.PF_R, vaddr: 0x400000, filesz: 0x10, memsz: 0x1000}}}, "entry point"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
		require.NoError(t, os.WriteFile(path, minimalELF(c.o), 0o755))
		err := CheckAppBinary(path)
		if c.want == "" {
			assert.NoError(t, err, c.name)
			continue
		}
		if assert.Error(t, err, c.name) {
			assert.Contains(t, err.Error(), path, c.name)
			assert.Contains(t, err.Error(), c.want, c.name)
		}
	}
}

type elfProg struct {
	typ                  elf.ProgType
	flags                elf.ProgFlag
	vaddr, filesz, memsz uint64
}

type elfOpts struct {
	class32 bool
	machine elf.Machine // default EM_X86_64
	typ     elf.Type    // default ET_EXEC
	entry   uint64      // default 0x400000
	progs   []elfProg   // default one R+X PT_LOAD at 0x400000
}

// minimalELF returns a header-and-program-headers-only ELF file: enough for CheckAppBinary.
func minimalELF(o elfOpts) []byte {
	if o.machine == 0 {
		o.machine = elf.EM_X86_64
	}
	if o.typ == 0 {
		o.typ = elf.ET_EXEC
	}
	if o.entry == 0 {
		o.entry = 0x400000
	}
	if o.progs == nil {
		o.progs = []elfProg{{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_X, vaddr: 0x400000, filesz: 0x10, memsz: 0x1000}}
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	class := elf.ELFCLASS64
	if o.class32 {
		class = elf.ELFCLASS32
	}
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	if o.class32 {
		h := elf.Header32{Ident: ident, Type: uint16(o.typ), Machine: uint16(elf.EM_386), Version: 1,
			Entry: uint32(o.entry), Ehsize: 52}
		_ = binary.Write(&b, le, h)
		return b.Bytes()
	}
	const ehsize, phsize = 64, 56
	h := elf.Header64{Ident: ident, Type: uint16(o.typ), Machine: uint16(o.machine), Version: 1,
		Entry: o.entry, Phoff: ehsize, Ehsize: ehsize, Phentsize: phsize, Phnum: uint16(len(o.progs))}
	_ = binary.Write(&b, le, h)
	interpOff := uint64(ehsize + phsize*len(o.progs))
	const interp = "/lib64/ld-linux-x86-64.so.2\x00"
	for _, p := range o.progs {
		ph := elf.Prog64{Type: uint32(p.typ), Flags: uint32(p.flags), Vaddr: p.vaddr, Paddr: p.vaddr,
			Filesz: p.filesz, Memsz: p.memsz, Align: 0x1000}
		if p.typ == elf.PT_INTERP {
			ph.Off, ph.Filesz, ph.Memsz, ph.Align = interpOff, uint64(len(interp)), uint64(len(interp)), 1
		}
		_ = binary.Write(&b, le, ph)
	}
	b.WriteString(interp)
	b.Write(make([]byte, 0x40)) // file bytes for the PT_LOADs (Off 0, Filesz 0x10)
	return b.Bytes()
}
