package abi

import (
	"errors"
	"fmt"
)

// NameMax is the longest name the kernel keeps, in bytes: endpoint, event and content-file
// names. The policy validator refuses longer ones, so nothing is ever cut short.
const NameMax = 32

// Name is a name as the kernel keeps it, in place (no pointers: kernel tables hold it by
// value). Its bytes are NameByte characters; Len is 1 to NameMax for a valid name.
type Name struct {
	Len   uint8
	Bytes [NameMax]byte
}

// NameByte reports whether c may appear in a name: a-z, 0-9, '_', '-' and '.'. Nothing a
// terminal or a line-oriented reader could take for a separator or a control character.
//
//go:nosplit
func NameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

// Valid reports whether n has 1 to NameMax name bytes.
//
//go:nosplit
func (n *Name) Valid() bool {
	if n.Len == 0 || n.Len > NameMax {
		return false
	}
	for i := 0; i < int(n.Len) && i < NameMax; i++ {
		if !NameByte(n.Bytes[i]) {
			return false
		}
	}
	return true
}

// Equal reports whether n and o are the same name: the one comparison of names in the tree.
//
//go:nosplit
func (n *Name) Equal(o *Name) bool {
	if n.Len != o.Len || n.Len > NameMax {
		return false
	}
	for i := 0; i < int(n.Len) && i < NameMax; i++ {
		if n.Bytes[i] != o.Bytes[i] {
			return false
		}
	}
	return true
}

// String returns the name's bytes (goroutine context: it allocates).
func (n *Name) String() string {
	if n.Len > NameMax {
		return ""
	}
	return string(n.Bytes[:n.Len])
}

// CheckName explains why s is not a name the kernel accepts, or returns nil.
func CheckName(s string) error {
	switch {
	case s == "":
		return errors.New("empty name")
	case len(s) > NameMax:
		return fmt.Errorf("name %q has %d bytes: at most %d", s, len(s), NameMax)
	}
	for i := 0; i < len(s); i++ {
		if !NameByte(s[i]) {
			return fmt.Errorf("name %q: byte %d (%q) is not one of a-z, 0-9, _, - and .", s, i, s[i])
		}
	}
	return nil
}

// MakeName returns s as a Name; ok is false if CheckName refuses it.
func MakeName(s string) (n Name, ok bool) {
	if CheckName(s) != nil {
		return Name{}, false
	}
	n.Len = uint8(copy(n.Bytes[:], s))
	return n, true
}

// MaxPolicyNames bounds each name list of a policy module (serves, calls, events, publishes,
// content): the core's grant tables hold no more, and the policy checker refuses more.
const MaxPolicyNames = 8
