package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics, and a manifest that parses validates again without errors,
// formats to text that parses to the same modules, and formats the same way again.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bad/*.policy")
	seeds = append(seeds, "system.policy")
	for _, s := range seeds {
		if src, err := os.ReadFile(s); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("module a\n binary x\n ring 1\n args \"\\x00\" \"#\"\nend"))
	f.Add([]byte("module a\nend\nend\n\"unterminated"))
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := Parse("fuzz", src)
		if err != nil {
			if m != nil {
				t.Fatalf("Parse returned a manifest and an error: %v", err)
			}
			if _, ok := err.(Errors); !ok {
				t.Fatalf("error is %T, not Errors", err)
			}
			return
		}
		if err := Validate(m); err != nil {
			t.Fatalf("parsed manifest does not validate again: %v", err)
		}
		out := Format(m)
		m2, err := Parse("fuzz", out)
		if err != nil {
			t.Fatalf("formatted manifest does not parse: %v\n%s", err, out)
		}
		if a, b := Format(m2), out; string(a) != string(b) {
			t.Fatalf("format is not stable:\n%s\n---\n%s", b, a)
		}
		for i := range m.Modules {
			a, b := m.Modules[i], m2.Modules[i]
			_ = a.Rules()
			if a.Name != b.Name || a.Rules() != b.Rules() || a.Quota != b.Quota || len(a.Args) != len(b.Args) {
				t.Fatalf("module %d differs after formatting: %+v vs %+v", i, a, b)
			}
		}
	})
}
