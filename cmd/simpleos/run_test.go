package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
)

func TestParseRunArgsDefaults(t *testing.T) {
	r, err := parseRunArgs(nil)
	require.NoError(t, err)
	assert.Equal(t, runArgs{Options: boot.Options{MemMB: 256, SMP: 1, Accel: "auto"}}, r)
}

func TestParseRunArgsAllFlags(t *testing.T) {
	r, err := parseRunArgs([]string{
		"--append", "selftest=primes:100000", "--timeout", "90s", "--mem", "512", "--smp=2",
		"--gdb", "--accel", "tcg", "-icount", "shift=0", "--disk", "run_test.go", "--no-iommu",
	})
	require.NoError(t, err)
	assert.Equal(t, boot.Options{
		Append:  "selftest=primes:100000",
		Timeout: 90 * time.Second,
		MemMB:   512,
		SMP:     2,
		GDB:     true,
		Accel:   "tcg",
		Icount:  "shift=0",
		Disk:    "run_test.go",
		NoIOMMU: true,
	}, r.Options)
	assert.Nil(t, r.Apps)
}

func TestAppQuotaFollowsTheGuestsMemory(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\nfunc main() {}\n"), 0o644))
	hello := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-o", hello, "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GO111MODULE=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	r, err := parseRunArgs([]string{"--mem", "1024", "--app", hello})
	require.NoError(t, err)
	assert.Equal(t, "taskmem=256", r.Options.Append)
	r, err = parseRunArgs([]string{"--mem", "1024", "--append", "taskmem=100", "--app", hello})
	require.NoError(t, err)
	assert.Equal(t, "taskmem=100", r.Options.Append, "the command line wins")
	r, err = parseRunArgs([]string{"--app", hello})
	require.NoError(t, err)
	assert.Empty(t, r.Options.Append, "256 MiB: the core's 64 MiB")
}

func TestDefaultDisk(t *testing.T) {
	p := boot.DefaultPaths(t.TempDir())
	var log bytes.Buffer
	img, err := defaultDisk(p, &log)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(p.BuildDir, "disk.img"), img)
	assert.Contains(t, log.String(), "created")
	st, err := os.Stat(img)
	require.NoError(t, err)
	assert.EqualValues(t, 64<<20, st.Size())

	log.Reset()
	again, err := defaultDisk(p, &log)
	require.NoError(t, err)
	assert.Equal(t, img, again)
	assert.Empty(t, log.String(), "an existing image is used as it is")
}

func TestParseRunArgsRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--mem", "abc"}, "-mem"},
		{[]string{"--mem", "0"}, "--mem"},
		{[]string{"--smp", "-1"}, "--smp"},
		{[]string{"--accel", "foo"}, `"foo"`},
		{[]string{"--timeout", "xyz"}, "-timeout"},
		{[]string{"--timeout", "-5s"}, "--timeout"},
		{[]string{"--bogus"}, "bogus"},
		{[]string{"extra"}, `"extra"`},
		{[]string{"--gdb", "extra"}, `"extra"`},
		{[]string{"--accel", "kvm", "--icount", "shift=0"}, "icount"},
		{[]string{"--append"}, "append"},
		{[]string{"--disk", "no/such.img"}, "simpleos disk create no/such.img"},
	} {
		_, err := parseRunArgs(c.args)
		if assert.Error(t, err, "%q", c.args) {
			assert.ErrorAs(t, err, new(usageError), "%q exits 2", c.args)
			assert.Contains(t, err.Error(), c.want, "%q", c.args)
		}
	}
}

func TestParseRunArgsHelp(t *testing.T) {
	_, err := parseRunArgs([]string{"-h"})
	assert.True(t, errors.Is(err, flag.ErrHelp))
}

// writeStaticELF writes the smallest file boot.CheckAppBinary accepts: an x86-64 ET_EXEC with
// one executable PT_LOAD at 0x400000 holding the entry point.
func writeStaticELF(t *testing.T, path string) {
	t.Helper()
	var b bytes.Buffer
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	require.NoError(t, binary.Write(&b, binary.LittleEndian, elf.Header64{
		Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: 1,
		Entry: 0x400000, Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 1,
	}))
	require.NoError(t, binary.Write(&b, binary.LittleEndian, elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Vaddr: 0x400000, Paddr: 0x400000,
		Filesz: 120, Memsz: 0x1000, Align: 0x1000,
	}))
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o755))
}

func TestParseRunArgsApps(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "apps", "more"), 0o755))
	for _, p := range []string{"apps/hello", "apps/spin", "apps/more/hello", "apps/we$ird"} {
		writeStaticELF(t, filepath.Join(dir, p))
	}
	t.Chdir(dir)

	r, err := parseRunArgs([]string{
		"--app", "ring=2 apps/hello a b",
		"--timeout", "5s",
		"--app", "apps/spin",
		"-app=ring=1 apps/more/hello 'two words' a,b 100% \"\"",
		"--app", `apps/hello escaped\ space`,
		"--app", "apps/we$ird",
	})
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, r.Options.Timeout)
	assert.Nil(t, r.Options.Modules, "modules are added by runRun, after the kernel ELF")
	assert.Equal(t, []boot.AppSpec{
		{Ring: 2, Path: "apps/hello", Name: "hello", Args: []string{"a", "b"}},
		{Ring: 3, Path: "apps/spin", Name: "spin"},
		{Ring: 1, Path: "apps/more/hello", Name: "hello-2", Args: []string{"two words", "a,b", "100%", ""}},
		{Ring: 3, Path: "apps/hello", Name: "hello-3", Args: []string{"escaped space"}},
		{Ring: 3, Path: "apps/we$ird", Name: "we_ird"},
	}, r.Apps)

	mods, err := boot.AppModules(r.Apps)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"apps/hello simpleos-app ring=2 name=hello -- hello a b",
		"apps/spin simpleos-app ring=3 name=spin -- spin",
		"apps/more/hello simpleos-app ring=1 name=hello-2 -- hello-2 two%20words a%2Cb 100%25 %",
		"apps/hello simpleos-app ring=3 name=hello-3 -- hello-3 escaped%20space",
		"apps/we$ird simpleos-app ring=3 name=we_ird -- we_ird",
	}, mods)
}

func TestParseRunArgsRejectsBadApps(t *testing.T) {
	dir := t.TempDir()
	writeStaticELF(t, filepath.Join(dir, "ok"))
	writeStaticELF(t, filepath.Join(dir, "has space"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "script"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	t.Chdir(dir)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--app"}, "app"},
		{[]string{"--app", ""}, "no program path"},
		{[]string{"--app", "ring=2"}, "no program path"},
		{[]string{"--app", "ring=4 ok"}, `ring must be 1, 2 or 3, got "ring=4"`},
		{[]string{"--app", "ring=0 ok"}, `"ring=0"`},
		{[]string{"--app", "ring=x ok"}, `"ring=x"`},
		{[]string{"--app", "ring= ok"}, `"ring="`},
		{[]string{"--app", `ok "unbalanced`}, "closing quote"},
		{[]string{"--app", "missing"}, "app missing: no such file"},
		{[]string{"--app", "script"}, "app script: not an ELF executable"},
		{[]string{"--app", `"has space"`}, "contains a space"},
		{[]string{"--app", "ok", "--app", "ok " + strings.Repeat("x ", 2100)}, "too long"},
		{[]string{"--app", "ok", "--mem", "0"}, "--mem"},
	} {
		_, err := parseRunArgs(c.args)
		if assert.Error(t, err, "%q", c.args) {
			assert.ErrorAs(t, err, new(usageError), "%q exits 2", c.args)
			assert.Contains(t, err.Error(), c.want, "%q", c.args)
		}
	}

	many := []string{}
	for range boot.MaxApps + 1 {
		many = append(many, "--app", "ok")
	}
	_, err := parseRunArgs(many)
	assert.ErrorContains(t, err, "at most 63")
	_, err = parseRunArgs(many[2:])
	assert.NoError(t, err)
}

func TestRunUsageMentionsApp(t *testing.T) {
	var b bytes.Buffer
	runUsage(&b)
	assert.Contains(t, b.String(), "-app")
	assert.Contains(t, b.String(), "ring")
}

func TestParseRunArgsVGA(t *testing.T) {
	r, err := parseRunArgs([]string{"--vga"})
	require.NoError(t, err)
	assert.True(t, r.Options.Display)
	r, err = parseRunArgs(nil)
	require.NoError(t, err)
	assert.False(t, r.Options.Display, "the default machine has no VGA")
}

func TestParseRunArgsReboots(t *testing.T) {
	r, err := parseRunArgs([]string{"--reboots", "2", "--append", "sensor=monolithic"})
	require.NoError(t, err)
	assert.Equal(t, 2, r.Options.Reboots)
	assert.Equal(t, "sensor=monolithic crash=reboot", r.Options.Append, "a crash reboots the machine")

	r, err = parseRunArgs([]string{"--reboots=1"})
	require.NoError(t, err)
	assert.Equal(t, "crash=reboot", r.Options.Append)

	r, err = parseRunArgs([]string{"--reboots", "3", "--append", "crash=stop safemode"})
	require.NoError(t, err)
	assert.Equal(t, "crash=stop safemode", r.Options.Append, "an explicit crash= word is kept")

	r, err = parseRunArgs([]string{"--append", "safemode"})
	require.NoError(t, err)
	assert.Equal(t, boot.Options{Append: "safemode", MemMB: 256, SMP: 1, Accel: "auto"}, r.Options, "no reboots: nothing added")

	_, err = parseRunArgs([]string{"--reboots", "-1"})
	assert.ErrorContains(t, err, "--reboots")
}

func TestPrintBoots(t *testing.T) {
	var b bytes.Buffer
	printBoots(&b, []boot.Boot{
		{Start: 610 * time.Millisecond, Crash: "CORE CRASH: page fault (#PF) in x+0x1"},
		{Start: 980 * time.Millisecond},
		{Start: 1320 * time.Millisecond},
	})
	assert.Equal(t, "simpleos: boot 1 at 0.61s: CORE CRASH: page fault (#PF) in x+0x1\n"+
		"simpleos: boot 2 at 0.98s: (rebooted without a crash report)\n"+
		"simpleos: boot 3 at 1.32s: (last boot)\n", b.String())
}
