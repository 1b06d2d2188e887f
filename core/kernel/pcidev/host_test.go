package pcidev_test

// A driver's device on the host (package hosted): the configuration space is a byte slice
// standing in for ECAM, the IOMMU a host unit (iommu.UseHostUnit), the system calls go through
// the kernel's own trap path.

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/hosted"
	"github.com/simpleos/simpleos/core/kernel/iommu"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/pcidev"
)

const slot = 3 << 3 // 00:03.0

// The fake machine's configuration space (bus 0) and the device's MSI-X table, kept alive:
// the kernel holds their addresses.
var (
	ecam      = make([]byte, 1<<20)
	msixTable = make([]byte, 4096)
)

func cfg() []byte { return ecam[slot<<12 : slot<<12+4096] }

func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }

// fakeDisk lays out a virtio-blk-like function: IDs, a BAR, capabilities at 0x40 (a
// vendor-specific one of 16 bytes) and 0x50 (MSI-X, 2 vectors).
func fakeDisk() {
	clear(ecam)
	clear(msixTable)
	c := cfg()
	binary.LittleEndian.PutUint32(c[0:], 0x1042_1af4)
	binary.LittleEndian.PutUint32(c[4:], 0x0010_0002) // status: capability list; memory decode
	binary.LittleEndian.PutUint32(c[0x20:], 0xfe00_000c)
	c[0x34] = 0x40
	c[0x40], c[0x41], c[0x42], c[0x43] = 0x09, 0x50, 16, 1
	c[0x50], c[0x51] = 0x11, 0
	binary.LittleEndian.PutUint16(c[0x52:], 1) // table size 2
	pcidev.SetECAM(uintptr(unsafe.Pointer(&ecam[0])), 0, 0)
}

func spec(dmaPages int, confined bool) *kernel.DeviceSpec {
	s := &kernel.DeviceSpec{Source: slot, DMAPages: dmaPages, Confined: confined,
		MSIXCap: 0x50, MSIXTable: uint64(uintptr(unsafe.Pointer(&msixTable[0]))), MSIXVectors: 2}
	s.Info.Slot, s.Info.Vendor, s.Info.Device = slot, 0x1af4, 0x1042
	s.Info.BARs[4] = abi.DeviceBAR{Phys: 0xfe00_0000, Size: 0x4000}
	return s
}

func boot(t *testing.T) {
	t.Helper()
	hosted.Start()
	iommu.UseHostUnit(3)
	fakeDisk()
}

func driver(t *testing.T, s *kernel.DeviceSpec) *hosted.Task {
	t.Helper()
	tk, err := hosted.NewTask(kernel.TaskSpec{Name: "blk", Ring: 1, Device: s})
	require.NoError(t, err)
	return tk
}

func TestADriverGetsItsDeviceAndNothingElse(t *testing.T) {
	boot(t)
	free := mm.Frames().Free
	drv := driver(t, spec(4, true))
	_, err := hosted.NewTask(kernel.TaskSpec{Name: "blk2", Ring: 1, Device: spec(4, true)})
	assert.ErrorContains(t, err, "already owned", "one driver per device, whatever the policy said")
	other, err := hosted.NewTask(kernel.TaskSpec{Name: "app", Ring: 1})
	require.NoError(t, err)

	var info abi.DeviceInfo
	var got map[string]int64
	var others []int64
	var command, msixControl uint32
	buf := drv.Map(4096)
	drv.Thread(func(th *hosted.Thread) {
		call := func(nr uint64, a ...uint64) int64 { return th.Syscall(nr, a...) }
		got = map[string]int64{
			"info":             call(abi.SysDeviceInfo, uint64(buf), abi.DeviceInfoSize),
			"info short":       call(abi.SysDeviceInfo, uint64(buf), abi.DeviceInfoSize-1),
			"read id":          call(abi.SysDeviceConfig, 0, 4, 0, 0),
			"read device id":   call(abi.SysDeviceConfig, 2, 2, 0, 0),
			"unaligned":        call(abi.SysDeviceConfig, 1, 2, 0, 0),
			"bad width":        call(abi.SysDeviceConfig, 0, 3, 0, 0),
			"past 4K":          call(abi.SysDeviceConfig, 4096, 4, 0, 0),
			"write BAR":        call(abi.SysDeviceConfig, 0x20, 4, 0x1000, 1),
			"write MSI-X ctl":  call(abi.SysDeviceConfig, 0x52, 2, 0, 1),
			"write cap ptr":    call(abi.SysDeviceConfig, 0x34, 1, 0x60, 1),
			"bus master":       call(abi.SysDeviceConfig, 4, 2, 0x6, 1),
			"SERR enable":      call(abi.SysDeviceConfig, 4, 2, 0x106, 1),
			"bits as they are": call(abi.SysDeviceConfig, 4, 2, 0x6, 1),
			"vendor cap":       call(abi.SysDeviceConfig, 0x48, 4, 0xabcd, 1),
			"vendor cap hdr":   call(abi.SysDeviceConfig, 0x40, 4, 0x09, 1),
			"past vendor cap":  call(abi.SysDeviceConfig, 0x4c+4, 4, 1, 1),
		}
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&info)), abi.DeviceInfoSize), drv.Read(buf, abi.DeviceInfoSize))
		command, msixControl = le32(cfg(), 4), le32(cfg(), 0x50)
		call(abi.SysDMAAlloc, 4096, uint64(buf)) // a page the end must take back
	})
	other.Thread(func(th *hosted.Thread) {
		b := other.Map(4096)
		others = []int64{
			th.Syscall(abi.SysDeviceInfo, uint64(b), abi.DeviceInfoSize),
			th.Syscall(abi.SysDeviceConfig, 0, 4, 0, 0),
			th.Syscall(abi.SysDMAAlloc, 4096, uint64(b)),
			th.Syscall(abi.SysDMAFree, mm.DMAWindow, 4096),
		}
	})
	hosted.Run()
	assert.Equal(t, map[string]int64{
		"info": 0, "info short": -abi.EINVAL, "read id": 0x1042_1af4, "read device id": 0x1042,
		"unaligned": -abi.EINVAL, "bad width": -abi.EINVAL, "past 4K": -abi.EINVAL,
		"write BAR": -abi.EPERM, "write MSI-X ctl": -abi.EPERM, "write cap ptr": -abi.EPERM,
		"bus master": 0, "SERR enable": -abi.EPERM, "bits as they are": 0, "vendor cap": 0, "vendor cap hdr": -abi.EPERM,
		"past vendor cap": -abi.EPERM,
	}, got)
	assert.Equal(t, uint32(0xfe00_000c), le32(cfg(), 0x20), "the BAR is untouched")
	assert.Equal(t, uint32(0xabcd), le32(cfg(), 0x48))
	assert.Equal(t, uint32(0x0006), command&0xffff, "memory decode and bus master on, nothing else")
	assert.Zero(t, command>>16, "status bits are written as 0: write-1-to-clear bits never cleared by accident")
	assert.Equal(t, uint32(pcidev.FirstMSILine), info.IRQBit)
	assert.Equal(t, uint32(2), info.MSIXVectors)
	assert.Equal(t, uint64(4*4096), info.DMAQuota)
	assert.Equal(t, abi.DeviceBAR{Phys: 0xfe00_0000, Size: 0x4000}, info.BARs[4])
	for i := 0; i < 2; i++ {
		e := msixTable[i*16:]
		assert.Equal(t, uint32(0xfee0_0000), le32(e, 0), "entry %d: the core's MSI address", i)
		assert.Equal(t, uint32(48+pcidev.FirstMSILine), le32(e, 8), "entry %d: the driver's line's vector", i)
		assert.Zero(t, le32(e, 12), "entry %d: unmasked", i)
	}
	assert.Equal(t, uint32(1<<31|1<<16), msixControl&(1<<31|1<<30|0xffff<<16), "MSI-X on, not masked")

	// Another task, with no device: every call refused.
	assert.Equal(t, []int64{-abi.EPERM, -abi.EPERM, -abi.EPERM, -abi.EPERM}, others)

	// The driver has ended (its one thread returned): its device stopped, its domain went,
	// every frame came back.
	assert.Zero(t, le32(cfg(), 4)&0x4, "bus mastering off")
	assert.Equal(t, uint32(1<<30), le32(cfg(), 0x50)&(1<<31|1<<30), "MSI-X disabled and masked")
	assert.Nil(t, iommu.ForSource(slot))
	assert.Equal(t, free-1, mm.Frames().Free, "no frame lost: DMA pages, tables, the space (bus 0's context table stays)")
	_, err = hosted.NewTask(kernel.TaskSpec{Name: "blk", Ring: 1, Device: spec(4, true)})
	assert.NoError(t, err, "the restarted driver gets the device again")
}

func TestDMAMemory(t *testing.T) {
	boot(t)
	drv := driver(t, spec(4, true))
	type alloc struct {
		ret  int64
		iova uint64
	}
	var got []alloc
	var frees []int64
	var pages int
	var shared, stillThere bool
	drv.Thread(func(th *hosted.Thread) {
		out := drv.Map(4096)
		a := func(n uint64) {
			r := th.Syscall(abi.SysDMAAlloc, n, uint64(out))
			iova := binary.LittleEndian.Uint64(drv.Read(out, 8))
			got = append(got, alloc{r, iova})
			drv.Write(out, make([]byte, 8))
		}
		a(2 * 4096) // ok
		a(3 * 4096) // over the quota (2 + 3 > 4)
		a(100)      // not whole pages
		a(0)
		a(2 * 4096) // ok: the quota's rest
		frees = []int64{
			th.Syscall(abi.SysDMAFree, mm.DMAWindow+4096, 4096), // part of an allocation: fine, page by page
			th.Syscall(abi.SysDMAFree, mm.DMAWindow+4096, 4096), // twice
			th.Syscall(abi.SysDMAFree, mm.DMAWindow-4096, 4096), // outside the window
			th.Syscall(abi.SysDMAFree, mm.DMAWindow+1, 4096),
			th.Syscall(abi.SysDMAAlloc, 4096, 0), // the iova pointer is bad: nothing kept
		}
		d := iommu.ForSource(slot)
		pages = d.Pages()
		f, _ := d.Lookup(iommu.IOVABase)
		shared = f == drv.Space().Root().Lookup(mm.DMAWindow)&mm.PTEAddrMask
		_, stillThere = d.Lookup(iommu.IOVABase + 4096)
	})
	hosted.Run()
	require.Len(t, got, 5)
	assert.Equal(t, alloc{int64(mm.DMAWindow), iommu.IOVABase}, got[0])
	assert.Equal(t, int64(-abi.ENOMEM), got[1].ret)
	assert.Equal(t, int64(-abi.EINVAL), got[2].ret)
	assert.Equal(t, int64(-abi.EINVAL), got[3].ret)
	assert.Equal(t, alloc{int64(mm.DMAWindow + 2*4096), iommu.IOVABase + 2*4096}, got[4])
	assert.Equal(t, []int64{0, -abi.EINVAL, -abi.EINVAL, -abi.EINVAL, -abi.EFAULT}, frees)
	assert.Equal(t, 3, pages)
	assert.True(t, shared, "the driver and its device share the frame")
	assert.False(t, stillThere, "the freed page left the domain")
}

func TestNoDMAWithoutAGrantOrAnIOMMU(t *testing.T) {
	for name, s := range map[string]*kernel.DeviceSpec{
		"no dma statement":     spec(0, true),
		"not behind the IOMMU": spec(4, false),
	} {
		boot(t)
		drv := driver(t, s)
		var got []int64
		drv.Thread(func(th *hosted.Thread) {
			out := drv.Map(4096)
			got = []int64{th.Syscall(abi.SysDMAAlloc, 4096, uint64(out))}
			if !s.Confined {
				got = append(got, th.Syscall(abi.SysDeviceConfig, 4, 2, 0x6, 1))
			}
		})
		hosted.Run()
		assert.Equal(t, int64(-abi.EPERM), got[0], name)
		if !s.Confined {
			assert.Equal(t, int64(-abi.EPERM), got[1], "%s: no bus mastering for a device whose DMA is not confined", name)
		}
	}
}

// dma=unconfined on a machine without an IOMMU: the driver gets DMA memory anyway, at
// physical addresses (what measuring the IOMMU's cost needs), and may turn bus mastering on.
func TestUnconfinedDMAWithoutAnIOMMU(t *testing.T) {
	boot(t)
	iommu.UseHostNoUnit()
	require.True(t, iommu.UseIdentity())
	defer iommu.UseHostNoUnit()
	drv := driver(t, spec(4, false))
	var ret, cmd, over int64
	var iova, frame0, frame1 uint64
	drv.Thread(func(th *hosted.Thread) {
		out := drv.Map(4096)
		ret = th.Syscall(abi.SysDMAAlloc, 2*4096, uint64(out))
		iova = binary.LittleEndian.Uint64(drv.Read(out, 8))
		frame0 = drv.Space().Root().Lookup(mm.DMAWindow) & mm.PTEAddrMask
		frame1 = drv.Space().Root().Lookup(mm.DMAWindow+4096) & mm.PTEAddrMask
		over = th.Syscall(abi.SysDMAAlloc, 3*4096, uint64(out))
		cmd = th.Syscall(abi.SysDeviceConfig, 4, 2, 0x6, 1)
	})
	hosted.Run()
	assert.Equal(t, int64(mm.DMAWindow), ret)
	assert.Equal(t, frame0, iova, "the device is told the physical address")
	assert.Equal(t, frame0+4096, frame1, "physically consecutive")
	assert.Equal(t, int64(-abi.ENOMEM), over, "the quota still holds")
	assert.Zero(t, cmd, "bus mastering allowed: the driver has DMA memory")
	assert.Nil(t, iommu.ForSource(slot), "the driver's end took its domain and frames back")
}
