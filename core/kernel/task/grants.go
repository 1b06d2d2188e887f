package task

// Grants: what a task's policy module lets it use. The kernel checks every request against
// them (the services do, with the task in hand); a task the policy does not list has none.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (but Set, which runs
// in goroutine context).

import (
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// MaxNames bounds each name list of a policy module.
const MaxNames = abi.MaxPolicyNames

// MaxMMIO bounds the device-memory ranges of a policy module.
const MaxMMIO = 4

// MaxIRQs is the number of interrupt lines the kernel routes: the I/O APIC's inputs
// (0 to IOAPICLines-1) and, above them, message-signalled lines for PCI devices (pcidev).
const MaxIRQs = 32

// IOAPICLines is the number of I/O APIC inputs.
const IOAPICLines = 24

// Grants is a task's policy.
type Grants struct {
	Serves, Calls   NameList // endpoints it may register, and call
	Listen, Publish NameList // events it may subscribe to (ring 2), and publish
	Content         NameList // content files it may read and write
	IRQs            uint32   // interrupt lines delivered to it, one bit each
	MMIO            [MaxMMIO][2]uint64
	NMMIO           int // device memory it may map: [lo, hi) physical ranges
}

// NameList is a small fixed set of names.
type NameList struct {
	names [MaxNames]abi.Name
	n     int
}

// Has reports whether name is in the list: abi.Name.Equal, the one comparison of names.
//
//go:nosplit
func (l *NameList) Has(name *abi.Name) bool {
	for i := 0; i < l.n && i < MaxNames; i++ {
		if l.names[i].Equal(name) {
			return true
		}
	}
	return false
}

// Len is how many names the list holds; At returns name i.
//
//go:nosplit
func (l *NameList) Len() int { return l.n }

//go:nosplit
func (l *NameList) At(i int) *abi.Name { return &l.names[i&(MaxNames-1)] }

// Set fills the list from the policy (goroutine context). Names beyond MaxNames or that are
// not valid are dropped: the policy validator keeps manifests within both limits.
func (l *NameList) Set(names []string) {
	*l = NameList{}
	for _, s := range names {
		if n, ok := abi.MakeName(s); ok && l.n < MaxNames {
			l.names[l.n] = n
			l.n++
		}
	}
}

// MayMap reports whether [phys, phys+n) lies in one of the device-memory ranges granted.
//
//go:nosplit
func (g *Grants) MayMap(phys, n uint64) bool {
	for i := 0; i < g.NMMIO && i < MaxMMIO; i++ {
		if phys >= g.MMIO[i][0] && phys+n <= g.MMIO[i][1] {
			return true
		}
	}
	return false
}

// ReadName copies the name argument (va, n) of a system call from as into name. ok is false
// unless it is a valid name: nothing the kernel compares or prints holds a byte outside
// abi.NameByte.
//
//go:nosplit
func ReadName(as *mm.AddressSpace, va, n uintptr, name *abi.Name) bool {
	*name = abi.Name{}
	if n == 0 || n > abi.NameMax || !as.CopyIn(uintptr(unsafe.Pointer(&name.Bytes[0])), va, n) {
		return false
	}
	name.Len = uint8(n)
	return name.Valid()
}
