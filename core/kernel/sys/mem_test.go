package sys

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/simpleos/simpleos/core/kernel/mm"
)

func TestProtOf(t *testing.T) {
	p, ok := protOf(2)
	assert.True(t, ok)
	assert.Equal(t, uint32(mm.ProtRead|mm.ProtWrite), p, "write implies read on x86")
	_, ok = protOf(8)
	assert.False(t, ok)
}
