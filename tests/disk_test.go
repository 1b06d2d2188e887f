package tests

// The disk (issue 12): the core finds the hardware (ACPI, PCI, the IOMMU), QEMU's IOMMU
// really blocks a virtio device's wild DMA, the ring-1 driver tier1/blk reads and writes the
// whole image through its confined DMA, survives its own crash mid-write without losing an
// acknowledged write, and the policy's device grants are enforced.

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
)

var (
	programBuildMu sync.Mutex
	programBuilt   = map[string]string{}
)

// repoProgram builds a program of the repository (./tier1/blk) into build/apps/NAME, where
// NAME is its directory's name (the task's name, which the policy modules use).
func repoProgram(t *testing.T, pkg string) string {
	t.Helper()
	programBuildMu.Lock()
	defer programBuildMu.Unlock()
	if p, ok := programBuilt[pkg]; ok {
		return p
	}
	root := appRepoRoot(t)
	out := filepath.Join(root, "build", "apps", filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s:\n%s", pkg, msg)
	programBuilt[pkg] = out
	return out
}

// diskImage makes a raw, all-zero image of size bytes for one test.
func diskImage(t *testing.T, size int64) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, os.WriteFile(f, nil, 0o644))
	require.NoError(t, os.Truncate(f, size))
	return f
}

// bootDisk boots the driver and its client (and any other programs: "[ring=N] PKG [ARGS]",
// PKG a repository package such as ./tier1/blk) under manifest, with disk attached.
func bootDisk(t *testing.T, manifest, cmdline, disk string, timeout time.Duration, programs ...string) boot.Result {
	t.Helper()
	p := kernelPaths(t)
	mods := appModules(t, programs, func(pkg string) string { return repoProgram(t, pkg) })
	file := filepath.Join(t.TempDir(), "test.policy")
	require.NoError(t, os.WriteFile(file, []byte(manifest), 0o644))
	m, err := boot.PolicyModules(file)
	require.NoError(t, err)
	res, err := boot.Run(context.Background(), boot.Options{
		Image:   p.Image,
		Modules: append(append([]string{p.ELF}, mods...), m...),
		Append:  cmdline,
		Timeout: timeout,
		Disk:    disk,
	})
	require.NoError(t, err)
	t.Logf("%q: status %d after %v\n%s", cmdline, res.Status, res.Duration.Round(time.Millisecond), res.Output)
	require.False(t, res.TimedOut, "SimpleOS did not finish")
	require.NotContains(t, string(res.Output), "CORE CRASH", "the core must survive its tasks")
	return res
}

// blkModule is the driver's policy entry with extra statements (dma, args, restart, crashes).
func blkModule(extra string) string {
	return `
module blk
    binary   tier1/blk
    ring     1
    device   1af4:1042
    serves   blk
` + extra + `
end
`
}

func blktestModule(args string) string {
	return `
module blktest
    binary   ring3/blktest
    ring     3
    calls    blk
    restart  never
    args     ` + args + `
end
`
}

const (
	blkDriver = "ring=1 ./tier1/blk"
	blkClient = "./ring3/blktest"
)

func TestBootFindsTheDiskAndTheIOMMU(t *testing.T) {
	t.Parallel()
	res := bootKernel(t, "selftest=primes:1000", time.Minute)
	require.Equal(t, 0, res.Status)
	out := string(res.Output)
	assert.Regexp(t, `(?m)^acpi: RSDP 0x[0-9a-f]+ rev \d+, [RX]SDT 0x[0-9a-f]+: .*\bMCFG\b.*\bDMAR\b`, out)
	assert.Regexp(t, `(?m)^pci: 00:00.0 8086:29c0 class 06.00.00$`, out, "q35's host bridge")
	assert.Regexp(t, `(?m)^pci: 00:03.0 1af4:1042 class 01.00.00 .*bar4 0x[0-9a-f]+\+0x4000 mem64 pref; msix 2 vectors in bar1; caps 11 09 09 09 09 09$`, out, "the disk: BARs sized, capabilities walked")
	assert.Regexp(t, `(?m)^pci: \d+ functions on buses 00-\w\w \(ECAM 0xb0000000\)$`, out)
	assert.Regexp(t, `(?m)^iommu: VT-d \d\.\d at 0xfed90000, DMA remapping on \(3-level tables, \d+ fault records\)`, out)
}

// The ground check: QEMU's intel-iommu, under TCG, blocks and records a virtio-blk's DMA
// outside its domain; without remapping, the same requests reach the core's frames.
func TestQEMUsIOMMUBlocksAVirtioDevicesWildDMA(t *testing.T) {
	t.Parallel()
	var on, off boot.Result
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); on = bootKernel(t, "selftest=dma:iommu", time.Minute) }()
	go func() { defer wg.Done(); off = bootKernel(t, "selftest=dma:none iommu=off", time.Minute) }()
	wg.Wait()
	assert.Equal(t, 0, on.Status)
	assert.Regexp(t, `(?m)^iommu: blocked DMA write by 00:03.0 to 0x[0-9a-f]+ \(fault reason 0x05; no driver owns it\)$`, string(on.Output))
	assert.Regexp(t, `(?m)^iommu: blocked DMA read by 00:03.0 to 0x[0-9a-f]+ \(fault reason 0x06; no driver owns it\)$`, string(on.Output))
	// QEMU may record a blocked access more than once (the device retries within a request).
	assert.Regexp(t, `selftest dma: mode iommu: [2-9] accesses blocked by the IOMMU; wild write blocked, wild read blocked`, string(on.Output))
	assert.Equal(t, 0, off.Status)
	assert.Contains(t, string(off.Output), "selftest dma: mode none: 0 accesses blocked by the IOMMU; wild write landed, wild read landed")
}

// word is blktest's pattern: every 8-byte word of sector s holds seed<<48 | s<<8 | index.
func word(seed, sector uint64, i int) uint64 {
	return seed<<48 | (sector&(1<<40-1))<<8 | uint64(i)
}

// checkPattern reads the image on the host and checks every sector holds seed's pattern.
func checkPattern(t *testing.T, image string, seed uint64) {
	t.Helper()
	data, err := os.ReadFile(image)
	require.NoError(t, err)
	bad := 0
	for s := 0; s < len(data)/512; s++ {
		for i := 0; i < 64; i++ {
			if got := binary.LittleEndian.Uint64(data[s*512+i*8:]); got != word(seed, uint64(s), i) {
				if bad++; bad <= 3 {
					t.Errorf("sector %d word %d: %#x, want %#x", s, i, got, word(seed, uint64(s), i))
				}
				break
			}
		}
	}
	assert.Zero(t, bad, "sectors of the image without the pattern")
}

// The driver writes a pattern over the whole image in chunks that cross the 16-page grant,
// flushes and reads it back; the image file holds it (checked on the host), and a second boot
// reads it again.
func TestDiskDriverWritesAndReadsTheWholeImage(t *testing.T) {
	t.Parallel()
	image := diskImage(t, 8<<20)
	res := bootDisk(t, blkModule("    dma 1MiB\n    restart always")+blktestModule("--pattern-check 0 --seed 7"), "", image, 3*time.Minute, blkDriver, blkClient)
	out := string(res.Output)
	assert.Regexp(t, `(?m)^\[blk\] blk: virtio-blk: 16384 sectors \(8 MiB\), block 512, flush true, .*MSI-X vector 0$`, out, "interrupt-driven, flush offered")
	assert.Contains(t, out, "[blktest] blktest: wrote 16384 sectors, flushed, verified 16384 sectors OK")
	assert.Equal(t, "app blktest exited 0", summary(t, res.Output, "blktest"))
	checkPattern(t, image, 7)

	res = bootDisk(t, blkModule("    dma 1MiB\n    restart always")+blktestModule("--read-only-check 7"), "", image, 3*time.Minute, blkDriver, blkClient)
	assert.Contains(t, string(res.Output), "[blktest] blktest: verified 16384 sectors of seed 7 OK")
}

// The driver crashes after the device wrote and before it replied, again and again: the
// client resubmits what was not acknowledged, the restarted driver resets the device, and
// every sector holds its pattern in the end.
func TestDiskDriverCrashMidWriteLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	image := diskImage(t, 4<<20)
	res := bootDisk(t, blkModule("    dma 1MiB\n    args --crash-after=12\n    restart always\n    crashes 50/30s")+blktestModule("--pattern-check 0 --seed 9"), "", image, 3*time.Minute, blkDriver, blkClient)
	out := string(res.Output)
	crashes := regexp.MustCompile(`(?m)^app blk .*(faulted|SIGSEGV).*restart (in|now)`).FindAllString(out, -1)
	assert.GreaterOrEqual(t, len(crashes), 2, "the driver crashed mid-write and was restarted")
	assert.Contains(t, out, "[blktest] blktest: wrote 8192 sectors, flushed, verified 8192 sectors OK")
	checkPattern(t, image, 9)
}

// Two modules naming one device (by ID and by slot: the host cannot tell) are refused at
// boot, when the core resolves them.
func TestSecondDriverForTheSameDeviceIsRefused(t *testing.T) {
	t.Parallel()
	second := strings.ReplaceAll(strings.ReplaceAll(blkModule("    dma 64KiB"), "module blk", "module blk2"), "1af4:1042", "00:03.0")
	second = strings.ReplaceAll(second, "serves   blk", "serves   blk-two")
	res := bootDisk(t, blkModule("    dma 1MiB")+second, "", "", time.Minute, blkDriver)
	assert.Equal(t, 3, res.Status)
	assert.Regexp(t, `core: policy rejected, no task started:\n.*:\d+: rule device-shared: module "blk2" device 00:03.0 is the device module "blk" drives \(line \d+\)`, string(res.Output))
	assert.NotContains(t, string(res.Output), "[blk]")
}

// A driver whose policy has no dma statement gets its device but no DMA memory.
func TestDriverWithoutADMAGrantGetsEPERM(t *testing.T) {
	t.Parallel()
	res := bootDisk(t, blkModule("    restart never"), "", "", time.Minute, blkDriver)
	out := string(res.Output)
	assert.Regexp(t, `(?m)^audit: deny blk \(pid \d+, ring 1\) dma_alloc: its policy grants it no DMA memory \(dma\)$`, out)
	assert.Regexp(t, `\[blk\] blk: .*operation not permitted`, out)
	assert.NotContains(t, out, "iommu: blocked")
}

// The device interface attacked: by the driver that owns the disk (what its grant does not
// give, DMA past its quota, its DMA window abused, four threads racing allocations while it
// exits), and by tasks in rings 1, 2 and 3 that own no device. Every frame comes back.
func TestDeviceInterfaceUnderAttack(t *testing.T) {
	t.Parallel()
	manifest := `
module attack
    binary  tests/testdata/apps/attack
    ring    1
    device  1af4:1042
    dma     64KiB
    restart never
end
`
	res := bootAppsWithPolicy(t, manifest, "", 2*time.Minute, nil,
		"ring=1 attack device", "ring=1 attack device-none", "ring=2 attack device-none", "ring=3 attack device-none")
	out := string(res.Output)
	assert.NotContains(t, out, "BREACH")
	for _, name := range []string{"attack", "attack-2", "attack-3", "attack-4"} {
		assert.Equal(t, "app "+name+" exited 0", summary(t, res.Output, name))
	}
	assert.Contains(t, out, "[attack] attack: device: raced 800 allocations; exiting with DMA memory held")
	before := field(t, res.Output, `frames in use outside the core runtime before the first start: (\d+)`)
	after := field(t, res.Output, `all apps finished; frames in use outside the core runtime: (\d+)`)
	assert.Equal(t, before[0]+1, after[0], "every frame back but bus 0's context table, which stays")
}
