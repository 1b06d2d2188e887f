package kernel

// Names: endpoint, event and content-file names are abi.Name everywhere in the kernel — one
// type, one comparison (abi.Name.Equal), one length limit, the ones the policy validator uses.
// A name from a task is copied in and checked once (readName): nothing the kernel compares or
// prints holds a byte outside abi.NameByte.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (except the set and
// strings helpers, which run in goroutine context).

import (
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

const maxNames = 8

// nameList is a small fixed set of names the policy grants a task.
type nameList struct {
	names [maxNames]abi.Name
	n     int
}

//go:nosplit
func (l *nameList) has(name *abi.Name) bool {
	for i := 0; i < l.n && i < maxNames; i++ {
		if l.names[i].Equal(name) {
			return true
		}
	}
	return false
}

// readName copies the name argument (va, n) of a system call into name. ok is false unless
// it is a valid name.
//
//go:nosplit
func readName(va, n uintptr, name *abi.Name) bool {
	*name = abi.Name{}
	if n == 0 || n > abi.NameMax || !curSpace().CopyIn(uintptr(unsafe.Pointer(&name.Bytes[0])), va, n) {
		return false
	}
	name.Len = uint8(n)
	return name.Valid()
}

// kputName prints a name on the kernel's console path.
//
//go:nosplit
func kputName(name *abi.Name) {
	for i := 0; i < int(name.Len) && i < abi.NameMax; i++ {
		kputc(name.Bytes[i])
	}
}

// set fills the list from the policy (goroutine context). Names beyond maxNames or that are
// not valid are dropped: the policy validator keeps manifests within both limits.
func (l *nameList) set(names []string) {
	*l = nameList{}
	for _, s := range names {
		if n, ok := abi.MakeName(s); ok && l.n < maxNames {
			l.names[l.n] = n
			l.n++
		}
	}
}

// strings returns the list's names (goroutine context).
func (l *nameList) strings() []string {
	var s []string
	for i := 0; i < l.n && i < maxNames; i++ {
		s = append(s, l.names[i].String())
	}
	return s
}
