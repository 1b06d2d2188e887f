package kernel

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/simpleos/simpleos/abi"
)

// The kernel's table and the ABI package name the same calls with the same numbers: what the
// fuzzer describes from abi.Calls is what the kernel serves.
func TestSyscallTableMatchesABI(t *testing.T) {
	byName := map[string]uintptr{}
	for _, c := range abi.Calls {
		byName[c.Name] = c.Nr
	}
	served := 0
	for nr, d := range syscallTable {
		if d.fn == nil {
			continue
		}
		served++
		n, ok := byName[d.name]
		if assert.True(t, ok, "the kernel serves %s (%d), which abi.Calls does not list", d.name, nr) {
			assert.Equal(t, uintptr(nr), n, d.name)
		}
	}
	linux := 0
	for _, c := range abi.Calls {
		if c.Nr < abi.SimpleOSFirst {
			linux++
		}
	}
	assert.Equal(t, linux, served, "abi.Calls lists Linux calls the kernel does not serve")
	for i, d := range ipcCalls {
		assert.Equal(t, uintptr(abi.SysIPCRegister+i), byName[d.name], d.name)
	}
}
