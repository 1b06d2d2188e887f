package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilesRootAndCwd(t *testing.T) {
	src := "module tester\n binary ring3/app\n ring 3\n files /pkg/regexp ro\n files /tmp rw\n root /jail\n cwd /pkg/regexp\nend\n"
	m, err := Parse("t.policy", []byte(src))
	require.NoError(t, err)
	mod, ok := m.Module("tester")
	require.True(t, ok)
	assert.Equal(t, []PathGrant{{"/pkg/regexp", false}, {"/tmp", true}}, mod.Files)
	assert.Equal(t, []string{"/pkg/regexp", "/tmp:rw"}, mod.FileGrants())
	assert.Equal(t, "/jail", mod.Root)
	assert.Equal(t, "/pkg/regexp", mod.Cwd)
}

func TestBadFilesStatements(t *testing.T) {
	for _, tc := range []struct{ stmt, want string }{
		{"files data rw", "rule path"},
		{"files /data/../etc rw", "rule path"},
		{"files /data rwx", "want ro or rw"},
		{"files /data", "syntax"},
		{"root relative", "rule path"},
		{"cwd /a//b", "rule path"},
	} {
		src := "module tester\n binary ring3/app\n ring 3\n " + tc.stmt + "\nend\n"
		_, err := Parse("t.policy", []byte(src))
		require.Error(t, err, tc.stmt)
		assert.Contains(t, err.Error(), tc.want, tc.stmt)
	}
	src := "module tester\n binary ring3/app\n ring 3\n"
	for _, p := range []string{"/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i"} {
		src += " files " + p + " ro\n"
	}
	_, err := Parse("t.policy", []byte(src+"end\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "files-count")
}
