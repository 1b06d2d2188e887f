package appspec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormatParse(t *testing.T) {
	s := Spec{Ring: 2, Name: "hello-2", Args: []string{"a b", "", "x,y", "50%", "é", "\n"}}
	m := Format("build/apps/hello", s)
	assert.Equal(t, "build/apps/hello simpleos-app ring=2 name=hello-2 -- hello-2 a%20b % x%2Cy 50%25 %C3%A9 %0A", m)
	got, ok := Parse(m)
	require.True(t, ok)
	assert.Equal(t, s, got)
	assert.Equal(t, []string{"hello-2", "a b", "", "x,y", "50%", "é", "\n"}, got.Argv())

	got, ok = Parse("p simpleos-app ring=3 name=p -- p")
	require.True(t, ok)
	assert.Equal(t, Spec{Ring: 3, Name: "p"}, got)
}

func TestParseNotApps(t *testing.T) {
	for _, m := range []string{"", "build/simpleos.elf", "x simpleos-app ring=3 name=x --", "x simpleos-app ring=3 name=x -- y"} {
		_, ok := Parse(m)
		assert.False(t, ok, "%q", m)
	}
}

func TestValidName(t *testing.T) {
	assert.True(t, ValidName("a"))
	assert.True(t, ValidName(strings.Repeat("z", MaxNameLen)))
	assert.True(t, ValidName("A.b_c-9"))
	assert.False(t, ValidName(""))
	assert.False(t, ValidName(strings.Repeat("z", MaxNameLen+1)))
	assert.False(t, ValidName("a b"))
	assert.False(t, ValidName("a/b"))
	assert.False(t, ValidName("é"))
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(1, "a", "b c", "")
	f.Add(3, "x-y", "%", ",%,")
	f.Fuzz(func(t *testing.T, ring int, name, a1, a2 string) {
		s := Spec{Ring: ring, Name: name, Args: []string{a1, a2}}
		m := Format("p", s)
		got, ok := Parse(m)
		if len(m) > MaxLen {
			if ok {
				t.Fatalf("accepted %d bytes", len(m))
			}
			return
		}
		if ring < 1 || ring > 3 || !ValidName(name) {
			if ok {
				t.Fatalf("accepted ring %d name %q", ring, name)
			}
			return
		}
		if !ok || got.Ring != ring || got.Name != name || len(got.Args) != 2 || got.Args[0] != a1 || got.Args[1] != a2 {
			t.Fatalf("round trip of %+v gave %+v, %v", s, got, ok)
		}
	})
}
