package kernel

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
	for nr, e := range syscallTable {
		if e.fn == nil {
			assert.Empty(t, e.name, "entry %d has a name and no handler", nr)
			continue
		}
		served++
		n, ok := byName[e.name]
		if assert.True(t, ok, "the kernel serves %s (%d), which abi.Calls does not list", e.name, nr) {
			assert.Equal(t, uintptr(nr), n, e.name)
		}
		own := uintptr(nr) >= abi.SimpleOSFirst
		assert.Equal(t, own, e.support == Own, "%s: SimpleOS's own calls, and only they, are Own", e.name)
		if e.support == Stub || e.support == Partial {
			assert.NotEmpty(t, e.note, "%s: a stub or partial call says what it leaves out", e.name)
		}
	}
	assert.Equal(t, len(abi.Calls), served, "abi.Calls lists calls the kernel does not serve")
}

// core/trapcheck reads the table from the binary with this layout.
func TestSyscallTableLayoutIsTheCheckersOne(t *testing.T) {
	var e syscallEntry
	assert.Equal(t, uintptr(48), unsafe.Sizeof(e), "core/trapcheck's Tables stride")
	assert.Equal(t, uintptr(16), unsafe.Offsetof(e.fn), "core/trapcheck's Tables FnOffset")
}
