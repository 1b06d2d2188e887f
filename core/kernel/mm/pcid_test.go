package mm

// PCIDs on the host: QEMU's emulation offers none, so the rule that keeps a PCID's TLB entries
// true (pcid.go) is checked here against a model of the TLB — entries tagged by PCID, kept by
// a load with NoFlush, used without reading the page table — driven by the kernel's own page
// table code. A stale entry used is a page of another task, or a write to a page that is no
// longer writable: a hole between tasks that only a KVM host would show.

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/core/kernel/arch"
)

// tlbModel is a TLB with PCIDs: what a loaded space's accesses cached, by PCID and page.
type tlbModel struct {
	t       *testing.T
	entries map[uint64]map[uintptr]uint64
	pcid    uint64
	loaded  *AddressSpace
	flushes int
}

func newTLB(t *testing.T) *tlbModel {
	return &tlbModel{t: t, entries: map[uint64]map[uintptr]uint64{}}
}

// load is trapReturn and the CPU: the space's word is loaded as it is, then marked NoFlush.
func (m *tlbModel) load(as *AddressSpace) {
	w := as.CR3()
	require.Equal(m.t, uint64(as.root), w&PTEAddrMask, "the word names the space's table")
	require.Equal(m.t, uint64(as.id), w&arch.MaxPCID, "the word names the space's PCID")
	as.cr3 |= arch.NoFlush
	m.pcid, m.loaded = w&arch.MaxPCID, as
	if w&arch.NoFlush == 0 {
		delete(m.entries, m.pcid)
		m.flushes++
	}
}

// touch is an access by the loaded space: a cached entry is used as it is — and must still be
// the table's — and a missing one is walked (faulting the page in first if it must).
func (m *tlbModel) touch(va uintptr, write bool, what string) {
	as := m.loaded
	page := PageDown(va)
	if e, ok := m.entries[m.pcid][page]; ok {
		require.Equal(m.t, as.root.Lookup(page), e,
			"%s: space %d used a stale TLB entry for %#x (its table changed, its PCID was kept)", what, as.id, page)
		if !write || e&PTEWrite != 0 {
			return
		}
	}
	pte := as.root.Lookup(page)
	if pte&PTEPresent == 0 || write && pte&PTEWrite == 0 {
		if as.Fault(page, write, false) != FaultHandled {
			return // the access faults: the task would get SIGSEGV, nothing is cached
		}
		pte = as.root.Lookup(page)
	}
	if m.entries[m.pcid] == nil {
		m.entries[m.pcid] = map[uintptr]uint64{}
	}
	m.entries[m.pcid][page] = pte
}

func pcidMachine(t *testing.T) {
	t.Helper()
	freshMachine(t)
	UsePCIDs()
}

func TestAnUnchangedSpaceKeepsItsTLBAcrossSwitches(t *testing.T) {
	pcidMachine(t)
	tlb := newTLB(t)
	a, b := space(t, 1, 256), space(t, 2, 256)
	require.True(t, a.AddRegion(data, data+4*PageSize, ProtRead|ProtWrite, KindAnon))
	require.True(t, b.AddRegion(data, data+4*PageSize, ProtRead|ProtWrite, KindAnon))
	tlb.load(a)
	tlb.touch(data, true, "a")
	tlb.load(b)
	tlb.touch(data, true, "b")
	first := tlb.flushes
	assert.Equal(t, 2, first, "a space's first load flushes its PCID: an earlier space may have left entries")
	for i := 0; i < 10; i++ {
		tlb.load(a)
		tlb.touch(data+PageSize, true, "a") // a new page: mapped where nothing was, no flush
		tlb.load(b)
		tlb.touch(data, false, "b")
	}
	assert.Equal(t, first, tlb.flushes, "switches between unchanged spaces keep their entries")
	assert.NotZero(t, a.CR3()&arch.NoFlush)
}

func TestEveryChangeThatCanLeaveAStaleEntryFlushesThatSpaceOnly(t *testing.T) {
	cases := []struct {
		name   string
		change func(t *testing.T, a *AddressSpace)
	}{
		{"munmap", func(t *testing.T, a *AddressSpace) { a.UnmapRange(data, data+PageSize) }},
		{"mprotect read-only", func(t *testing.T, a *AddressSpace) { a.ProtectRange(data, data+PageSize, ProtRead) }},
		{"snapshot (copy-on-write)", func(t *testing.T, a *AddressSpace) {
			_, why := TakeSnapshot(a, 0, 256)
			require.Equal(t, SnapOK, why)
		}},
		{"grant revoked", func(t *testing.T, a *AddressSpace) {
			other := space(t, 3, 64)
			require.True(t, other.AddRegion(data, data+PageSize, ProtRead|ProtWrite, KindAnon))
			l, ok := Lend(other, a, data, 1, GrantWindow, false)
			require.True(t, ok)
			require.NotZero(t, a.CR3()&arch.NoFlush, "a new mapping leaves the word alone")
			l.End()
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pcidMachine(t)
			tlb := newTLB(t)
			a, b := space(t, 1, 256), space(t, 2, 256)
			require.True(t, a.AddRegion(data, data+PageSize, ProtRead|ProtWrite, KindAnon))
			tlb.load(b)
			tlb.load(a)
			tlb.touch(data, true, "a")
			c.change(t, a)
			assert.Zero(t, a.CR3()&arch.NoFlush, "the changed space's next load flushes")
			assert.NotZero(t, b.CR3()&arch.NoFlush, "another space keeps its entries")
			tlb.load(a)
			tlb.touch(data, true, "a after the change")
		})
	}
}

func TestANewSpaceInAnOldIndexStartsWithAFlush(t *testing.T) {
	pcidMachine(t)
	tlb := newTLB(t)
	a := space(t, 1, 256)
	require.True(t, a.AddRegion(data, data+PageSize, ProtRead|ProtWrite, KindAnon))
	tlb.load(a)
	tlb.touch(data, true, "a")
	a.Destroy()
	a = space(t, 1, 256) // same index, same PCID; its frames may be the old one's
	require.True(t, a.AddRegion(data, data+PageSize, ProtRead|ProtWrite, KindAnon))
	assert.Zero(t, a.CR3()&arch.NoFlush)
	tlb.load(a)
	tlb.touch(data, true, "the new a")
}

func TestWithoutPCIDsAWordIsTheTableAlone(t *testing.T) {
	freshMachine(t) // PCIDs off, as under TCG
	a := space(t, 5, 64)
	assert.Equal(t, uint64(a.Root()), a.CR3(), "no PCID in CR3's low bits (they are PWT and PCD then), no NoFlush")
}

// TestRandomChangesNeverLeaveAStaleEntryInUse runs the kernel's page-table changes at random
// between switches of three spaces and checks every access against the model.
func TestRandomChangesNeverLeaveAStaleEntryInUse(t *testing.T) {
	pcidMachine(t)
	tlb := newTLB(t)
	const pages = 8
	var spaces [4]*AddressSpace
	fresh := func(i int32) {
		spaces[i] = space(t, i, 512)
		require.True(t, spaces[i].AddRegion(data, data+pages*PageSize, ProtRead|ProtWrite, KindAnon))
	}
	for i := int32(1); i <= 3; i++ {
		fresh(i)
	}
	rng := rand.New(rand.NewSource(15))
	var loans []Loan
	for step := 0; step < 20_000; step++ {
		i := int32(1 + rng.Intn(3))
		as := spaces[i]
		page := data + uintptr(rng.Intn(pages))*PageSize
		what := fmt.Sprintf("step %d", step)
		op := rng.Intn(100)
		switch {
		case op < 30:
			tlb.load(as)
		case op < 70:
			if tlb.loaded != nil {
				tlb.touch(data+uintptr(rng.Intn(pages))*PageSize, rng.Intn(2) == 0, what)
			}
		case op < 78:
			n := uintptr(1 + rng.Intn(3))
			as.UnmapRange(page, min(page+n*PageSize, data+pages*PageSize))
		case op < 86:
			prot := uint32(ProtRead)
			if rng.Intn(2) == 0 {
				prot |= ProtWrite
			}
			as.ProtectRange(page, page+PageSize, prot)
		case op < 89:
			if id, why := TakeSnapshot(as, int(i), 512); why == SnapOK {
				DropSnapshot(id)
			}
		case op < 95:
			other := spaces[1+(i%3)]
			if l, ok := Lend(other, as, page, 1, GrantWindow+uintptr(len(loans))*PageSize, false); ok {
				loans = append(loans, l)
			} else if len(loans) > 0 {
				loans[0].End()
				loans = loans[1:]
			}
		case op < 97:
			for _, l := range loans {
				l.End()
			}
			loans = nil
		default:
			for _, l := range loans {
				l.End()
			}
			loans = nil
			if tlb.loaded == as {
				tlb.loaded = nil // a space is destroyed only when none of its threads runs
			}
			as.Destroy()
			fresh(i)
		}
		if op >= 70 && tlb.loaded != nil {
			tlb.load(tlb.loaded) // the change was the kernel's: the way back loads CR3 again
		}
	}
	assert.Greater(t, tlb.flushes, 10)
}
