package kernel

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// FuzzIPCMessage decodes arbitrary bytes as a call message the way sysIPCCall does: the badge
// is always the sender's pid, and an accepted page grant is always whole pages of the lower
// half, at most maxGrantPages.
func FuzzIPCMessage(f *testing.F) {
	f.Add(make([]byte, msgSize), int32(7))
	seed := make([]byte, msgSize)
	seed[48], seed[49], seed[56] = 0x00, 0x10, 3 // grant 3 pages at 0x1000
	f.Add(seed, int32(9))
	f.Fuzz(func(t *testing.T, data []byte, pid int32) {
		var m ipcMsg
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&m)), msgSize), data)
		label, words := m.label, m.words
		r := checkCall(&m, pid)
		assert.Equal(t, uint64(pid), m.badge, "the badge is the sender's pid")
		assert.Equal(t, label, m.label)
		assert.Equal(t, words, m.words)
		if r != 0 {
			assert.Equal(t, int64(-EINVAL), r)
			return
		}
		if m.grantPages == 0 {
			assert.Zero(t, m.grantAddr)
			return
		}
		assert.LessOrEqual(t, m.grantPages, uint64(maxGrantPages))
		assert.Zero(t, m.grantAddr%pageSize)
		assert.GreaterOrEqual(t, m.grantAddr, uint64(pageSize))
		assert.LessOrEqual(t, m.grantAddr+m.grantPages*pageSize, uint64(userTop))
	})
}

func TestMessageLayout(t *testing.T) {
	assert.Equal(t, uintptr(msgSize), unsafe.Sizeof(ipcMsg{}))
	assert.Equal(t, uintptr(40), unsafe.Offsetof(ipcMsg{}.badge))
	assert.Equal(t, uintptr(48), unsafe.Offsetof(ipcMsg{}.grantAddr))
}
