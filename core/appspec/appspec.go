// Package appspec defines the Multiboot module command line that tells the core to run a
// program as a task. The host launcher (package boot) writes it with Format; the core reads it
// with Parse. It depends only on strings and strconv so that the core can import it.
//
// A module's command line is the whole text QEMU got for it in -initrd ("PATH ARGS..."):
//
//	PATH simpleos-app ring=N name=NAME -- ARG0 ARG1 ...
//
// Words are separated by spaces. PATH is the host path of the ELF (it cannot contain spaces:
// QEMU splits the file name at the first one); N is 1, 2 or 3; NAME is the task name (1 to
// MaxNameLen bytes of [A-Za-z0-9._-]). ARG0 is argv[0] and always equals NAME; ARG1... are the
// program's arguments. Every word after "--" is percent-encoded: space, comma, '%', control
// bytes (< 0x20, 0x7f) and non-ASCII bytes (>= 0x80) are written as %XX (upper-case hex), and
// an empty argument is written as a lone "%". Decoding accepts either case of hex digit.
package appspec

import (
	"strconv"
	"strings"
)

// Marker is the second word of every app module; modules without it (such as the kernel's own
// ELF, module 0) are not apps.
const Marker = "simpleos-app"

// MaxNameLen is the longest task name, in bytes.
const MaxNameLen = 32

// MaxLen is the longest module command line Parse accepts. The core reads Multiboot strings
// through a 4096-byte window, so a longer string would arrive truncated.
const MaxLen = 4095

// emptyArg stands for an empty argument: '%' on its own is never produced by encoding.
const emptyArg = "%"

// Spec is one app as the core sees it.
type Spec struct {
	Ring int      // 1, 2 or 3
	Name string   // task name, also argv[0]
	Args []string // argv[1:]; nil when there are none
}

// Argv returns the program's full argument vector: Name, then Args.
func (s Spec) Argv() []string {
	argv := make([]string, 0, 1+len(s.Args))
	return append(append(argv, s.Name), s.Args...)
}

// ValidName reports whether name can be a task name: 1 to MaxNameLen bytes of [A-Za-z0-9._-].
func ValidName(name string) bool {
	if name == "" || len(name) > MaxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !NameByte(name[i]) {
			return false
		}
	}
	return true
}

// NameByte reports whether b may appear in a task name.
func NameByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		b == '.' || b == '_' || b == '-'
}

// Format returns the module command line for the program at path. path must not contain
// spaces, s.Ring must be 1..3 and s.Name must satisfy ValidName; otherwise Parse rejects the
// result.
func Format(path string, s Spec) string {
	var b strings.Builder
	b.WriteString(path)
	b.WriteString(" " + Marker + " ring=")
	b.WriteString(strconv.Itoa(s.Ring))
	b.WriteString(" name=")
	b.WriteString(s.Name)
	b.WriteString(" --")
	for _, a := range s.Argv() {
		b.WriteByte(' ')
		encode(&b, a)
	}
	return b.String()
}

// Parse reads an app module's command line. ok is false for modules that are not apps (no
// Marker as the second word) and for malformed ones: bad ring or name, missing "--", ARG0
// missing or different from the name, a bad %-escape, a raw byte that must be encoded, or a
// string longer than MaxLen.
func Parse(module string) (s Spec, ok bool) {
	if len(module) > MaxLen {
		return Spec{}, false
	}
	words := fields(module)
	// PATH, marker, ring=, name=, --, ARG0
	if len(words) < 6 || words[1] != Marker || words[4] != "--" {
		return Spec{}, false
	}
	switch words[2] {
	case "ring=1":
		s.Ring = 1
	case "ring=2":
		s.Ring = 2
	case "ring=3":
		s.Ring = 3
	default:
		return Spec{}, false
	}
	name, found := strings.CutPrefix(words[3], "name=")
	if !found || !ValidName(name) {
		return Spec{}, false
	}
	s.Name = name
	argv := words[5:]
	if arg0, ok := decode(argv[0]); !ok || arg0 != name {
		return Spec{}, false
	}
	if len(argv) > 1 {
		s.Args = make([]string, len(argv)-1)
		for i, w := range argv[1:] {
			a, ok := decode(w)
			if !ok {
				return Spec{}, false
			}
			s.Args[i] = a
		}
	}
	return s, true
}

// fields splits s at runs of spaces.
func fields(s string) []string {
	var words []string
	for _, w := range strings.Split(s, " ") {
		if w != "" {
			words = append(words, w)
		}
	}
	return words
}

// mustEncode reports whether byte b is written as %XX.
func mustEncode(b byte) bool {
	return b <= ' ' || b == ',' || b == '%' || b >= 0x7f
}

const hexDigits = "0123456789ABCDEF"

func encode(b *strings.Builder, s string) {
	if s == "" {
		b.WriteString(emptyArg)
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if mustEncode(c) {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		} else {
			b.WriteByte(c)
		}
	}
}

func decode(w string) (string, bool) {
	if w == emptyArg {
		return "", true
	}
	if !strings.Contains(w, "%") {
		for i := 0; i < len(w); i++ {
			if mustEncode(w[i]) {
				return "", false
			}
		}
		return w, true
	}
	var b strings.Builder
	b.Grow(len(w))
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '%':
			if i+2 >= len(w) {
				return "", false
			}
			hi, ok1 := unhex(w[i+1])
			lo, ok2 := unhex(w[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
		case mustEncode(c):
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
