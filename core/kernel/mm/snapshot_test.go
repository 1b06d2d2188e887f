package mm

// Snapshots on the host: taking one leaves the task mapping its pages copy-on-write, restoring
// gives a fresh space the same memory without copying it, writes copy, and every frame comes
// back.

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const stackPage = UserStackTop - PageSize

// snapshotted builds space 1 with data in two regions (one 3 pages into a 16-page region, one
// on the stack) and takes its snapshot.
func snapshotted(t *testing.T) (*AddressSpace, SnapID, []byte) {
	t.Helper()
	return snapshottedWithin(t, 256)
}

// snapshottedWithin is snapshotted with the snapshot's frames limited to limit.
func snapshottedWithin(t *testing.T, limit int64) (*AddressSpace, SnapID, []byte) {
	t.Helper()
	as := space(t, 1, 256)
	require.True(t, as.AddRegion(data, data+16*PageSize, ProtRead|ProtWrite, KindAnon))
	require.True(t, as.AddRegion(UserStackTop-4*PageSize, UserStackTop, ProtRead|ProtWrite, KindAnon))
	msg := bytes.Repeat([]byte("snapshot "), 1200) // 10,800 bytes: three pages
	require.True(t, as.CopyOut(data, addr(msg), uintptr(len(msg))))
	require.True(t, as.Write64(stackPage, 0x5afe))
	held := as.Mem().Held()
	id, why := TakeSnapshot(as, 0, limit)
	require.Equal(t, SnapOK, why)
	assert.Equal(t, uint64(4), id.Pages())
	assert.Zero(t, as.Resident(), "its pages are the snapshot's now")
	assert.Equal(t, held-4, as.Mem().Held(), "and so is their charge")
	return as, id, msg
}

func read(t *testing.T, as *AddressSpace, va uintptr, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	require.True(t, as.CopyIn(addr(b), va, uintptr(n)))
	return b
}

func TestSnapshotLeavesTheTaskCopyOnWrite(t *testing.T) {
	freshMachine(t)
	before := Frames().Free
	as, id, msg := snapshotted(t)
	pte := as.root.Lookup(data)
	assert.NotZero(t, pte&PTECOW)
	assert.Zero(t, pte&(PTEWrite|PTEOwned), "read-only, and not the task's to free")
	assert.Equal(t, msg, read(t, as, data, len(msg)), "the task still reads its memory")

	frame := pte & PTEAddrMask
	require.True(t, as.CopyOut(data+8, addr([]byte("written!")), 8))
	after := as.root.Lookup(data)
	assert.NotEqual(t, frame, after&PTEAddrMask, "a write copies the page first")
	assert.NotZero(t, after&PTEWrite)
	assert.Zero(t, after&PTECOW)
	assert.Equal(t, msg[:8], readFrame(frame, 8), "the snapshot's frame is unchanged")
	assert.Equal(t, uint64(1), as.Resident())

	as.ProtectRange(data+PageSize, data+2*PageSize, ProtRead|ProtWrite)
	assert.Zero(t, as.root.Lookup(data+PageSize)&PTEWrite, "mprotect never makes a snapshot's page writable")
	assert.Equal(t, FaultHandled, as.Fault(data+PageSize, true, false))
	assert.Equal(t, FaultAccErr, as.Fault(data+3*PageSize+1, false, true), "no exec on a data page")

	as.Destroy()
	assert.True(t, id.Valid(), "the snapshot outlives its first instance")
	DropSnapshot(id)
	assert.False(t, id.Valid())
	assert.Equal(t, before, Frames().Free, "every frame comes back")
}

func readFrame(pa uint64, n int) []byte {
	b := make([]byte, n)
	copy(b, unsafeBytes(DirectMap(pa), n))
	return b
}

func TestRestoredSpacesShareNoWritableMemory(t *testing.T) {
	freshMachine(t)
	before := Frames().Free
	first, id, msg := snapshotted(t)
	first.Destroy()
	one, two := space(t, 2, 256), space(t, 3, 256)
	require.True(t, RestoreSnapshot(id, one))
	require.True(t, RestoreSnapshot(id, two))
	assert.False(t, RestoreSnapshot(id, two), "a space is restored once")
	assert.Equal(t, first.n, 0)
	for _, as := range []*AddressSpace{one, two} {
		assert.Equal(t, msg, read(t, as, data, len(msg)))
		v, ok := as.Read64(stackPage)
		require.True(t, ok)
		assert.Equal(t, uint64(0x5afe), v)
		assert.Equal(t, 2, as.Regions())
	}
	require.True(t, one.Write64(data, 1))
	require.True(t, two.Write64(data, 2))
	a, _ := one.Read64(data)
	b, _ := two.Read64(data)
	assert.Equal(t, []uint64{1, 2}, []uint64{a, b}, "each instance writes its own copy")
	assert.NotEqual(t, one.root.Lookup(data)&PTEAddrMask, two.root.Lookup(data)&PTEAddrMask)
	for va, e, ok := one.root.nextPresent(0); ok; va, e, ok = one.root.nextPresent(va + PageSize) {
		if v := arch64(e); v&PTEWrite != 0 {
			assert.NotEqual(t, v&PTEAddrMask, two.root.Lookup(va)&PTEAddrMask, "a writable page of one is never mapped by the other")
		}
	}
	// Demand-zero memory the snapshot never had is still demand-zero.
	z, ok := one.Read64(data + 10*PageSize)
	assert.True(t, ok)
	assert.Zero(t, z)

	DropSnapshot(id)
	assert.False(t, RestoreSnapshot(id, space(t, 4, 256)), "a dropped snapshot restores nothing")
	Space(4).Destroy()
	one.Destroy()
	assert.NotEqual(t, before, Frames().Free, "the snapshot lives while two maps it")
	two.Destroy()
	assert.Equal(t, before, Frames().Free, "the last user frees it")
}

func TestRestoringAThousandTimesLeaksNoFrame(t *testing.T) {
	freshMachine(t)
	first, id, _ := snapshotted(t)
	first.Destroy()
	base := Frames().Free
	for i := 0; i < 1000; i++ {
		as := space(t, 2, 256)
		require.True(t, RestoreSnapshot(id, as))
		require.True(t, as.Write64(data+uintptr(i%3)*PageSize, uint64(i)))
		require.True(t, as.Write64(data+12*PageSize, uint64(i)))
		as.Destroy()
	}
	assert.Equal(t, base, Frames().Free)
	DropSnapshot(id)
}

func TestSnapshotRefusesForeignPagesAndLeavesTheSpaceAlone(t *testing.T) {
	freshMachine(t)
	lender, borrower := space(t, 1, 256), space(t, 2, 256)
	require.True(t, lender.AddRegion(data, data+PageSize, ProtRead|ProtWrite, KindAnon))
	require.True(t, lender.Write64(data, 7))
	ln, ok := Lend(lender, borrower, data, 1, GrantWindow, false)
	require.True(t, ok)
	_, why := TakeSnapshot(borrower, 0, 256)
	assert.Equal(t, SnapRegions, why, "a space holding a grant is not snapshotted")
	ln.End()
	require.True(t, borrower.MapDevice(data, 0xfe000000, 1))
	_, why = TakeSnapshot(borrower, 0, 256)
	assert.Equal(t, SnapForeign, why)
	assert.NotZero(t, borrower.root.Lookup(data)&PTEPresent)
	lender.Destroy()
	borrower.Destroy()
}

func TestSnapshotLimitAndSlots(t *testing.T) {
	freshMachine(t)
	as := space(t, 1, 256)
	require.True(t, as.AddRegion(data, data+16*PageSize, ProtRead|ProtWrite, KindAnon))
	for i := uintptr(0); i < 8; i++ {
		require.True(t, as.Write64(data+i*PageSize, 1))
	}
	_, why := TakeSnapshot(as, 0, 4)
	assert.Equal(t, SnapNoMemory, why, "a snapshot is bounded by its limit")
	assert.Equal(t, uint64(8), as.Resident(), "and a refusal changes nothing")
	assert.NotZero(t, as.root.Lookup(data)&PTEWrite)
	id, why := TakeSnapshot(as, 0, 256)
	require.Equal(t, SnapOK, why)
	_, why = TakeSnapshot(as, 0, 256)
	assert.Equal(t, SnapForeign, why, "a space snapshots once")
	as.Destroy()
	DropSnapshot(id)
	DropSnapshot(id) // twice: nothing more
}

func unsafeBytes(va uintptr, n int) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(va)), n) }

func arch64(e uintptr) uint64 { return *(*uint64)(unsafe.Pointer(e)) }

func TestSnapshotPromisesNothingTwice(t *testing.T) {
	freshMachine(t)
	before := FramePool
	as := space(t, 1, 256) // 128 frames reserved
	require.True(t, as.AddRegion(data, data+16*PageSize, ProtRead|ProtWrite, KindAnon))
	for i := uintptr(0); i < 16; i++ {
		require.True(t, as.Write64(data+i*PageSize, uint64(i)))
	}
	used, promised := FramePool.used, FramePool.promised
	id, why := TakeSnapshot(as, 0, 256)
	require.Equal(t, SnapOK, why)
	tables := id.Frames() - int64(id.Pages())
	assert.Equal(t, int64(5), tables, "its own PML4, PDPT, PD, one leaf table and the instances' template of it")
	assert.Equal(t, used+tables, FramePool.used, "the moved pages stay taken; only its tables are new")
	assert.LessOrEqual(t, FramePool.promised, promised, "and are not promised to the task again")
	assert.LessOrEqual(t, FramePool.used+FramePool.promised+FramePool.Keep, FramePool.Total)
	as.Destroy()
	DropSnapshot(id)
	assert.Equal(t, before.used, FramePool.used)
	assert.Equal(t, before.promised, FramePool.promised, "every promise withdrawn")
}

// A snapshot whose limit leaves no room for the instances' template leaf tables is still
// taken, and its instances get their leaf tables entry by entry: the same memory.
func TestRestoreWithoutTemplateLeaves(t *testing.T) {
	freshMachine(t)
	first, id, _ := snapshotted(t)
	s, _ := id.slot()
	require.Equal(t, 2, s.nLeaves, "the data and the stack: two leaf tables, two templates")
	full := id.Frames()
	first.Destroy()
	DropSnapshot(id)

	freshMachine(t)
	before := Frames().Free
	first, id, msg := snapshottedWithin(t, full-1)
	s, _ = id.slot()
	require.Equal(t, -1, s.nLeaves, "no room for both templates: none")
	assert.Equal(t, full-2, id.Frames())
	first.Destroy()
	one := space(t, 2, 256)
	require.True(t, RestoreSnapshot(id, one))
	assert.Equal(t, msg, read(t, one, data, len(msg)))
	v, ok := one.Read64(stackPage)
	require.True(t, ok)
	assert.Equal(t, uint64(0x5afe), v)
	assert.NotZero(t, one.root.Lookup(data)&PTECOW)
	require.True(t, one.Write64(data, 7))
	assert.Equal(t, msg[:8], readFrame(s.root.Lookup(data)&PTEAddrMask, 8), "the snapshot's frame is unchanged")
	one.Destroy()
	DropSnapshot(id)
	assert.Equal(t, before, Frames().Free)
}

// A pinned page (an IPC buffer) is the kernel's to write through the direct map: a snapshot
// ends the pin (its page turns copy-on-write), and pinning it again copies the page first, so
// what the kernel writes never reaches the snapshot.
func TestSnapshotEndsPinsAndARepinWritesACopy(t *testing.T) {
	freshMachine(t)
	as := space(t, 1, 256)
	require.True(t, as.AddRegion(data, data+2*PageSize, ProtRead|ProtWrite, KindAnon))
	require.True(t, as.Write64(data, 0x5afe))
	pin, ok := Pin(as, data)
	require.True(t, ok)
	kaddr, ok := pin.Pinned()
	require.True(t, ok)
	id, why := TakeSnapshot(as, 0, 256)
	require.Equal(t, SnapOK, why, "a pinned page does not stop a snapshot")
	_, ok = pin.Pinned()
	assert.False(t, ok, "the snapshot ended the pin")
	again, ok := Pin(as, data)
	require.True(t, ok)
	k2, ok := again.Pinned()
	require.True(t, ok)
	assert.NotEqual(t, kaddr, k2, "pinned again: a private copy, not the snapshot's frame")
	*(*uint64)(unsafe.Pointer(k2)) = 0xbad
	fresh := space(t, 2, 256)
	require.True(t, RestoreSnapshot(id, fresh))
	v, ok := fresh.Read64(data)
	require.True(t, ok)
	assert.Equal(t, uint64(0x5afe), v, "the kernel's write never reached the snapshot")
	_, ok = Pin(as, data+8)
	assert.False(t, ok, "not page-aligned")
	fresh.Destroy()
	as.Destroy()
	_, ok = again.Pinned()
	assert.False(t, ok, "the space's end ends its pins")
	DropSnapshot(id)
}

// Pins share the loan table: when it is full a pin (an IPC buffer's registration) and a loan
// are refused, nothing half made, and ending one pin makes room again.
func TestPinsExhaustTheLoanTableCleanly(t *testing.T) {
	freshMachine(t)
	as := space(t, 1, maxLoans+64)
	require.True(t, as.AddRegion(data, data+(maxLoans+1)*PageSize, ProtRead|ProtWrite, KindAnon))
	other := space(t, 2, 64)
	pins := make([]Loan, 0, maxLoans)
	for i := 0; i < maxLoans; i++ {
		p, ok := Pin(as, data+uintptr(i)*PageSize)
		require.True(t, ok, "pin %d", i)
		pins = append(pins, p)
	}
	_, ok := Pin(as, data+maxLoans*PageSize)
	assert.False(t, ok, "the table is full")
	_, ok = Lend(as, other, data, 1, GrantWindow, false)
	assert.False(t, ok, "no loan either")
	assert.Zero(t, other.root.Lookup(GrantWindow), "and nothing mapped for it")
	pins[7].End()
	p, ok := Pin(as, data+maxLoans*PageSize)
	assert.True(t, ok, "an ended pin's slot is free again")
	p.End()
	other.Destroy()
	as.Destroy()
	for _, p := range pins {
		_, ok := p.Pinned()
		assert.False(t, ok, "the space's end ends its pins")
	}
}
