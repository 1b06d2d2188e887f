package vfs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/simpleos/simpleos/abi"
)

func walkFrom(start, rel string) (string, int) {
	var p Path
	if !p.Set(start) {
		return "bad start", -1
	}
	var raw [abi.FSPathMax + 1]byte
	n := copy(raw[:], rel)
	e := p.walk(&raw, n)
	return p.String(), e
}

func TestWalkResolvesLikeLinux(t *testing.T) {
	for _, tc := range []struct{ start, rel, want string }{
		{"/", "/data/x", "/data/x"},
		{"/data", "x", "/data/x"},
		{"/data", "./x//y/", "/data/x/y"},
		{"/data", "../../..", "/"},
		{"/data/a", "../b", "/data/b"},
		{"/data", "/tmp/../etc", "/etc"},
		{"/", "..", "/"},
	} {
		got, e := walkFrom(tc.start, tc.rel)
		assert.Equal(t, 0, e, "%s + %s", tc.start, tc.rel)
		assert.Equal(t, tc.want, got, "%s + %s", tc.start, tc.rel)
	}
	_, e := walkFrom("/", "/"+strings.Repeat("a", 256))
	assert.Equal(t, abi.ENAMETOOLONG, e)
	_, e = walkFrom("/", strings.Repeat("/abcdefg", 130))
	assert.Equal(t, abi.ENAMETOOLONG, e)
}

func TestJoinAndUnder(t *testing.T) {
	var root, v, out Path
	root.Set("/jail")
	v.Set("/data/x")
	assert.True(t, out.join(&root, &v))
	assert.Equal(t, "/jail/data/x", out.String())
	root.Set("/")
	assert.True(t, out.join(&root, &v))
	assert.Equal(t, "/data/x", out.String())
	v.Set("/")
	root.Set("/jail")
	out.join(&root, &v)
	assert.Equal(t, "/jail", out.String())

	var p, g Path
	p.Set("/data/x")
	g.Set("/data")
	assert.True(t, p.under(&g))
	g.Set("/dat")
	assert.False(t, p.under(&g), "a prefix of a name is not its parent")
	g.Set("/")
	assert.True(t, p.under(&g))
	p.Set("/proc/self/exe")
	assert.True(t, p.under(&procPath))
}
