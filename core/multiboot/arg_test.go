package multiboot

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestArg(t *testing.T) {
	tests := []struct {
		cmdline, key string
		value        string
		ok           bool
	}{
		{"selftest=primes:100000 quiet", "selftest", "primes:100000", true},
		{"kernel selftest", "selftest", "", true},                // bare key at the end
		{"selftest kernel", "selftest", "", true},                // bare key at the start
		{"selftests=all selftest=one", "selftest", "one", true},  // longer key is not a match
		{"selftests=all", "selftest", "", false},                 // only a longer key
		{"selftest=all", "selftests", "", false},                 // only a shorter key
		{"xselftest=1", "selftest", "", false},                   // key must start the word
		{"  a=1    b=2  ", "b", "2", true},                       // multiple spaces
		{"a=1\tb=2\n", "b", "2", true},                           // tabs and newlines separate
		{"a= b", "a", "", true},                                  // empty value
		{"a==b", "a", "=b", true},                                // value may contain '='
		{"a=1 a=2", "a", "1", true},                              // first match wins
		{"", "a", "", false},                                     // empty command line
		{"   ", "a", "", false},                                  // only spaces
		{"a=1", "", "", false},                                   // empty key
		{"=1", "", "", false},                                    // empty key, odd word
		{"console=ttyS0,115200 root=", "root", "", true},         // empty value at the end
		{"init=/bin/sh -- x=y", "init", "/bin/sh", true},         // value ends at space
		{"build/kernel.elf x", "build/kernel.elf", "", true},     // key with punctuation
		{"ab", "abc", "", false},                                 // word shorter than key
		{"selftest=primes:100000", "selftest=primes", "", false}, // key containing '=' can't match a prefix
	}
	for _, tc := range tests {
		value, ok := Arg(tc.cmdline, tc.key)
		assert.Equal(t, tc.ok, ok, "Arg(%q, %q)", tc.cmdline, tc.key)
		assert.Equal(t, tc.value, value, "Arg(%q, %q)", tc.cmdline, tc.key)
	}
}

func TestArgReturnsSubstring(t *testing.T) {
	cmdline := "a=1 selftest=primes"
	value, ok := Arg(cmdline, "selftest")
	assert.True(t, ok)
	assert.Equal(t, addrOfString(cmdline)+13, addrOfString(value))
}
