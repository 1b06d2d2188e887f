package kernel

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"

	"github.com/simpleos/simpleos/core/kernel/arch"
)

//go:nosplit
func nosplitHandler(tf *arch.TrapFrame) bool { return tf != nil }

//go:noinline
func splittableHandler(tf *arch.TrapFrame) bool {
	var buf [512]byte
	buf[tf.Vector%512] = 1
	return buf[3] == 1 || recurse(int(tf.Vector)) > 0
}

//go:noinline
func recurse(n int) int {
	if n == 0 {
		return 0
	}
	return recurse(n-1) + 1
}

func codeOf(h Handler) uintptr { return **(**uintptr)(unsafe.Pointer(&h)) }

func TestHandlersMustBeNosplit(t *testing.T) {
	assert.True(t, arch.NosplitCode(codeOf(nosplitHandler)))
	assert.False(t, arch.NosplitCode(codeOf(splittableHandler)), "a stack check at entry")
}
