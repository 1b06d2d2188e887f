package ipc

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/mm"
)

// FuzzIPCMessage decodes arbitrary bytes as a call message the way sysIPCCall does: the badge
// is always the sender's pid, and an accepted page grant is always whole pages of the lower
// half, at most abi.MaxGrantPages.
func FuzzIPCMessage(f *testing.F) {
	f.Add(make([]byte, abi.MessageSize), int32(7))
	seed := make([]byte, abi.MessageSize)
	seed[48], seed[49], seed[56] = 0x00, 0x10, 3 // grant 3 pages at 0x1000
	f.Add(seed, int32(9))
	f.Fuzz(func(t *testing.T, data []byte, pid int32) {
		var m abi.Message
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&m)), abi.MessageSize), data)
		label, words := m.Label, m.Words
		r := checkCall(&m, pid)
		assert.Equal(t, uint64(pid), m.Badge, "the badge is the sender's pid")
		assert.Equal(t, label, m.Label)
		assert.Equal(t, words, m.Words)
		if r != 0 {
			assert.Equal(t, int64(-abi.EINVAL), r)
			return
		}
		if m.GrantPages == 0 {
			assert.Zero(t, m.GrantAddr)
			return
		}
		assert.LessOrEqual(t, m.GrantPages, uint64(abi.MaxGrantPages))
		assert.Zero(t, m.GrantAddr%mm.PageSize)
		assert.GreaterOrEqual(t, m.GrantAddr, uint64(mm.PageSize))
		assert.LessOrEqual(t, m.GrantAddr+m.GrantPages*mm.PageSize, uint64(mm.UserTop))
	})
}

func TestMessageLayout(t *testing.T) {
	assert.Equal(t, uintptr(abi.MessageSize), unsafe.Sizeof(abi.Message{}))
	assert.Equal(t, uintptr(40), unsafe.Offsetof(abi.Message{}.Badge))
	assert.Equal(t, uintptr(48), unsafe.Offsetof(abi.Message{}.GrantAddr))
}
