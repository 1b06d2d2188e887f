package ipc

import (
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"

	"github.com/simpleos/simpleos/abi"
)

// On the host (Linux) the calls fail with ENOSYS; the behaviour under SimpleOS is covered by
// the QEMU tests in tests/ipc_test.go.

func TestMessageLayoutIsTheABIs(t *testing.T) {
	assert.Equal(t, uintptr(abi.MessageSize), unsafe.Sizeof(Msg{}), "the kernel copies abi.MessageSize bytes")
	assert.Equal(t, uintptr(abi.EventSize), unsafe.Sizeof(Event{}))
}

func TestErrnoMapping(t *testing.T) {
	assert.Equal(t, ErrPeerDied, errnoErr(syscall.ECONNRESET))
	assert.Equal(t, ErrTimeout, errnoErr(syscall.ETIMEDOUT))
	assert.Equal(t, ErrDenied, errnoErr(syscall.EPERM))
	assert.Equal(t, ErrNotFound, errnoErr(syscall.ENOENT))
	assert.Equal(t, ErrExists, errnoErr(syscall.EEXIST))
	assert.NoError(t, errnoErr(0))
	assert.Equal(t, syscall.EFAULT, errnoErr(syscall.EFAULT))
}

func TestNamesAreBounded(t *testing.T) {
	_, err := Register("")
	assert.Error(t, err)
	_, err = Lookup("a-name-that-is-longer-than-thirty-two-bytes")
	assert.Error(t, err)
}

func TestGrantIgnoresTheWriteFlag(t *testing.T) {
	// The address is the core's grant window, not Go memory: the slice is never touched here.
	const window = 0x7f0000000000
	for _, pages := range []uint64{2, 2 | abi.GrantWrite} {
		g := GrantOf(&abi.Message{GrantAddr: window, GrantPages: pages})
		assert.Len(t, g, 2*4096)
		assert.Equal(t, uintptr(window), uintptr(unsafe.Pointer(unsafe.SliceData(g))))
	}
	assert.Nil(t, GrantOf(&abi.Message{GrantAddr: window}))
	assert.Nil(t, GrantOf(&abi.Message{GrantAddr: window, GrantPages: abi.GrantWrite}))
}

func TestReplyRecvFSOffSimpleOS(t *testing.T) {
	var req abi.FSRequest
	assert.Equal(t, uintptr(abi.FSRequestSize), unsafe.Sizeof(req), "the core writes abi.FSRequestSize bytes")
	assert.Error(t, (&Endpoint{}).ReplyRecvFS(&req)) // ENOSYS on the host
}
