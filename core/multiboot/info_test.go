package multiboot

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadRejectsBadMagicAndNilInfo(t *testing.T) {
	_, ok := Load(0x1BADB002, infoPhys, 0) // the header magic, not the loader's
	assert.False(t, ok)
	_, ok = Load(BootloaderMagic, 0, 0)
	assert.False(t, ok)

	var zero Info
	assert.Zero(t, zero.Flags())
	assert.Zero(t, zero.ModuleCount())
	assert.Zero(t, zero.MemoryMapCount())
	assert.Empty(t, zero.CommandLine())
}

func TestQemuBootFields(t *testing.T) {
	f := qemuBoot(t)
	i := f.info()

	assert.Equal(t, uint32(FlagMemory|FlagCommandLine|FlagBootloaderName|FlagModules|FlagMemoryMap), i.Flags())
	lower, upper, ok := i.MemoryKB()
	require.True(t, ok)
	assert.Equal(t, uint32(639), lower)
	assert.Equal(t, uint32(130944), upper)

	cmdline := i.CommandLine()
	assert.Equal(t, "build/kernel.elf selftest=primes:100000 quiet", cmdline)
	assert.Equal(t, uintptr(cmdlinePhys), f.physOf(cmdline), "no copy: points into boot memory")
	assert.Equal(t, "qemu", i.BootloaderName())
	assert.Equal(t, uintptr(namePhys), f.physOf(i.BootloaderName()))
}

func TestAbsentFieldsFollowFlags(t *testing.T) {
	f := qemuBoot(t)
	f.put32(infoPhys+offFlags, 0)
	i := f.info()

	_, _, ok := i.MemoryKB()
	assert.False(t, ok)
	assert.Empty(t, i.CommandLine())
	assert.Empty(t, i.BootloaderName())
	assert.Zero(t, i.ModuleCount())
	assert.Zero(t, i.MemoryMapCount())
	_, _, _, ok = i.Module(0)
	assert.False(t, ok)
	_, _, _, ok = i.MemoryRegion(0)
	assert.False(t, ok)
	assert.Zero(t, i.UsableRanges(nil, make([]Range, 4)))
}

func TestStringsWithNullAddressOrEmpty(t *testing.T) {
	f := qemuBoot(t)
	f.put32(infoPhys+offCmdline, 0)
	f.putString(namePhys, "")
	i := f.info()
	assert.Empty(t, i.CommandLine())
	assert.Empty(t, i.BootloaderName())
}

func TestUnterminatedCommandLineIsBounded(t *testing.T) {
	f := qemuBoot(t)
	long := strings.Repeat("x", maxStringLen+50)
	copy(f.at(cmdlinePhys, len(long)), long) // no NUL within the bound
	got := f.info().CommandLine()
	assert.Len(t, got, maxStringLen)
	assert.Equal(t, long[:maxStringLen], got)
}

func TestModules(t *testing.T) {
	f := qemuBoot(t)
	i := f.info()
	require.Equal(t, 2, i.ModuleCount())

	start, end, cmdline, ok := i.Module(0)
	require.True(t, ok)
	assert.Equal(t, uintptr(0x800000), start)
	assert.Equal(t, uintptr(0x812345), end)
	assert.Equal(t, "init.elf arg1", cmdline)
	assert.Equal(t, uintptr(modStrPhys), f.physOf(cmdline))

	start, end, cmdline, ok = i.Module(1)
	require.True(t, ok)
	assert.Equal(t, start, end, "empty module")
	assert.Equal(t, "empty", cmdline)

	for _, n := range []int{-1, 2, 1 << 40} {
		_, _, _, ok = i.Module(n)
		assert.False(t, ok, "module %d", n)
	}
}

func TestModuleEdgeCases(t *testing.T) {
	f := qemuBoot(t)
	f.put32(modsPhys+4, 0x7fffff) // end < start
	f.put32(modsPhys+16+8, 0)     // no cmdline
	i := f.info()
	_, _, _, ok := i.Module(0)
	assert.False(t, ok, "end before start")
	_, _, cmdline, ok := i.Module(1)
	assert.True(t, ok)
	assert.Empty(t, cmdline)

	f.put32(infoPhys+offModsCount, 0xffffffff)
	assert.Equal(t, maxModules, i.ModuleCount(), "absurd count is capped")
	_, _, _, ok = i.Module(maxModules - 1) // zero entry inside the reserved area
	assert.True(t, ok)
	_, _, _, ok = i.Module(maxModules)
	assert.False(t, ok)

	f.put32(infoPhys+offModsAddr, 0)
	assert.Zero(t, i.ModuleCount(), "null module list")
}

func TestNoAllocations(t *testing.T) {
	f := qemuBoot(t)
	i := f.info()
	exclude := []Range{{0, 0x100000}, {0x100000, 0x400000}}
	out := make([]Range, 8)
	allocs := testing.AllocsPerRun(100, func() {
		_ = i.CommandLine()
		_ = i.BootloaderName()
		_, _, _, _ = i.Module(0)
		_ = i.MemoryMapCount()
		_, _, _, _ = i.MemoryRegion(3)
		_ = i.UsableRanges(exclude, out)
		_, _ = Arg(i.CommandLine(), "selftest")
	})
	assert.Zero(t, allocs)
}
