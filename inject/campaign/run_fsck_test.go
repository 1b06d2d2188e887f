package campaign

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOnlyLostClusters(t *testing.T) {
	assert.True(t, OnlyLostClusters("fsck.fat 4.2 (2021-01-31)\nReclaimed 2 unused clusters (1024 bytes).\n\nLeaving filesystem unchanged.\n/x.img: 3 files, 393/129022 clusters\n"))
	assert.True(t, OnlyLostClusters("fsck.fat 4.2 (2021-01-31)\nFATs differ but appear to be intact.\n  Using first FAT.\nReclaimed 37 unused clusters (18944 bytes).\nFree cluster summary wrong (128237 vs. really 128342)\n  Auto-correcting.\n"))
	assert.True(t, OnlyLostClusters("/data/a\n  File size is 512 bytes, cluster chain length is 1024 bytes.\n  Truncating file to 512 bytes.\n"))
	assert.False(t, OnlyLostClusters("/data/a\n  File size is 4096 bytes, cluster chain length is 1024 bytes.\n  Truncating file to 1024 bytes.\n"))
	assert.False(t, OnlyLostClusters("Cluster 202 out of range (4194304 > 129023). Setting to EOF.\n"))
}
