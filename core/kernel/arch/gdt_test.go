package arch

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDescriptors(t *testing.T) {
	assert.Equal(t, uint64(0x00af9b000000ffff), codeDescriptor(0))
	assert.Equal(t, uint64(0x00affb000000ffff), codeDescriptor(3))
	assert.Equal(t, uint64(0x00cff3000000ffff), dataDescriptor(3))
	lo, hi := tssDescriptor(0xffff_8000_1234_5678, 103)
	assert.Equal(t, uint64(0x12_00_89_34_5678_0067), lo)
	assert.Equal(t, uint64(0xffff8000), hi)
}
