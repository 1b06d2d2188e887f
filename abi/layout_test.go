package abi

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// The layouts are what the kernel copies, byte for byte: the sizes and the offsets that the
// eBPF filters' context and the grant checks rely on.
func TestLayouts(t *testing.T) {
	var m Message
	assert.Equal(t, uintptr(MessageSize), unsafe.Sizeof(m))
	assert.Equal(t, uintptr(40), unsafe.Offsetof(m.Badge))
	assert.Equal(t, uintptr(48), unsafe.Offsetof(m.GrantAddr))
	assert.Equal(t, uintptr(56), unsafe.Offsetof(m.GrantPages))
	var e Event
	assert.Equal(t, uintptr(EventSize), unsafe.Sizeof(e))
	assert.Equal(t, uintptr(16), unsafe.Offsetof(e.Args))
}

func TestDeviceInfoSize(t *testing.T) {
	assert.Equal(t, uintptr(DeviceInfoSize), unsafe.Sizeof(DeviceInfo{}))
}
