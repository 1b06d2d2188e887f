package sys

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"

	"github.com/simpleos/simpleos/abi"
)

// The kernel's table and the ABI package name the same calls with the same numbers: what the
// fuzzer describes from abi.Calls is what the kernel serves, and nothing else.
func TestSyscallTableMatchesABI(t *testing.T) {
	byName := map[string]uintptr{}
	for _, c := range abi.Calls {
		byName[c.Name] = c.Nr
	}
	served := 0
	for nr, e := range Table {
		if e.Handler == nil {
			assert.Empty(t, e.Name, "entry %d has a name and no handler", nr)
			continue
		}
		served++
		n, ok := byName[e.Name]
		if assert.True(t, ok, "the kernel serves %s (%d), which abi.Calls does not list", e.Name, nr) {
			assert.Equal(t, uintptr(nr), n, e.Name)
		}
		own := uintptr(nr) >= abi.SimpleOSFirst
		assert.Equal(t, own, e.Support == Own, "%s: SimpleOS's own calls, and only they, are Own", e.Name)
		if e.Support == Stub || e.Support == Partial {
			assert.NotEmpty(t, e.Note, "%s: a stub or partial call says what it leaves out", e.Name)
		}
	}
	assert.Equal(t, len(abi.Calls), served, "abi.Calls lists calls the kernel does not serve")
}

// core/trapcheck reads the table from the binary with this layout.
func TestSyscallTableLayoutIsTheCheckersOne(t *testing.T) {
	var e Entry
	assert.Equal(t, uintptr(EntrySize), unsafe.Sizeof(e))
	assert.Equal(t, uintptr(HandlerOffset), unsafe.Offsetof(e.Handler))
}
